//! Property tests on the frame decoder and message decoding: arbitrary bytes never panic or
//! over-allocate, encoded frames decode back whatever the split points, oversize headers are refused
//! as soon as the header is in.
use bytes::BytesMut;
use gflab_agent::frame::{self, FrameError, MAX_FRAME_LEN};
use gflab_agent::proto::{ClientMsg, ServerMsg};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut buf = BytesMut::from(&data[..]);
        loop {
            match frame::decode(&mut buf) {
                Ok(Some(payload)) => {
                    prop_assert!(payload.len() <= MAX_FRAME_LEN);
                    // Message decoding of junk is an error or a message, never a panic.
                    let _ = frame::decode_msg::<ClientMsg>(&payload);
                    let _ = frame::decode_msg::<ServerMsg>(&payload);
                }
                Ok(None) => break,
                Err(FrameError::TooLarge { len, .. }) => {
                    prop_assert!(len > MAX_FRAME_LEN);
                    break;
                }
                Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
            }
        }
        // Never reserves more than one maximal frame.
        prop_assert!(buf.capacity() <= 2 * data.len() + 64);
    }

    #[test]
    fn frames_round_trip_across_any_split(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8),
        splits in proptest::collection::vec(1usize..64, 1..40),
    ) {
        let mut wire = BytesMut::new();
        for p in &payloads {
            frame::encode(p, &mut wire).unwrap();
        }
        let wire = wire.freeze();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut pos = 0;
        let mut i = 0;
        while pos < wire.len() {
            let step = splits[i % splits.len()].min(wire.len() - pos);
            buf.extend_from_slice(&wire[pos..pos + step]);
            pos += step;
            i += 1;
            while let Some(p) = frame::decode(&mut buf).unwrap() {
                out.push(p.to_vec());
            }
        }
        prop_assert_eq!(out, payloads);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn oversize_headers_are_refused_from_the_header_alone(len in (MAX_FRAME_LEN as u32 + 1)..=u32::MAX) {
        let mut buf = BytesMut::from(&len.to_be_bytes()[..]);
        let refused = matches!(frame::decode(&mut buf), Err(FrameError::TooLarge { .. }));
        prop_assert!(refused);
        prop_assert!(buf.capacity() < 1024);
    }

    #[test]
    fn messages_round_trip(id in any::<u64>(), bytes in any::<u32>(), chunk in proptest::collection::vec(any::<u8>(), 0..200)) {
        for msg in [
            ClientMsg::Credit { id, bytes },
            ClientMsg::Cancel { id },
            ClientMsg::Data { id, chunk: chunk.clone() },
        ] {
            let mut wire = BytesMut::new();
            frame::encode_msg(&msg, &mut wire).unwrap();
            let payload = frame::decode(&mut wire).unwrap().unwrap();
            let back: ClientMsg = frame::decode_msg(&payload).unwrap();
            prop_assert_eq!(format!("{back:?}"), format!("{msg:?}"));
        }
    }
}

#[test]
fn encode_refuses_oversize_payloads() {
    let big = vec![0u8; MAX_FRAME_LEN + 1];
    let mut out = BytesMut::new();
    assert!(matches!(
        frame::encode(&big, &mut out),
        Err(FrameError::TooLarge { .. })
    ));
    assert!(out.is_empty());
}

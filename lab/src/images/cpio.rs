//! A tar → cpio "newc" converter: the VM's root filesystem comes out of mmdebstrap as a tar, and the
//! kernel unpacks a newc archive as its initramfs.
//!
//! Hard links become symbolic links to their absolute target (the kernel's unpacker links only
//! entries it has seen with a link count above one, which a tar stream cannot tell in advance).

use std::io::{self, Read, Write};

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum CpioError {
    /// Reading the tar stream failed.
    #[error("failed to read tar entry: {0}")]
    ReadTar(#[source] io::Error),
    /// Writing the archive failed.
    #[error("failed to write cpio archive: {0}")]
    Write(#[source] io::Error),
    /// A name does not fit the format.
    #[error("failed to convert tar entry {path}: {reason}")]
    Entry {
        /// The entry's path in the tar.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What a conversion wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Entries written (the trailer not counted).
    pub entries: u64,
    /// Entries left out by the filter or because their type has no newc form.
    pub skipped: u64,
    /// Bytes of file contents written.
    pub data_bytes: u64,
}

const S_IFMT: u32 = 0o170000;
const S_IFIFO: u32 = 0o010000;
const S_IFCHR: u32 = 0o020000;
const S_IFDIR: u32 = 0o040000;
const S_IFBLK: u32 = 0o060000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

/// Writes newc entries; keeps the byte count for padding and the next inode number.
#[derive(Debug)]
pub struct NewcWriter<W: Write> {
    /// Where the archive goes.
    out: W,
    /// Bytes written so far (newc pads headers and data to 4 bytes).
    offset: u64,
    /// Next inode number to hand out.
    next_ino: u32,
}

/// One entry's metadata.
#[derive(Debug, Clone)]
pub struct NewcEntry<'a> {
    /// Path inside the archive, without a leading `/` or `./`.
    pub name: &'a str,
    /// File type and permission bits (`S_IF*` | mode).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time (seconds).
    pub mtime: u32,
    /// Device major/minor for character and block devices.
    pub rdev: (u32, u32),
}

impl<W: Write> NewcWriter<W> {
    /// Starts an archive on `out`.
    pub fn new(out: W) -> NewcWriter<W> {
        NewcWriter {
            out,
            offset: 0,
            next_ino: 1,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), CpioError> {
        self.out.write_all(bytes).map_err(CpioError::Write)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> Result<(), CpioError> {
        let rem = (4 - (self.offset % 4) as usize) % 4;
        self.put(&[0u8; 3][..rem])
    }

    fn header(&mut self, e: &NewcEntry<'_>, size: u64) -> Result<(), CpioError> {
        let size = u32::try_from(size).map_err(|_| CpioError::Entry {
            path: e.name.to_string(),
            reason: "file larger than 4 GiB".into(),
        })?;
        if e.name.is_empty() || e.name.contains('\0') {
            return Err(CpioError::Entry {
                path: e.name.to_string(),
                reason: "empty name or NUL in name".into(),
            });
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        let nlink = if e.mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        let namesize = e.name.len() + 1;
        let head = format!(
            "070701{ino:08x}{:08x}{:08x}{:08x}{nlink:08x}{:08x}{size:08x}{:08x}{:08x}{:08x}{:08x}{namesize:08x}{:08x}",
            e.mode, e.uid, e.gid, e.mtime, 0, 0, e.rdev.0, e.rdev.1, 0
        );
        self.put(head.as_bytes())?;
        self.put(e.name.as_bytes())?;
        self.put(&[0])?;
        self.pad()
    }

    /// Writes an entry whose contents are `data` (regular files, symlink targets, or empty).
    pub fn entry(&mut self, e: &NewcEntry<'_>, data: &[u8]) -> Result<(), CpioError> {
        self.header(e, data.len() as u64)?;
        self.put(data)?;
        self.pad()
    }

    /// Writes a regular file whose `size` bytes come from `data`.
    pub fn entry_from(
        &mut self,
        e: &NewcEntry<'_>,
        size: u64,
        data: &mut dyn Read,
    ) -> Result<(), CpioError> {
        self.header(e, size)?;
        let copied = io::copy(&mut data.take(size), &mut self.out).map_err(CpioError::ReadTar)?;
        if copied != size {
            return Err(CpioError::Entry {
                path: e.name.to_string(),
                reason: format!("tar entry ended after {copied} of {size} bytes"),
            });
        }
        self.offset += size;
        self.pad()
    }

    /// Writes the trailer and returns the inner writer.
    pub fn finish(mut self) -> Result<W, CpioError> {
        let e = NewcEntry {
            name: "TRAILER!!!",
            mode: 0,
            uid: 0,
            gid: 0,
            mtime: 0,
            rdev: (0, 0),
        };
        self.header(&e, 0)?;
        self.out.flush().map_err(CpioError::Write)?;
        Ok(self.out)
    }
}

/// The archive name of a tar path: no leading `./` or `/`; `None` for the root itself.
pub fn archive_name(path: &str) -> Option<String> {
    let trimmed = path.trim_start_matches("./").trim_start_matches('/');
    let trimmed = trimmed.trim_end_matches('/');
    if trimmed.is_empty() || trimmed == "." {
        None
    } else {
        Some(trimmed.to_string())
    }
}

/// Regular files taken out of the stream by name (for example the kernel), with their contents.
pub type Grabbed = Vec<(String, Vec<u8>)>;

/// Converts a tar stream to a newc archive, keeping entries for which `keep(name)` is true; regular
/// files for which `grab(name)` is true are also returned with their contents.
pub fn tar_to_newc<R: Read, W: Write>(
    tar: R,
    out: W,
    keep: &dyn Fn(&str) -> bool,
    grab: &dyn Fn(&str) -> bool,
) -> Result<(W, Summary, Grabbed), CpioError> {
    let mut archive = tar::Archive::new(tar);
    let mut w = NewcWriter::new(out);
    let mut sum = Summary::default();
    let mut grabbed = Grabbed::new();
    for entry in archive.entries().map_err(CpioError::ReadTar)? {
        let mut entry = entry.map_err(CpioError::ReadTar)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(name) = archive_name(&raw) else {
            continue;
        };
        if grab(&name) && entry.header().entry_type().is_file() {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(CpioError::ReadTar)?;
            if keep(&name) {
                let e = NewcEntry {
                    name: &name,
                    mode: S_IFREG | (entry.header().mode().map_err(CpioError::ReadTar)? & 0o7777),
                    uid: 0,
                    gid: 0,
                    mtime: entry.header().mtime().map_err(CpioError::ReadTar)? as u32,
                    rdev: (0, 0),
                };
                w.entry(&e, &data)?;
                sum.entries += 1;
                sum.data_bytes += data.len() as u64;
            } else {
                sum.skipped += 1;
            }
            grabbed.push((name, data));
            continue;
        }
        if !keep(&name) {
            sum.skipped += 1;
            continue;
        }
        let h = entry.header();
        let perm = h.mode().map_err(CpioError::ReadTar)? & 0o7777;
        let meta = |kind: u32| -> Result<NewcEntry<'_>, CpioError> {
            Ok(NewcEntry {
                name: &name,
                mode: kind | perm,
                uid: h.uid().map_err(CpioError::ReadTar)? as u32,
                gid: h.gid().map_err(CpioError::ReadTar)? as u32,
                mtime: h.mtime().map_err(CpioError::ReadTar)? as u32,
                rdev: (
                    h.device_major().ok().flatten().unwrap_or(0),
                    h.device_minor().ok().flatten().unwrap_or(0),
                ),
            })
        };
        let link_target = || -> Result<String, CpioError> {
            let t = h.link_name_bytes().ok_or_else(|| CpioError::Entry {
                path: name.clone(),
                reason: "link without a target".into(),
            })?;
            Ok(String::from_utf8_lossy(&t).into_owned())
        };
        use tar::EntryType as T;
        match h.entry_type() {
            T::Regular | T::Continuous => {
                let size = h.size().map_err(CpioError::ReadTar)?;
                let e = meta(S_IFREG)?;
                w.entry_from(&e, size, &mut entry)?;
                sum.data_bytes += size;
            }
            T::Directory => w.entry(&meta(S_IFDIR)?, &[])?,
            T::Symlink => {
                let t = link_target()?;
                w.entry(&meta(S_IFLNK)?, t.as_bytes())?
            }
            T::Link => {
                let t = format!("/{}", archive_name(&link_target()?).unwrap_or_default());
                let mut e = meta(S_IFLNK)?;
                e.mode = S_IFLNK | 0o777;
                w.entry(&e, t.as_bytes())?
            }
            T::Char => w.entry(&meta(S_IFCHR)?, &[])?,
            T::Block => w.entry(&meta(S_IFBLK)?, &[])?,
            T::Fifo => w.entry(&meta(S_IFIFO)?, &[])?,
            _ => {
                sum.skipped += 1;
                continue;
            }
        }
        sum.entries += 1;
    }
    Ok((w.finish()?, sum, grabbed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parsed newc entry: name, mode, rdev major/minor, contents.
    type Parsed = (String, u32, (u32, u32), Vec<u8>);

    /// A reader of newc archives, to check what the writer wrote.
    fn parse(mut b: &[u8]) -> Vec<Parsed> {
        let total = b.len();
        let field = |h: &[u8], i: usize| {
            u32::from_str_radix(std::str::from_utf8(&h[6 + 8 * i..14 + 8 * i]).unwrap(), 16)
                .unwrap()
        };
        let mut out = Vec::new();
        loop {
            assert_eq!(
                &b[..6],
                b"070701",
                "bad magic at offset {}",
                total - b.len()
            );
            let h = &b[..110];
            let (mode, size, namesize) = (field(h, 1), field(h, 6) as usize, field(h, 11) as usize);
            let (maj, min) = (field(h, 9), field(h, 10));
            let name = String::from_utf8(b[110..110 + namesize - 1].to_vec()).unwrap();
            let data_at = (110 + namesize).div_ceil(4) * 4;
            let data = b[data_at..data_at + size].to_vec();
            b = &b[(data_at + size).div_ceil(4) * 4..];
            if name == "TRAILER!!!" {
                assert!(b.is_empty(), "bytes after the trailer");
                return out;
            }
            out.push((name, mode, (maj, min), data));
        }
    }

    fn tar_fixture() -> Vec<u8> {
        let mut t = tar::Builder::new(Vec::new());
        let mut add =
            |path: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: Option<&str>| {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(kind);
                h.set_mode(mode);
                h.set_size(data.len() as u64);
                h.set_mtime(1_700_000_000);
                h.set_uid(0);
                h.set_gid(0);
                if kind == tar::EntryType::Char {
                    h.set_device_major(1).unwrap();
                    h.set_device_minor(3).unwrap();
                }
                if let Some(l) = link {
                    h.set_link_name(l).unwrap();
                }
                h.set_path(path).unwrap();
                h.set_cksum();
                t.append(&h, data).unwrap();
            };
        use tar::EntryType as T;
        add("./", T::Directory, 0o755, b"", None);
        add("./usr/", T::Directory, 0o755, b"", None);
        add("./usr/bin/perl", T::Regular, 0o755, b"#!perl", None);
        add(
            "./usr/bin/perl5",
            T::Link,
            0o755,
            b"",
            Some("./usr/bin/perl"),
        );
        add("./bin", T::Symlink, 0o777, b"", Some("usr/bin"));
        add("./dev/null", T::Char, 0o666, b"", None);
        add("./usr/share/doc/x/README", T::Regular, 0o644, b"docs", None);
        add("./boot/vmlinuz-6.1", T::Regular, 0o644, b"KERNEL", None);
        add("./odd", T::Regular, 0o600, b"12345", None);
        t.into_inner().unwrap()
    }

    #[test]
    fn converts_every_kind_and_pads_to_four_bytes() {
        let keep = |n: &str| !n.starts_with("usr/share/doc") && !n.starts_with("boot/");
        let grab = |n: &str| n.starts_with("boot/vmlinuz-");
        let (out, sum, grabbed) =
            tar_to_newc(&tar_fixture()[..], Vec::new(), &keep, &grab).unwrap();
        let got = parse(&out);
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "usr",
                "usr/bin/perl",
                "usr/bin/perl5",
                "bin",
                "dev/null",
                "odd"
            ]
        );
        let by = |n: &str| got.iter().find(|e| e.0 == n).unwrap().clone();
        assert_eq!(by("usr").1, S_IFDIR | 0o755);
        assert_eq!(by("usr/bin/perl").1, S_IFREG | 0o755);
        assert_eq!(by("usr/bin/perl").3, b"#!perl");
        // A hard link becomes a symlink to the absolute target.
        assert_eq!(by("usr/bin/perl5").1 & S_IFMT, S_IFLNK);
        assert_eq!(by("usr/bin/perl5").3, b"/usr/bin/perl");
        assert_eq!(by("bin").3, b"usr/bin");
        assert_eq!(by("dev/null").1, S_IFCHR | 0o666);
        assert_eq!(by("dev/null").2, (1, 3));
        assert_eq!(by("odd").3, b"12345");
        assert_eq!(sum.entries, 6);
        assert_eq!(sum.skipped, 2);
        assert_eq!(
            grabbed,
            vec![("boot/vmlinuz-6.1".to_string(), b"KERNEL".to_vec())]
        );
        assert_eq!(out.len() % 4, 0);
    }

    #[test]
    fn truncated_tar_is_an_error_not_a_short_archive() {
        let tar = tar_fixture();
        let cut = &tar[..tar.len() / 2 + 100];
        let all = |_: &str| true;
        let none = |_: &str| false;
        let err = tar_to_newc(cut, Vec::new(), &all, &none);
        assert!(err.is_err(), "a truncated tar converted without error");
    }

    #[test]
    fn archive_names_drop_leading_dots_and_slashes() {
        assert_eq!(archive_name("./etc/x"), Some("etc/x".into()));
        assert_eq!(archive_name("/etc/"), Some("etc".into()));
        assert_eq!(archive_name("./"), None);
        assert_eq!(archive_name("."), None);
    }
}

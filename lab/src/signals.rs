//! The termination signals a long-running command turns into an orderly stop: SIGINT (Ctrl-C),
//! SIGTERM (what `timeout`, `docker stop` and CI servers send) and SIGHUP (a closed terminal).
//!
//! [`Interrupt::install`] registers all three at once, as early as possible: from then on none of
//! them is fatal, and one that arrives before anybody awaits [`Interrupt::recv`] is kept until
//! then. After the orderly stop the process exits with [`Signal::exit_code`], as a shell reports a
//! process killed by that signal.
use std::fmt;

use tokio::signal::unix::{signal, SignalKind};

/// A termination signal that [`Interrupt`] listens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGINT: Ctrl-C on the terminal.
    Interrupt,
    /// SIGTERM: the polite request to stop (`kill`, `timeout`, `docker stop`, CI servers).
    Terminate,
    /// SIGHUP: the controlling terminal went away.
    Hangup,
}

impl Signal {
    /// Every signal [`Interrupt`] listens for.
    pub const ALL: [Signal; 3] = [Signal::Interrupt, Signal::Terminate, Signal::Hangup];

    /// The conventional name (`SIGTERM`).
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// The signal number on this platform.
    pub fn number(self) -> i32 {
        self.to_nix() as i32
    }

    /// The exit code after stopping because of this signal: 128 + its number (130 for SIGINT,
    /// 143 for SIGTERM, 129 for SIGHUP), as shells report a process killed by it.
    pub fn exit_code(self) -> i32 {
        128 + self.number()
    }

    /// The same signal as `nix` names it (to send it).
    pub fn to_nix(self) -> nix::sys::signal::Signal {
        match self {
            Signal::Interrupt => nix::sys::signal::Signal::SIGINT,
            Signal::Terminate => nix::sys::signal::Signal::SIGTERM,
            Signal::Hangup => nix::sys::signal::Signal::SIGHUP,
        }
    }

    /// The kind tokio registers a handler for.
    fn kind(self) -> SignalKind {
        match self {
            Signal::Interrupt => SignalKind::interrupt(),
            Signal::Terminate => SignalKind::terminate(),
            Signal::Hangup => SignalKind::hangup(),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the signal handlers could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// Registering the handler of one signal failed.
    #[error("failed to listen for {signal}: {source}")]
    Listen {
        /// The signal.
        signal: Signal,
        /// Why.
        source: std::io::Error,
    },
}

/// Listens for SIGINT, SIGTERM and SIGHUP from the moment it is installed.
///
/// Must be installed inside a tokio runtime. The handlers stay for the life of the process (tokio
/// never restores the default action), so a second signal during an orderly stop is not fatal
/// either.
#[derive(Debug)]
pub struct Interrupt {
    /// SIGINT deliveries.
    interrupt: tokio::signal::unix::Signal,
    /// SIGTERM deliveries.
    terminate: tokio::signal::unix::Signal,
    /// SIGHUP deliveries.
    hangup: tokio::signal::unix::Signal,
    /// The first signal [`Interrupt::recv`] returned, if any.
    received: Option<Signal>,
}

impl Interrupt {
    /// Registers the handlers of all three signals.
    pub fn install() -> Result<Interrupt, SignalError> {
        let listen = |s: Signal| {
            signal(s.kind()).map_err(|source| SignalError::Listen { signal: s, source })
        };
        Ok(Interrupt {
            interrupt: listen(Signal::Interrupt)?,
            terminate: listen(Signal::Terminate)?,
            hangup: listen(Signal::Hangup)?,
            received: None,
        })
    }

    /// Resolves when one of the signals arrives (or has arrived since it was installed or last
    /// received) and tells which. Cancel-safe: dropping the future loses no signal.
    pub async fn recv(&mut self) -> Signal {
        let got = tokio::select! {
            Some(()) = self.interrupt.recv() => Signal::Interrupt,
            Some(()) = self.terminate.recv() => Signal::Terminate,
            Some(()) = self.hangup.recv() => Signal::Hangup,
            // Every stream ended (the runtime is shutting down): no signal will come.
            else => std::future::pending().await,
        };
        self.received.get_or_insert(got);
        got
    }

    /// The first signal [`Interrupt::recv`] returned, if any.
    pub fn received(&self) -> Option<Signal> {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use nix::sys::signal::raise;

    use super::*;

    /// Awaits the next signal, failing the test instead of hanging.
    async fn next(interrupt: &mut Interrupt) -> Signal {
        tokio::time::timeout(Duration::from_secs(10), interrupt.recv())
            .await
            .expect("a signal within 10 s")
    }

    #[test]
    fn exit_codes_follow_shell_conventions() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Hangup.exit_code(), 129);
        let names: Vec<String> = Signal::ALL.iter().map(Signal::to_string).collect();
        assert_eq!(names, ["SIGINT", "SIGTERM", "SIGHUP"]);
    }

    // The only test in this binary that raises signals: the handlers it installs stay for the life
    // of the process, so every raise below lands in them and never kills the test binary.
    #[tokio::test]
    async fn each_signal_is_received_and_named() {
        let mut interrupt = Interrupt::install().expect("install");
        assert_eq!(interrupt.received(), None);

        // Raised before anybody awaits: kept until `recv`.
        raise(nix::sys::signal::Signal::SIGTERM).expect("raise SIGTERM");
        assert_eq!(next(&mut interrupt).await, Signal::Terminate);
        assert_eq!(interrupt.received(), Some(Signal::Terminate));

        for s in [Signal::Hangup, Signal::Interrupt] {
            raise(s.to_nix()).expect("raise");
            assert_eq!(next(&mut interrupt).await, s);
        }
        assert_eq!(
            interrupt.received(),
            Some(Signal::Terminate),
            "the first signal stays the one that stopped the work"
        );

        // Nothing pending now: `recv` waits.
        let idle = tokio::time::timeout(Duration::from_millis(50), interrupt.recv()).await;
        assert!(idle.is_err(), "no signal was sent: {idle:?}");
    }
}

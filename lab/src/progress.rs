//! User-facing progress on stderr, kept apart from logs: a spinner per step on a terminal, plain
//! `==> ` lines otherwise (not a TTY, `CI` set, `NO_COLOR` set or `TERM=dumb`).
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Spinners on a terminal.
    Spinner,
    /// One plain line per step.
    Plain,
    /// Nothing (tests, `--quiet`).
    Silent,
}

impl Mode {
    /// Spinner on an interactive terminal, plain lines elsewhere.
    pub fn detect() -> Mode {
        let env_set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        if std::io::stderr().is_terminal() && !env_set("CI") && !env_set("NO_COLOR") && !dumb {
            Mode::Spinner
        } else {
            Mode::Plain
        }
    }
}

/// The progress reporter of one command.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// How to show it.
    mode: Mode,
}

/// One running step; finish it with [`Step::done`] (dropping it clears a spinner).
#[derive(Debug)]
pub struct Step {
    /// The spinner, in spinner mode.
    bar: Option<ProgressBar>,
    /// The step's title.
    title: String,
    /// When it started.
    start: Instant,
    /// How to show it.
    mode: Mode,
}

impl Progress {
    /// A reporter in the given mode.
    pub fn new(mode: Mode) -> Progress {
        Progress { mode }
    }

    /// A reporter for the current terminal/environment.
    pub fn detect() -> Progress {
        Progress::new(Mode::detect())
    }

    /// A reporter that prints nothing.
    pub fn silent() -> Progress {
        Progress::new(Mode::Silent)
    }

    /// Starts a step.
    pub fn step(&self, title: impl Into<String>) -> Step {
        let title = title.into();
        let bar = match self.mode {
            Mode::Spinner => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(title.clone());
                bar.enable_steady_tick(Duration::from_millis(100));
                Some(bar)
            }
            Mode::Plain => {
                eprintln!("==> {title}");
                None
            }
            Mode::Silent => None,
        };
        Step {
            bar,
            title,
            start: Instant::now(),
            mode: self.mode,
        }
    }

    /// A one-off line (a result, a notice).
    pub fn note(&self, line: impl AsRef<str>) {
        if self.mode != Mode::Silent {
            eprintln!("{}", line.as_ref());
        }
    }
}

impl Step {
    /// Shows the latest detail (a spinner message; a plain line only when `plain` is set).
    pub fn detail(&self, msg: &str, plain: bool) {
        match (&self.bar, self.mode) {
            (Some(bar), _) => bar.set_message(msg.trim().to_string()),
            (None, Mode::Plain) if plain => eprintln!("    {}", msg.trim()),
            _ => {}
        }
    }

    /// Time since the step started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Finishes the step with a result line.
    pub fn done(self, result: &str) {
        let secs = self.start.elapsed().as_secs_f64();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.mode != Mode::Silent {
            eprintln!("    {}: {result} ({secs:.1}s)", self.title);
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

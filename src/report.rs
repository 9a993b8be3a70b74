//! Human output on the terminal, shared by `build`, `check` and `serve`:
//! diagnostics in colour, the one-line build summary and the progress
//! indicator. Colours and the progress indicator appear only when stderr is
//! a terminal; colours never when `NO_COLOR` is set, the indicator never in
//! CI (`CI` set) and never for a build shorter than a second.

use crate::BuildReport;
use crate::diagnostics::{Diagnostic, Severity};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    #[default]
    Normal,
    /// Also what triggered a rebuild and where output goes.
    Verbose,
}

/// Where human output goes and how it looks.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub color: bool,
    /// Whether a progress indicator may be drawn.
    pub progress: bool,
    pub verbosity: Verbosity,
}

impl Terminal {
    /// Decides from the environment: stderr a terminal, `NO_COLOR`, `CI`.
    pub fn detect(verbosity: Verbosity) -> Self {
        let tty = std::io::stderr().is_terminal();
        Terminal::decide(
            tty,
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false"),
            verbosity,
        )
    }

    /// The decision itself, apart from the environment (for tests).
    pub fn decide(tty: bool, no_color: bool, ci: bool, verbosity: Verbosity) -> Self {
        Terminal {
            color: tty && !no_color,
            progress: tty && !ci && verbosity != Verbosity::Quiet,
            verbosity,
        }
    }

    pub fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    pub fn verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// A diagnostic as `render_human` writes it, in red or yellow on a
    /// colour terminal.
    pub fn diagnostic(&self, d: &Diagnostic) -> String {
        let text = d.render_human();
        if !self.color {
            return text;
        }
        let code = match d.severity {
            Severity::Error => "31",
            Severity::Warning => "33",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Prints diagnostics to stderr; warnings are left out when quiet.
    pub fn print_diagnostics(&self, diags: &[Diagnostic]) {
        for d in diags {
            if self.quiet() && d.severity != Severity::Error {
                continue;
            }
            eprint!("{}", self.diagnostic(d));
        }
    }

    /// `built 14 directives: 60 files (3 written, 57 unchanged), 0 warnings, in 0.21 s`
    pub fn summary(&self, report: &BuildReport) -> String {
        let line = summary_line(report);
        if self.color {
            format!("\x1b[32m{line}\x1b[0m")
        } else {
            line
        }
    }

    /// Starts the progress indicator; it shows only after a second.
    pub fn progress(&self, message: &str) -> Progress {
        Progress::start(message, self.progress)
    }
}

/// The one-line summary of a build, without colour.
pub fn summary_line(report: &BuildReport) -> String {
    format!(
        "built {} directives: {} files ({} written, {} unchanged), {} warnings, in {:.2} s",
        report.directives,
        report.pages,
        report.written,
        report.unchanged,
        report.diagnostics.len(),
        report.elapsed.as_secs_f64()
    )
}

/// A spinner on stderr that appears only if the work outlasts a second.
/// Dropping it (or [`Progress::finish`]) clears it.
pub struct Progress {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    const DELAY: Duration = Duration::from_secs(1);

    fn start(message: &str, enabled: bool) -> Self {
        if !enabled {
            return Progress {
                stop: None,
                thread: None,
            };
        }
        Self::start_on(message, Self::DELAY, ProgressDrawTarget::stderr)
    }

    /// Draws on `target` once `delay` has passed, until finished.
    fn start_on(
        message: &str,
        delay: Duration,
        target: impl FnOnce() -> ProgressDrawTarget + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<()>();
        let message = message.to_string();
        let thread = std::thread::spawn(move || {
            if rx.recv_timeout(delay) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            let bar = ProgressBar::with_draw_target(None, target());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                bar.set_style(style);
            }
            bar.set_message(message);
            bar.enable_steady_tick(Duration::from_millis(100));
            let _ = rx.recv();
            bar.finish_and_clear();
        });
        Progress {
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_and_progress_only_on_a_terminal() {
        let t = Terminal::decide(false, false, false, Verbosity::Normal);
        assert!(!t.color && !t.progress);
        let t = Terminal::decide(true, true, false, Verbosity::Normal);
        assert!(!t.color && t.progress, "NO_COLOR turns colour off only");
        let t = Terminal::decide(true, false, true, Verbosity::Normal);
        assert!(t.color && !t.progress, "no progress in CI");
        let t = Terminal::decide(true, false, false, Verbosity::Quiet);
        assert!(!t.progress, "no progress when quiet");
    }

    /// A terminal that records what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Recorder(std::sync::Arc<std::sync::Mutex<String>>);

    impl indicatif::TermLike for Recorder {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn drawn_during(work: Duration) -> String {
        let rec = Recorder::default();
        let target = {
            let rec = rec.clone();
            move || ProgressDrawTarget::term_like(Box::new(rec))
        };
        let p = Progress::start_on("building", Duration::from_millis(200), target);
        std::thread::sleep(work);
        p.finish();
        rec.0.lock().unwrap().clone()
    }

    #[test]
    fn the_indicator_appears_only_for_long_work() {
        assert!(drawn_during(Duration::from_millis(700)).contains("building"));
        assert_eq!(drawn_during(Duration::from_millis(20)), "");
    }

    #[test]
    fn a_short_task_draws_nothing() {
        let started = std::time::Instant::now();
        let p = Terminal::decide(true, false, false, Verbosity::Normal).progress("building");
        p.finish();
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}

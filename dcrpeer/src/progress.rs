//! The progress bar of a sync, on stderr when it is a terminal: headers
//! against the height the node announced (a spinner-like count when that
//! is unknown), then blocks against those asked for, with a rate rounded
//! to a whole number per second.

use std::io::IsTerminal;

use dcr_node::sync::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A sync's progress display.
pub struct Bar {
    bar: ProgressBar,
    /// The headers expected, when known: the bar's length while headers
    /// come.
    headers: Option<u64>,
}

impl Bar {
    /// A bar drawn on stderr when it is a terminal, hidden otherwise;
    /// `headers` is the number of headers expected, when known (the
    /// height the remote announced, less the locator's).
    pub fn new(headers: Option<u64>) -> Bar {
        let bar = ProgressBar::new(0);
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Bar::on(bar, headers)
    }

    fn on(bar: ProgressBar, headers: Option<u64>) -> Bar {
        if let Some(total) = headers {
            bar.set_length(total);
        }
        let bar = Bar { bar, headers };
        bar.restyle(headers.is_some());
        bar
    }

    /// A bar drawn nowhere, for the tests.
    #[cfg(test)]
    fn hidden(headers: Option<u64>) -> Bar {
        Bar::on(ProgressBar::hidden(), headers)
    }

    fn restyle(&self, with_length: bool) {
        let template = if with_length {
            "{msg:>8} [{bar:40}] {pos}/{len} {rate}"
        } else {
            "{msg:>8} {pos} {rate}"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate(s.per_sec()));
            })
            .progress_chars("=> ");
        self.bar.set_style(style);
    }

    /// Shows `p`.
    pub fn show(&self, p: Progress) {
        match p {
            Progress::Headers(n) => {
                let n = n as u64;
                self.bar.set_message("headers");
                // A node may have learned blocks since it announced its
                // height: the bar grows rather than overflows.
                if let Some(total) = self.headers {
                    self.bar.set_length(total.max(n));
                }
                self.bar.set_position(n);
            }
            Progress::Blocks { done, total } => {
                let first = self.bar.message() != "blocks";
                if first {
                    self.bar.reset();
                    self.restyle(true);
                }
                self.bar.set_length(total as u64);
                self.bar.set_position(done as u64);
                if first {
                    self.bar.set_message("blocks");
                }
            }
        }
    }

    /// Clears the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A rate as a whole number per second: `112326/s`.
pub fn rate(per_sec: f64) -> String {
    if per_sec.is_finite() && per_sec >= 0.0 {
        format!("{:.0}/s", per_sec)
    } else {
        "-/s".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headers_bar_fills_as_headers_come() {
        let b = Bar::hidden(Some(1000));
        b.show(Progress::Headers(400));
        assert_eq!((b.bar.position(), b.bar.length()), (400, Some(1000)));
        b.show(Progress::Headers(1200));
        assert_eq!((b.bar.position(), b.bar.length()), (1200, Some(1200)));
        // Then the blocks, against those asked for.
        b.show(Progress::Blocks { done: 1, total: 5 });
        assert_eq!((b.bar.position(), b.bar.length()), (1, Some(5)));
        // Without a height to aim at: a count, not a full bar.
        let b = Bar::hidden(None);
        b.show(Progress::Headers(400));
        assert_eq!(b.bar.position(), 400);
        assert_ne!(b.bar.length(), Some(400));
    }

    #[test]
    fn rates_are_rounded() {
        assert_eq!(rate(112_325.792_7), "112326/s");
        assert_eq!(rate(0.4), "0/s");
        assert_eq!(rate(f64::NAN), "-/s");
    }
}

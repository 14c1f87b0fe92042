//! The progress bar of a sync, on stderr when it is a terminal: headers
//! against the height the node announced (a spinner-like count when that
//! is unknown), then blocks against those asked for, with a rate rounded
//! to a whole number per second.

use std::io::IsTerminal;

use dcr_node::sync::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A sync's progress display: a bar for the headers, then a new one for
/// the blocks (so neither is drawn under the other's name or length).
pub struct Bar {
    bar: std::sync::Mutex<ProgressBar>,
    /// The headers expected, when known: the bar's length while headers
    /// come.
    headers: Option<u64>,
    /// Whether the bars are drawn (on a terminal), or kept for the tests.
    drawn: bool,
}

impl Bar {
    /// A bar drawn on stderr when it is a terminal, hidden otherwise;
    /// `headers` is the number of headers expected, when known (the
    /// height the remote announced, less the locator's).
    pub fn new(headers: Option<u64>) -> Bar {
        Bar::with(headers, std::io::stderr().is_terminal())
    }

    fn with(headers: Option<u64>, drawn: bool) -> Bar {
        let bar = Bar::phase(drawn, headers, "headers");
        Bar {
            bar: std::sync::Mutex::new(bar),
            headers,
            drawn,
        }
    }

    /// A bar drawn nowhere, for the tests.
    #[cfg(test)]
    fn hidden(headers: Option<u64>) -> Bar {
        Bar::with(headers, false)
    }

    /// A bar for one phase, its length (when known), style and name set
    /// before it is first drawn.
    fn phase(drawn: bool, length: Option<u64>, name: &'static str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::hidden());
        let template = match length {
            Some(_) => "{msg:>8} [{bar:40}] {pos}/{len} {rate}",
            None => "{msg:>8} {pos} {rate}",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate(s.per_sec()));
            })
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(name);
        if drawn {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar
    }

    /// Shows `p`.
    pub fn show(&self, p: Progress) {
        let Ok(mut bar) = self.bar.lock() else { return };
        match p {
            Progress::Headers(n) => {
                let n = n as u64;
                // A node may have learned blocks since it announced its
                // height: the bar grows rather than overflows.
                if let Some(total) = self.headers {
                    bar.set_length(total.max(n));
                }
                bar.set_position(n);
            }
            Progress::Blocks { done, total } => {
                if bar.message() != "blocks" {
                    bar.finish_and_clear();
                    *bar = Bar::phase(self.drawn, Some(total as u64), "blocks");
                }
                if bar.length() != Some(total as u64) {
                    bar.set_length(total as u64);
                }
                bar.set_position(done as u64);
            }
        }
    }

    /// Clears the bar from the terminal.
    pub fn finish(&self) {
        if let Ok(bar) = self.bar.lock() {
            bar.finish_and_clear();
        }
    }

    #[cfg(test)]
    fn counts(&self) -> (u64, Option<u64>) {
        let bar = self.bar.lock().unwrap();
        (bar.position(), bar.length())
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
        assert_eq!(b.counts(), (0, Some(1000)));
        b.show(Progress::Headers(400));
        assert_eq!(b.counts(), (400, Some(1000)));
        b.show(Progress::Headers(1200));
        assert_eq!(b.counts(), (1200, Some(1200)));
        // Then the blocks, against those asked for.
        b.show(Progress::Blocks { done: 1, total: 5 });
        assert_eq!(b.counts(), (1, Some(5)));
        // Without a height to aim at: a count, not a full bar.
        let b = Bar::hidden(None);
        b.show(Progress::Headers(400));
        assert_eq!(b.counts(), (400, None));
    }

    #[test]
    fn rates_are_rounded() {
        assert_eq!(rate(112_325.792_7), "112326/s");
        assert_eq!(rate(0.4), "0/s");
        assert_eq!(rate(f64::NAN), "-/s");
    }
}

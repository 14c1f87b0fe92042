//! Logs on stderr (`tracing`), coloured only where colour is read: on a
//! terminal, unless `NO_COLOR` is set (<https://no-color.org>) or
//! `--color` says otherwise. A `RUST_LOG` that does not parse is a
//! warning, naming what was ignored, not silence.

use std::ffi::OsString;
use std::io::IsTerminal;

use tracing_subscriber::filter::{Directive, EnvFilter, LevelFilter};

/// When to colour (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set to something.
    #[default]
    Auto,
    /// Always, even into a pipe or file.
    Always,
    /// Never.
    Never,
}

impl Color {
    /// The `--color` of a command line not yet parsed (the last one given
    /// wins, as clap reads it), for clap's own help and errors. A value
    /// clap will refuse counts as `auto` here.
    pub fn from_args(args: &[OsString]) -> Color {
        let mut color = Color::Auto;
        let mut next_is_value = false;
        for a in args.iter().skip(1) {
            let Some(a) = a.to_str() else {
                next_is_value = false;
                continue;
            };
            if a == "--" {
                break;
            }
            let value = if next_is_value {
                Some(a)
            } else {
                a.strip_prefix("--color=")
            };
            next_is_value = a == "--color";
            if let Some(v) = value {
                color = <Color as clap::ValueEnum>::from_str(v, false).unwrap_or(Color::Auto);
            }
        }
        color
    }

    /// The same choice for clap, which detects terminals and `NO_COLOR`
    /// itself for `auto`.
    pub fn for_clap(self) -> clap::ColorChoice {
        match self {
            Color::Auto => clap::ColorChoice::Auto,
            Color::Always => clap::ColorChoice::Always,
            Color::Never => clap::ColorChoice::Never,
        }
    }

    /// Whether to colour what goes to a stream that is a terminal or not
    /// (`terminal`), with `NO_COLOR` as given.
    pub fn applies(self, terminal: bool, no_color: Option<&OsString>) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            // NO_COLOR counts when set to anything but the empty string.
            Color::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }
}

/// The levels a `RUST_LOG` directive names.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// The crates whose logs this program prints (a directive's target matches
/// a log's target by prefix).
const TARGETS: [&str; 8] = [
    "dcrpeer", "dcr_peer", "dcr_node", "dcr_wire", "dcr_spv", "dcr_gcs", "tokio", "mio",
];

/// A bare word (`RUST_LOG=verbose`) that parses as a target, yet names no
/// level and no target that logs here: most likely a mistyped level.
fn unknown_target(directive: &str) -> bool {
    let bare = !directive.contains(['=', '[', '{']);
    let word = directive.to_ascii_lowercase();
    bare && !LEVELS.contains(&word.as_str())
        && !TARGETS
            .iter()
            .any(|t| t.starts_with(directive) || directive.starts_with(t))
}

/// The log filter of `RUST_LOG` (`warn` when unset): the directives that
/// parse, and a warning for each one that does not.
pub fn filter(rust_log: Option<&str>) -> (EnvFilter, Vec<String>) {
    let mut warnings = Vec::new();
    let mut filter = EnvFilter::default().add_directive(LevelFilter::WARN.into());
    let Some(text) = rust_log else {
        return (filter, warnings);
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<Directive>() {
            Ok(d) => {
                if unknown_target(part) {
                    warnings.push(format!(
                        "RUST_LOG: {part:?} is neither a level ({}) nor a target of this \
                         program ({}): it turns on the logs of a target of that name",
                        LEVELS.join(", "),
                        TARGETS.join(", ")
                    ));
                }
                filter = filter.add_directive(d)
            }
            Err(e) => warnings.push(format!("RUST_LOG: ignoring {part:?}: {e}")),
        }
    }
    (filter, warnings)
}

/// Starts logging to stderr, coloured as `color` and the terminal say;
/// warns (on stderr) of the parts of `RUST_LOG` ignored.
pub fn init(color: Color) {
    let rust_log = std::env::var_os("RUST_LOG");
    let (filter, mut warnings) = match rust_log.as_deref().map(|v| v.to_str()) {
        None => filter(None),
        Some(Some(text)) => filter(Some(text)),
        Some(None) => {
            let (f, _) = filter(None);
            (f, vec!["RUST_LOG: ignored: not UTF-8".to_string()])
        }
    };
    let ansi = color.applies(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_ref(),
    );
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_env_filter(filter)
        .init();
    for w in warnings.drain(..) {
        eprintln!("dcrpeer: warning: {w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn color_is_read_before_the_command_line_is_parsed() {
        let c = |a: &[&str]| Color::from_args(&args(a));
        assert_eq!(c(&["dcrpeer", "demo"]), Color::Auto);
        assert_eq!(c(&["dcrpeer", "--color", "never", "demo"]), Color::Never);
        assert_eq!(c(&["dcrpeer", "demo", "--color=always"]), Color::Always);
        assert_eq!(
            c(&["dcrpeer", "--color=never", "--color", "always"]),
            Color::Always
        );
        assert_eq!(c(&["dcrpeer", "--color=nope"]), Color::Auto);
        assert_eq!(c(&["dcrpeer", "--", "--color=never"]), Color::Auto);
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let set = OsString::from("1");
        let empty = OsString::new();
        assert!(Color::Auto.applies(true, None));
        assert!(Color::Auto.applies(true, Some(&empty)));
        assert!(!Color::Auto.applies(false, None));
        assert!(!Color::Auto.applies(true, Some(&set)));
        assert!(Color::Always.applies(false, Some(&set)));
        assert!(!Color::Never.applies(true, None));
    }

    #[test]
    fn a_bad_rust_log_directive_is_named_and_the_rest_kept() {
        let (f, w) = filter(Some("info,dcr_peer=nonsense,,dcrpeer=debug"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("\"dcr_peer=nonsense\""), "{w:?}");
        let text = f.to_string();
        assert!(
            text.contains("dcrpeer=debug") && text.contains("info"),
            "{text}"
        );
        assert!(filter(Some("debug")).1.is_empty());
        assert!(filter(Some("dcr_peer::peer=trace,WARN,dcr")).1.is_empty());
        let (_, w) = filter(Some("verbose"));
        assert!(w.len() == 1 && w[0].contains("neither a level"), "{w:?}");
        assert!(filter(None).1.is_empty());
    }
}

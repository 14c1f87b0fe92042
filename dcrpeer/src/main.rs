//! `dcrpeer`: the command-line tool. `dcrpeer --help` lists the commands,
//! `dcrpeer COMMAND --help` explains one.
//!
//! Every value is checked while the command line is parsed, before any
//! network work: a bad one is a usage error, exit status 2. A failure while
//! running is one line on stderr and exit status 1; Ctrl-C (SIGINT) ends a
//! command with status 130, as a shell reports a program the signal
//! stopped. Output to a closed pipe (`dcrpeer demo | head -1`) ends the
//! program quietly.

// The doc comments on the command-line types are the `--help` text, written
// for a terminal, where `[IPv6]:PORT` is notation, not a link.
#![allow(rustdoc::broken_intra_doc_links)]

/// Writes a line to stdout; a closed pipe ends the program quietly (exit 0),
/// as a reader that has seen enough (`| head -1`) is no failure.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

mod args;
mod bench;
mod capture;
mod codec;
mod connect;
mod corpus;
mod crawl;
mod demo;
mod dial;
mod interrupt;
mod jsonio;
mod listen;
mod logging;
mod manual;
mod node;
mod output;
mod progress;
mod spv;

use std::process::ExitCode;

use anyhow::anyhow;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use dcr_wire::CurrencyNet;

/// Talk to Decred nodes: sync from them, serve them, crawl the network,
/// and decode or encode wire messages.
///
/// Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) for more.
/// Colours only on a terminal unless --color says otherwise; NO_COLOR
/// turns them off. DCR_TESTDATA names the corpus folder (demo, listen,
/// node and bench use its blocks).
#[derive(Parser, Debug)]
#[command(name = "dcrpeer", version, propagate_version = true)]
pub struct Cli {
    /// When to colour the logs and the help: auto (on a terminal, unless
    /// NO_COLOR is set), always or never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    color: logging::Color,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Serve a chain on 127.0.0.1 and sync it with a second peer, in one
    /// process (no network needed).
    Demo(demo::DemoArgs),
    /// Handshake with a node, sync its headers, optionally fetch the last
    /// N blocks.
    Connect(connect::ConnectArgs),
    /// Accept peers and serve headers and blocks from a chain; print the
    /// peers coming and going until Ctrl-C.
    Listen(listen::ListenArgs),
    /// Connect to a seed, ask every peer for addresses, connect to what is
    /// learned; print the peers found.
    Crawl(crawl::CrawlArgs),
    /// Keep peers up with the connection manager and print what happens
    /// (peers connecting and leaving, bans, failed dials, blocks
    /// announced) until Ctrl-C.
    Node(node::NodeArgs),
    /// Sync as a light client: headers, every filter proven against its
    /// header, the blocks of the watched scripts; print the tip, the
    /// counts and each transaction found.
    Spv(spv::SpvArgs),
    /// Print a message as JSON: the reference's fields, and beside them
    /// ("hashes") the block and proof-of-work hashes of headers and blocks
    /// and the hashes of transactions.
    Decode(codec::DecodeArgs),
    /// Build a message (or a whole frame) from its JSON and print it as hex.
    ///
    /// Any command, in the layout decode prints (its "hashes" are ignored).
    /// Every field is required; unknown fields and numbers out of range are
    /// refused, naming the field.
    Encode(codec::EncodeArgs),
    /// Decode throughput on your data (a capture, frames, blocks as hex or
    /// raw, a folder of them) or the built-in blocks: MB/s, messages/s, ns
    /// and allocations per message, per command and level of work.
    Bench(bench::BenchArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or
    /// powershell) to standard output.
    ///
    /// bash: `dcrpeer completions bash > ~/.local/share/bash-completion/completions/dcrpeer`;
    /// zsh: into a folder of your $fpath as `_dcrpeer`; fish:
    /// `~/.config/fish/completions/dcrpeer.fish`.
    Completions(manual::CompletionsArgs),
    /// Print the manual page (roff) to standard output, or write one page
    /// per command into a folder.
    ///
    /// `dcrpeer man | man -l -` reads it; `dcrpeer man --dir DIR` writes
    /// dcrpeer.1 and dcrpeer-COMMAND.1 for installing under man1/.
    Man(manual::ManArgs),
}

/// The network option, one default for every command that talks to nodes.
#[derive(Args, Debug, Clone, Copy)]
pub struct NetArg {
    /// The network: mainnet, testnet, simnet or regnet. Its magic is on
    /// every frame and it gives the default port (9108, 19108, 18555,
    /// 18655).
    #[arg(long, value_name = "NET", default_value = "mainnet")]
    pub net: CurrencyNet,
}

fn main() -> ExitCode {
    // Usage errors: clap prints them and exits with status 2; --help and
    // --version exit 0. Its own colours follow --color too, which is read
    // before the rest of the command line.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let color = logging::Color::from_args(&args);
    let matches = Cli::command()
        .color(color.for_clap())
        .get_matches_from(&args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    logging::init(cli.color);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<interrupt::Interrupted>() => ExitCode::from(interrupt::EXIT_STATUS),
        Err(e) if e.is::<output::Usage>() => {
            eprintln!("dcrpeer: {}", output::error_text(&e));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("dcrpeer: {}", output::error_text(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Cmd) -> anyhow::Result<()> {
    // Every command that runs over time starts the runtime, and with it
    // the Ctrl-C watch, before its first line is printed.
    let rt = || -> anyhow::Result<tokio::runtime::Runtime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow!("cannot start the runtime: {e}"))?;
        interrupt::watch(&rt)?;
        Ok(rt)
    };
    match cmd {
        Cmd::Demo(a) => rt()?.block_on(interrupt::or_interrupted(demo::run(a))),
        // The runtime, and with it every peer, is gone before the capture
        // is closed.
        Cmd::Connect(a) => {
            let path = a.capture.path.clone();
            let report = !a.json;
            capture::around(path.as_deref(), report, |c| {
                rt()?.block_on(connect::run(a, c))
            })
        }
        Cmd::Listen(a) => {
            let path = a.capture.path.clone();
            let report = !a.json;
            capture::around(path.as_deref(), report, |c| {
                rt()?.block_on(listen::run(a, c))
            })
        }
        Cmd::Crawl(a) => rt()?.block_on(interrupt::or_interrupted(crawl::run(a))),
        Cmd::Node(a) => {
            let path = a.capture.path.clone();
            let report = !a.json;
            capture::around(path.as_deref(), report, |c| rt()?.block_on(node::run(a, c)))
        }
        // Following, it stops on Ctrl-C itself (the store closed, the
        // report printed).
        Cmd::Spv(a) if a.follows() => rt()?.block_on(spv::run(a)),
        Cmd::Spv(a) => rt()?.block_on(interrupt::or_interrupted(spv::run(a))),
        Cmd::Decode(a) => codec::decode(a),
        Cmd::Encode(a) => codec::encode(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Completions(a) => manual::completions(a),
        Cmd::Man(a) => manual::man(a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The README's "Every command" block, a stanza per command (its first
    /// line `dcrpeer NAME`, then indented lines).
    fn readme_stanzas() -> Vec<(String, String)> {
        let readme = include_str!("../../README.md");
        let block = readme
            .split("### Every command")
            .nth(1)
            .and_then(|r| r.split("```sh\n").nth(1))
            .and_then(|r| r.split("```").next())
            .expect("README.md has an \"Every command\" block");
        let mut stanzas: Vec<(String, String)> = Vec::new();
        for line in block.lines() {
            match line.strip_prefix("dcrpeer ") {
                Some(rest) => {
                    let name = rest.split_whitespace().next().unwrap_or_default();
                    stanzas.push((name.to_string(), line.to_string()));
                }
                None => match stanzas.last_mut() {
                    Some((_, text)) => text.push_str(line),
                    None => panic!("a line before the first command: {line:?}"),
                },
            }
        }
        stanzas
    }

    /// The README lists every command with every option, and nothing the
    /// command line does not take: the block cannot drift from `--help`.
    #[test]
    fn the_readme_lists_every_command_and_option() {
        let stanzas = readme_stanzas();
        let cli = Cli::command();
        let mut named = Vec::new();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            let (_, text) = stanzas
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("README.md lists no `dcrpeer {name}`"));
            named.push(name.to_string());
            let longs: Vec<&str> = sub
                .get_arguments()
                .filter(|a| !a.is_global_set())
                .filter_map(|a| a.get_long())
                .filter(|l| !matches!(*l, "help" | "version"))
                .collect();
            for long in &longs {
                assert!(
                    text.contains(&format!("--{long}")),
                    "README.md: `dcrpeer {name}` lacks --{long}: {text}"
                );
            }
            for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
                if let Some(long) = word.strip_prefix("--") {
                    assert!(
                        longs.contains(&long),
                        "README.md: `dcrpeer {name}` has no --{long}"
                    );
                }
            }
        }
        for (name, _) in &stanzas {
            assert!(named.contains(name), "README.md lists `dcrpeer {name}`");
        }
    }
}

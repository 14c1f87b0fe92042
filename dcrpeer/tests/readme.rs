//! The workspace README's dcrpeer tour, run: each `$ dcrpeer ...` of its
//! transcripts prints what the README shows, the demo prints the README's
//! lines (addresses and timings aside), and the README's command lists are
//! the tool's commands and options. The numbers of the other READMEs are
//! checked in `tests/tests/readme.rs`.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dcrpeer");

/// The workspace folder: the README's commands run from there.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn readme() -> String {
    let path = root().join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced blocks of `lang` in `text`, each as its lines.
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("```{lang}") {
            out.push(lines.by_ref().take_while(|l| l.trim() != "```").collect());
        }
    }
    out
}

/// A command line split as a POSIX shell splits this README's: white
/// space between words, single quotes taken literally.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => {
                out.extend(word.take());
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unclosed quote in {line}");
    out.extend(word);
    out
}

/// Runs dcrpeer with `args`: stdout then stderr, and the exit status.
fn run(args: &[String]) -> (String, i32) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(root())
        .output()
        .expect("dcrpeer runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code().expect("exit status"))
}

/// The transcripts of `text` blocks: each `$ command` with the lines it
/// printed.
fn transcripts(block: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in block {
        match l.strip_prefix("$ ") {
            Some(cmd) => out.push((cmd.to_string(), String::new())),
            None => {
                let (_, printed) = out.last_mut().expect("a transcript starts with a command");
                printed.push_str(l);
                printed.push('\n');
            }
        }
    }
    out
}

#[test]
fn the_decode_and_encode_transcripts_print_what_the_readme_shows() {
    let text = readme();
    let mut ran = 0;
    for block in blocks(&text, "text") {
        let mut status = None;
        for (cmd, shown) in transcripts(&block) {
            let argv = words(&cmd);
            let got = match argv[0].as_str() {
                "echo" if argv[1..] == ["$?"] => {
                    format!("{}\n", status.expect("a command before echo $?"))
                }
                "dcrpeer" if argv.get(1).map(String::as_str) != Some("demo") => {
                    let (printed, code) = run(&argv[1..]);
                    status = Some(code);
                    printed
                }
                // The demo (timings vary) is checked below.
                _ => continue,
            };
            assert_eq!(got.trim_end(), shown.trim_end(), "`{cmd}` in README.md");
            ran += 1;
        }
    }
    assert!(ran >= 5, "only {ran} README commands found");
}

/// A line of the demo's summary with what varies from run to run
/// (addresses, timings, where the corpus is) cut off after its label.
fn stable(line: &str) -> String {
    if let Some((chain, _)) = line.split_once(" from ") {
        return chain.to_string();
    }
    let trimmed = line.trim_start();
    for label in ["time:", "messages/s:", "MB/s:", "address ", "ping rtt "] {
        if trimmed.starts_with(label) {
            return format!("{}{label}", &line[..line.len() - trimmed.len()]);
        }
    }
    line.trim_end().to_string()
}

#[test]
fn the_demo_prints_the_readme_s_summary() {
    if dcr_tests::corpus_dir().is_none() {
        // The README's run is on the corpus chain.
        return;
    }
    let text = readme();
    let block = blocks(&text, "text")
        .into_iter()
        .find(|b| b.first() == Some(&"$ cargo run --release -p dcrpeer -- demo"))
        .expect("the README's demo run");
    let (printed, code) = run(&["demo".to_string()]);
    assert_eq!(code, 0, "{printed}");
    let got: Vec<String> = printed.lines().map(stable).collect();
    let shown: Vec<String> = block[1..].iter().map(|l| stable(l)).collect();
    assert_eq!(
        got, shown,
        "the README's demo run, against this one:\n{printed}"
    );
}

/// The commands `dcrpeer --help` lists, help aside.
fn commands() -> Vec<String> {
    let (help, code) = run(&["--help".to_string()]);
    assert_eq!(code, 0);
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_lists_every_command_and_only_real_options() {
    let text = readme();
    let commands = commands();
    // The crate table: "the `dcrpeer` command-line tool (`demo`, ...)".
    let listed = text
        .split("the `dcrpeer` command-line tool (")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .expect("the crate table's dcrpeer row");
    let listed: Vec<String> = listed
        .split(", ")
        .map(|c| c.trim_matches('`').to_string())
        .collect();
    assert_eq!(listed, commands, "README.md's crate table");

    // "Every command": one synopsis a command, each option one it takes.
    let synopsis = blocks(&text, "sh")
        .into_iter()
        .find(|b| b.first().is_some_and(|l| l.starts_with("dcrpeer demo")))
        .expect("the README's synopsis of every command");
    let mut seen = Vec::new();
    let mut help = String::new();
    for line in synopsis {
        let line = line.split('#').next().unwrap();
        let mut ws = line.split_whitespace().peekable();
        if ws.peek() == Some(&"dcrpeer") {
            ws.next();
            let cmd = ws.next().expect("a command after dcrpeer").to_string();
            help = run(&[cmd.clone(), "--help".to_string()]).0;
            seen.push(cmd);
        }
        for w in ws {
            let w = w.trim_start_matches(['[', '(', '|']);
            if let Some(opt) = w.strip_prefix("--") {
                let opt: String = opt
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                let cmd = seen.last().expect("a command first");
                assert!(
                    help.contains(&format!("--{opt}")),
                    "README.md: `dcrpeer {cmd}` has no --{opt}"
                );
            }
        }
    }
    assert_eq!(seen, commands, "README.md's synopsis of every command");
}

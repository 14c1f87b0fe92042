//! `dcrpeer`: the command-line tool. Only a placeholder until the CLI issue.

fn main() {
    eprintln!("dcrpeer: no subcommands yet (see the CLI issue)");
    std::process::exit(2);
}

//! `dcrpeer completions SHELL` and `dcrpeer man`: shell completion scripts
//! and manual pages, generated from the same command-line definition as
//! `--help`, so they cannot drift from it.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::Cli;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write dcrpeer.1 and a dcrpeer-COMMAND.1 per command into this
    /// folder (made when missing) instead of printing dcrpeer.1.
    #[arg(long, value_name = "DIR", value_parser = crate::args::out_path)]
    dir: Option<PathBuf>,
}

pub fn completions(a: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "dcrpeer", &mut out);
    write_stdout(&out)
}

pub fn man(a: ManArgs) -> anyhow::Result<()> {
    let cmd = Cli::command();
    match a.dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|e| anyhow!("cannot render the manual: {e}"))?;
            write_stdout(&out)
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| anyhow!("{}: {e}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir).map_err(|e| anyhow!("{}: {e}", dir.display()))?;
            Ok(())
        }
    }
}

/// Writes `bytes` to stdout; a closed pipe ends quietly, as for every
/// other output.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow!("cannot write output: {e}")),
    }
}

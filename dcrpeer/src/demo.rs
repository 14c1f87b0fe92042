//! `dcrpeer demo`: a chain served and synced over loopback TCP in one
//! process, and the chain `listen` and `node` serve by default.

use std::path::PathBuf;

use clap::Args;
use dcr_node::chain::{build_chain, load_chain_dir};
use dcr_node::demo::run_demo;
use serde_json::json;

use crate::args::count;
use crate::output::{print_stats, to_json};
use crate::progress::Bar;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Build a chain of N blocks (2 to 1,000,000) in memory instead of
    /// loading the corpus's.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(MIN_BUILT..=MAX_BUILT))]
    built: Option<u32>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// The fewest blocks `--built` takes: the genesis block and one header to
/// sync. With the genesis block alone the client learns no header, so it
/// cannot name the block to fetch (a chain built here has its own genesis
/// block, not the network's).
const MIN_BUILT: i64 = 2;

/// The most blocks `--built` takes. The chain is held in memory, about
/// 1 KB a block (a million: about 0.9 GB and 12 s on the build machine);
/// more would only try the user's memory (`u32::MAX` blocks asked for
/// 100 GB for the list of blocks alone, and the process aborted).
const MAX_BUILT: i64 = 1_000_000;

/// Where a chain came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFrom {
    /// The corpus in this folder.
    Corpus(PathBuf),
    /// Built in memory, as `--built` asked.
    Asked,
    /// Built in memory, as no corpus was found.
    NoCorpus,
}

impl ChainFrom {
    /// Where the chain came from, as the report says it.
    fn describe(&self) -> String {
        match self {
            ChainFrom::Corpus(dir) => format!("from {}", dir.display()),
            ChainFrom::Asked => "built in memory (--built)".to_string(),
            ChainFrom::NoCorpus => {
                "built in memory (no corpus found; set DCR_TESTDATA to its folder)".to_string()
            }
        }
    }
}

/// The demo chain: the corpus's 169 blocks when the corpus is found
/// ([`crate::corpus::find`]), else 32 blocks built in memory.
pub fn chain() -> anyhow::Result<(ChainFrom, Vec<Vec<u8>>)> {
    Ok(match crate::corpus::find()? {
        Some(dir) => {
            let blocks = load_chain_dir(&dir)?;
            (ChainFrom::Corpus(dir), blocks)
        }
        None => (ChainFrom::NoCorpus, build_chain(32)),
    })
}

pub async fn run(a: DemoArgs) -> anyhow::Result<()> {
    let (from, blocks) = match a.built {
        Some(n) => (ChainFrom::Asked, build_chain(n)),
        None => chain()?,
    };
    if !a.json {
        say!(
            "chain: {} {}",
            count(blocks.len() as u64, "block"),
            from.describe()
        );
    }
    // The server's chain is every block; the client syncs the headers
    // after genesis.
    let bar = Bar::new(Some(blocks.len().saturating_sub(1) as u64));
    let report = run_demo(blocks, |p| bar.show(p)).await?;
    bar.finish();
    let s = &report.sync;
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    if a.json {
        let chain = match &from {
            ChainFrom::Corpus(dir) => dir.display().to_string(),
            _ => "built in memory".to_string(),
        };
        let doc = json!({
            "chain": chain,
            "blocks": s.blocks,
            "headers": s.headers,
            "transactions": s.transactions,
            "bytes": s.bytes,
            "messages": s.messages,
            "seconds": secs,
            "tip": s.tip.to_string(),
            "roots": {
                "separate": s.separate_roots,
                "combined": s.combined_roots,
                "genesis": s.genesis_roots,
            },
            "client": to_json(&report.client),
            "server": to_json(&report.server),
        });
        say!("{doc}");
        return Ok(());
    }
    say!("synced over loopback TCP from an in-process serving peer");
    say!("blocks:          {}", s.blocks);
    say!("headers:         {}", s.headers);
    say!("transactions:    {}", s.transactions);
    say!("bytes:           {}", s.bytes);
    say!("time:            {:.3} ms", secs * 1e3);
    say!("messages/s:      {:.0}", s.messages as f64 / secs);
    say!("MB/s:            {:.1}", s.bytes as f64 / secs / 1e6);
    say!("tip:             {}", s.tip);
    say!(
        "checked:         every block hash, chain link and header root ({} separate-tree, {} combined, {} genesis)",
        s.separate_roots,
        s.combined_roots,
        s.genesis_roots
    );
    print_stats("client peer", &report.client);
    print_stats("server peer", &report.server);
    Ok(())
}

//! `dcrpeer`: the command-line tool.
//!
//! So far it has two subcommands that need no network:
//! - `demo`: loads a chain of real blocks (the shared corpus when present,
//!   else a small chain it builds itself), decodes every block, checks every
//!   block hash and chain link, and prints a summary with throughput. The
//!   peer-to-peer part of the demo (serving and syncing the chain over a
//!   loopback connection) comes with the peer crate.
//! - `decode`: decodes a frame or a payload given as hex or a file and prints
//!   it as JSON in the reference's field layout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use dcr_peer_examples::chain::{load_demo_chain, ChainSource};
use dcr_wire::{decode_frame, pver, Block, Command, CurrencyNet, Message};

const USAGE: &str = "usage:
  dcrpeer demo
  dcrpeer decode [--pver N] [--net mainnet|testnet|simnet|regnet] (--hex HEX | --file PATH) [--frame | --payload --command NAME]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("decode") => decode(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing subcommand\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dcrpeer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo() -> Result<(), String> {
    let (source, blocks) = load_demo_chain()?;
    match &source {
        ChainSource::Corpus(dir) => {
            println!("chain: {} blocks from {}", blocks.len(), dir.display())
        }
        ChainSource::Built => println!(
            "chain: {} blocks built in memory (no corpus found)",
            blocks.len()
        ),
    }
    let start = Instant::now();
    let mut txs = 0usize;
    let mut bytes = 0usize;
    let mut prev = None;
    for (height, raw) in blocks.iter().enumerate() {
        let block =
            Block::from_bytes(raw, pver::CURRENT).map_err(|e| format!("block {height}: {e}"))?;
        if let Some(prev) = prev {
            if block.header.prev_block != prev {
                return Err(format!(
                    "block {height} does not link to block {}",
                    height - 1
                ));
            }
        }
        let hash = block.block_hash();
        prev = Some(hash);
        txs += block.txs.len() + block.stake_txs.len();
        // Hash every transaction from its received bytes.
        for tx in block.txs.raw_txs().chain(block.stake_txs.raw_txs()) {
            std::hint::black_box(tx.full_hash());
        }
        bytes += raw.len();
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    println!("blocks:       {}", blocks.len());
    println!("transactions: {txs}");
    println!("bytes:        {bytes}");
    println!("time:         {:.3} ms", secs * 1e3);
    println!("blocks/s:     {:.0}", blocks.len() as f64 / secs);
    println!("MB/s:         {:.1}", bytes as f64 / secs / 1e6);
    if let Some(tip) = prev {
        println!("tip:          {tip}");
    }
    println!("every block hash and chain link checked");
    Ok(())
}

fn decode(args: &[String]) -> Result<(), String> {
    let mut pver = pver::CURRENT;
    let mut net = CurrencyNet::MainNet;
    let mut input: Option<Vec<u8>> = None;
    let mut command: Option<Command> = None;
    let mut payload = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--pver" => {
                pver = value()?
                    .parse()
                    .map_err(|_| "--pver takes a number".to_string())?
            }
            "--net" => {
                let v = value()?;
                net = CurrencyNet::from_name(v).ok_or_else(|| format!("unknown network {v}"))?;
            }
            "--hex" => {
                let v = value()?;
                input = Some(hex::decode(v.trim()).map_err(|e| format!("bad hex: {e}"))?);
            }
            "--file" => {
                let p = PathBuf::from(value()?);
                input = Some(std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?);
            }
            "--frame" => payload = false,
            "--payload" => payload = true,
            "--command" => {
                let v = value()?;
                command = Some(
                    Command::from_name(v.as_bytes())
                        .ok_or_else(|| format!("unknown command {v}"))?,
                );
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let input = input.ok_or("give the bytes with --hex or --file")?;
    let msg: Message<'_> = if payload {
        let command = command.ok_or("--payload needs --command")?;
        Message::decode(command, &input, pver)
            .map_err(|e| format!("cannot decode {command}: {e}"))?
    } else {
        let (msg, used) =
            decode_frame(&input, net, pver).map_err(|e| format!("cannot decode frame: {e}"))?;
        if used != input.len() {
            eprintln!(
                "dcrpeer: note: {} bytes after the frame ignored",
                input.len() - used
            );
        }
        msg
    };
    let out = serde_json::json!({ "command": msg.command().as_str(), "fields": msg.to_json() });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    );
    Ok(())
}

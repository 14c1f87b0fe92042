//! `dcrpeer bench`: decode throughput on the user's data, at three levels
//! of work, per command: MB/s, messages/s, ns and allocations per message;
//! beside the reference's figures on the same messages with `--reference`.
//!
//! Timing: per figure (a data set's messages of one command at one level),
//! whole passes over the messages run for a warm-up of a quarter of the
//! figure's time, then in samples of at least 1 ms each (`--sample-time`)
//! until both the figure's time has passed and five samples are taken.
//! The figure's time is the run's budget (0.5 s; `--time`) over its
//! figures, warm-ups included, so a run takes about as long however many
//! commands its input holds (a capture holds a dozen or more, three
//! figures each); `--min-time` gives each figure a time of its own
//! instead (0.1 s with `--quick`). The figure is the median sample's time
//! per pass. Short samples mostly fit between two of the
//! scheduler's preemptions, so on a machine shared with other work the
//! median is the CPU's own speed; samples as long as criterion's (its 20
//! samples over 2 s average 100 ms) include the time other work takes the
//! CPU, and on a busy machine read slower by as much (see BENCHMARKS.md).
//! Allocations are counted over one more pass by the counting global
//! allocator installed below (every `alloc` and `realloc` of the process;
//! nothing else runs meanwhile).

use std::hint::black_box;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use dcr_node::bench::{self, work, Clock, DataSet, Level};
use dcr_wire::CurrencyNet;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

/// Counts every allocation of the process, for the allocations per
/// message (the workspace's one counting allocator).
#[global_allocator]
static GLOBAL: dcr_counting_alloc::Counting = dcr_counting_alloc::Counting;

/// Samples per figure, at least.
const MIN_SAMPLES: usize = 5;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to decode: a frame capture, a file of frames back to back, a
    /// text file of hex lines (blocks or frames, e.g. dcrd's `getblock
    /// HASH false` answers, bare, quoted or as JSON-RPC replies), one raw
    /// block, a file of [u32 LE length][block] records, or a folder of
    /// such files.
    #[arg(value_name = "PATH", required_unless_present = "builtin")]
    input: Option<PathBuf>,
    /// Decode the built-in data instead, the criterion benches' own: the
    /// corpus's 169-block chain, mainnet block 432100 and a synthetic
    /// 1.3 MB block built from them.
    #[arg(long, conflicts_with = "input")]
    builtin: bool,
    /// The network framed input must be of: mainnet, testnet, simnet or
    /// regnet.
    #[arg(long, value_name = "NET", default_value = "mainnet")]
    net: CurrencyNet,
    /// The levels to run, comma-separated: views (zero-copy decode), owned
    /// (decode, then own every field), full (frame checksum, decode, every
    /// hash: transactions, both merkle roots, block hash).
    #[arg(long, value_name = "LEVELS", value_delimiter = ',', value_parser = level)]
    levels: Vec<Level>,
    /// Seconds the whole run's timing takes, about: each figure gets an
    /// even share, a fifth of it to warm up (and five samples at least,
    /// however long they take). The default, 0.5 s, keeps a run short
    /// whatever the input; give more, or --min-time, for steadier figures.
    #[arg(long, value_name = "SECS", value_parser = seconds, conflicts_with_all = ["min_time", "quick"])]
    time: Option<Duration>,
    /// Seconds each figure runs for, at least, after a quarter of that to
    /// warm up (instead of a share of --time).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    min_time: Option<Duration>,
    /// A short run: 0.1 s a figure (unless --min-time says otherwise).
    #[arg(long)]
    quick: bool,
    /// Milliseconds each timed sample lasts, at least (whole passes over
    /// the messages). Criterion's samples average 100 ms; on a busy
    /// machine longer samples count the time other programs take.
    #[arg(long, value_name = "MS", default_value = "1", value_parser = millis)]
    sample_time: Duration,
    /// The clock samples are timed by: wall (elapsed time, as criterion)
    /// or cpu (the process's CPU time, every thread: the work done, however
    /// busy the machine; the reference is timed by the same).
    #[arg(long, value_name = "CLOCK", default_value = "wall", value_parser = clock)]
    clock: Clock,
    /// Print one JSON object per figure, a line each.
    #[arg(long)]
    json: bool,
    /// Also run the reference's decode bench, this path (benches/go's
    /// `decodebench`, dcrd's wire package; its README says how to build
    /// it), on the same messages in the same sitting, and print the ratios.
    #[arg(long, value_name = "PATH")]
    reference: Option<PathBuf>,
}

fn level(text: &str) -> Result<Level, String> {
    Level::ALL
        .into_iter()
        .find(|l| l.as_str() == text)
        .ok_or_else(|| format!("{text:?} is not a level (views, owned, full)"))
}

fn clock(text: &str) -> Result<Clock, String> {
    match text {
        "wall" => Ok(Clock::Wall),
        "cpu" => Ok(Clock::Cpu),
        _ => Err(format!("{text:?} is not a clock (wall, cpu)")),
    }
}

fn millis(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(ms) if ms.is_finite() && ms > 0.0 && ms <= 60_000.0 => {
            Ok(Duration::from_secs_f64(ms / 1e3))
        }
        _ => Err(format!(
            "{text:?} is not a number of milliseconds above 0 and at most 60000"
        )),
    }
}

fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "{text:?} is not a number of seconds above 0 and at most 3600"
        )),
    }
}

/// One figure: a data set's messages of one command, at one level.
#[derive(Debug, Clone)]
struct Figure {
    set: String,
    command: String,
    level: Level,
    messages: usize,
    bytes: usize,
    /// Median time of one pass over the messages.
    ns_per_pass: f64,
    /// The clock that timed it.
    clock: Clock,
    samples: usize,
    allocations_per_pass: u64,
    /// Blocks whose roots match, at the full level.
    roots_match: Option<usize>,
    reference: Option<Reference>,
}

impl Figure {
    fn ns_per_message(&self) -> f64 {
        self.ns_per_pass / self.messages as f64
    }
    fn messages_per_s(&self) -> f64 {
        self.messages as f64 / (self.ns_per_pass / 1e9)
    }
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / (self.ns_per_pass / 1e9)
    }
    fn allocations_per_message(&self) -> f64 {
        self.allocations_per_pass as f64 / self.messages as f64
    }
}

/// The reference's figure for the same messages.
#[derive(Debug, Clone)]
struct Reference {
    /// The reference's level: "decode" (its only decode makes owned
    /// messages) or "full".
    level: String,
    ns_per_pass: f64,
    allocations_per_pass: f64,
}

/// The whole run's timing when neither `--time` nor `--min-time` says.
const DEFAULT_BUDGET: Duration = Duration::from_millis(500);

/// Each figure's time: its own (`--min-time`, `--quick`), or an even share
/// of the run's budget, of which a fifth goes to the warm-up (which lasts
/// a quarter of the figure's time).
fn figure_time(a: &BenchArgs, figures: usize) -> Duration {
    match (a.min_time, a.quick) {
        (Some(t), _) => t,
        (None, true) => Duration::from_millis(100),
        (None, false) => {
            let budget = a.time.unwrap_or(DEFAULT_BUDGET);
            budget.mul_f64(0.8) / figures.max(1) as u32
        }
    }
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let levels = if a.levels.is_empty() {
        Level::ALL.to_vec()
    } else {
        let mut l = a.levels.clone();
        l.sort();
        l.dedup();
        l
    };
    let sets = if a.builtin {
        let dir = crate::corpus::find()?.ok_or_else(|| {
            anyhow::anyhow!(
                "--builtin needs the corpus (its wire/blocks folder); set DCR_TESTDATA to its folder"
            )
        })?;
        bench::builtin(&dir)?
    } else {
        let path = a
            .input
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("give a PATH to read, or --builtin"))?;
        vec![bench::load(path, a.net)?]
    };
    for set in &sets {
        for w in &set.warnings {
            eprintln!("dcrpeer: warning: {}: {w}", set.name);
        }
    }
    // Every figure to measure: (set, command, message indexes, level).
    let mut plan = Vec::new();
    for (s, set) in sets.iter().enumerate() {
        for (command, idx) in set.by_command() {
            for &l in &levels {
                plan.push((s, command, idx.clone(), l));
            }
        }
    }
    let min_time = figure_time(&a, plan.len());
    let bar = progress(plan.len() as u64);
    let mut figures = Vec::with_capacity(plan.len());
    for (s, command, idx, l) in &plan {
        let set = &sets[*s];
        bar.set_message(format!("{} {command} {l}", set.name));
        let timing = Timing {
            min: min_time,
            sample: a.sample_time,
            clock: a.clock,
        };
        figures.push(measure(set, &command.to_string(), idx, *l, timing));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(path) = &a.reference {
        attach_reference(path, &sets, &mut figures, min_time, a.clock)?;
    }
    if a.json {
        for f in &figures {
            say!("{}", figure_json(f, &sets));
        }
    } else {
        let budget = (a.min_time.is_none() && !a.quick).then(|| a.time.unwrap_or(DEFAULT_BUDGET));
        print_text(
            &sets,
            &figures,
            (min_time, budget),
            a.sample_time,
            a.reference.as_deref(),
        );
    }
    Ok(())
}

fn progress(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{msg:>32} [{bar:30}] {pos}/{len} figures, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// How long a figure runs, and its samples.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// The figure's run time, at least.
    min: Duration,
    /// A sample's, at least.
    sample: Duration,
    /// What times the samples.
    clock: Clock,
}

/// Times one figure (see the module's doc for the rule).
fn measure(set: &DataSet, command: &str, idx: &[usize], level: Level, timing: Timing) -> Figure {
    let Timing { min, sample, clock } = timing;
    let pass = || {
        for &i in idx {
            let m = &set.msgs[i];
            // Every message did this work without an error when the data
            // set was read.
            let _ = black_box(work(level, m, set.payload(m)));
        }
    };
    // Allocations of one pass (which also warms the caches).
    let before = dcr_counting_alloc::allocations();
    pass();
    let allocations_per_pass = dcr_counting_alloc::allocations() - before;
    // Warm-up, which also estimates a pass's time.
    let warm = Instant::now();
    let mut passes = 0u64;
    while passes == 0 || warm.elapsed() < min / 4 {
        pass();
        passes += 1;
    }
    let per_pass = warm.elapsed() / passes as u32;
    let per_sample = (sample.as_nanos() / per_pass.as_nanos().max(1)).max(1) as u64;
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < MIN_SAMPLES || started.elapsed() < min {
        let t = clock.now();
        for _ in 0..per_sample {
            pass();
        }
        samples.push((clock.now() - t).as_nanos() as f64 / per_sample as f64);
    }
    samples.sort_by(f64::total_cmp);
    let roots_match = (level == Level::Full && command == "block").then(|| {
        idx.iter()
            .filter(|&&i| {
                let m = &set.msgs[i];
                work(level, m, set.payload(m)).is_ok_and(|c| c.roots_match == Some(true))
            })
            .count()
    });
    Figure {
        set: set.name.clone(),
        command: command.to_string(),
        level,
        messages: idx.len(),
        bytes: idx.iter().map(|&i| set.msgs[i].len).sum(),
        ns_per_pass: samples[samples.len() / 2],
        clock,
        samples: samples.len(),
        allocations_per_pass,
        roots_match,
        reference: None,
    }
}

fn figure_json(f: &Figure, sets: &[DataSet]) -> serde_json::Value {
    let source = sets
        .iter()
        .find(|s| s.name == f.set)
        .map_or("", |s| s.source.as_str());
    let mut doc = json!({
        "set": f.set,
        "source": source,
        "command": f.command,
        "level": f.level.as_str(),
        "messages": f.messages,
        "bytes": f.bytes,
        "ns_per_pass": f.ns_per_pass,
        "clock": f.clock.as_str(),
        "samples": f.samples,
        "mb_per_s": f.mb_per_s(),
        "messages_per_s": f.messages_per_s(),
        "ns_per_message": f.ns_per_message(),
        "allocations_per_message": f.allocations_per_message(),
    });
    if let Some(n) = f.roots_match {
        doc["roots_match"] = n.into();
    }
    if let Some(r) = &f.reference {
        doc["reference"] = json!({
            "level": r.level,
            "ns_per_pass": r.ns_per_pass,
            "ns_per_message": r.ns_per_pass / f.messages as f64,
            "allocations_per_message": r.allocations_per_pass / f.messages as f64,
            "ratio": r.ns_per_pass / f.ns_per_pass,
        });
    }
    doc
}

/// Prints the figures as a table per data set. `(min, budget)`: each
/// figure's time, and the run's budget it is a share of, if any.
fn print_text(
    sets: &[DataSet],
    figures: &[Figure],
    (min, budget): (Duration, Option<Duration>),
    sample: Duration,
    reference: Option<&Path>,
) {
    for set in sets {
        say!(
            "{}: {}, {}; {}",
            set.name,
            crate::args::count(set.msgs.len() as u64, "message"),
            crate::args::count(set.bytes() as u64, "payload byte"),
            set.source
        );
        let with_ref = reference.is_some();
        if with_ref {
            say!(
                "  {:<12} {:<6} {:>8} {:>10} {:>12} {:>12} {:>10} {:>14} {:>9} {:>12}",
                "command",
                "level",
                "messages",
                "MB/s",
                "messages/s",
                "ns/message",
                "allocs/msg",
                "reference ns",
                "ahead by",
                "ref allocs"
            );
        } else {
            say!(
                "  {:<12} {:<6} {:>8} {:>10} {:>12} {:>12} {:>10}",
                "command",
                "level",
                "messages",
                "MB/s",
                "messages/s",
                "ns/message",
                "allocs/msg"
            );
        }
        for f in figures.iter().filter(|f| f.set == set.name) {
            let row = format!(
                "  {:<12} {:<6} {:>8} {:>10.1} {:>12.0} {:>12.1} {:>10.1}",
                f.command,
                f.level.as_str(),
                f.messages,
                f.mb_per_s(),
                f.messages_per_s(),
                f.ns_per_message(),
                f.allocations_per_message()
            );
            match &f.reference {
                Some(r) => say!(
                    "{row} {:>14.1} {:>8.2}x {:>12.1}",
                    r.ns_per_pass / f.messages as f64,
                    r.ns_per_pass / f.ns_per_pass,
                    r.allocations_per_pass / f.messages as f64
                ),
                None if with_ref => say!("{row} {:>14} {:>9} {:>12}", "-", "-", "-"),
                None => say!("{row}"),
            }
        }
        for f in figures.iter().filter(|f| f.set == set.name) {
            if let Some(n) = f.roots_match {
                say!(
                    "  roots: {n} of {} blocks match their header (either rule)",
                    f.messages
                );
            }
        }
    }
    let share = budget.map_or(String::new(), |b| {
        format!(
            " (a share of {:.2} s over {}; --time or --min-time for more)",
            b.as_secs_f64(),
            crate::args::count(figures.len() as u64, "figure")
        )
    });
    say!(
        "each figure: the median of {MIN_SAMPLES} or more samples over {:.3} s or more (a sample: whole passes, {} ms or more, by the {} clock), after a {:.3} s warm-up{share}",
        min.as_secs_f64(),
        sample.as_secs_f64() * 1e3,
        figures.first().map_or("wall", |f| f.clock.as_str()),
        (min / 4).as_secs_f64()
    );
    if let Some(path) = reference {
        say!(
            "reference: {} on the same messages, right after; \"ahead by\" is its time over ours (its decode makes owned messages, so views and owned both face it)",
            path.display()
        );
    }
}

/// Runs the reference's decode bench on the same messages and puts its
/// figures beside ours.
fn attach_reference(
    path: &Path,
    sets: &[DataSet],
    figures: &mut [Figure],
    min: Duration,
    clock: Clock,
) -> anyhow::Result<()> {
    // Created with a fresh name and exclusively: a predictable path in a
    // shared temporary folder could be a symlink planted by another user.
    let mut input = tempfile::Builder::new()
        .prefix("dcrpeer-bench-")
        .suffix(".bin")
        .tempfile()
        .map_err(|e| anyhow::anyhow!("a temporary file for the reference: {e}"))?;
    std::io::Write::write_all(&mut input, &bench::write_reference_input(sets))
        .and_then(|()| std::io::Write::flush(&mut input))
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.path().display()))?;
    let out = std::process::Command::new(path)
        .arg("-input")
        .arg(input.path())
        .arg("-min-time")
        .arg(format!("{}ms", min.as_millis().max(1)))
        .arg("-clock")
        .arg(clock.as_str())
        .output();
    drop(input);
    let out =
        out.map_err(|e| anyhow::anyhow!("cannot run the reference {}: {e}", path.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "the reference {} failed ({}): {}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = 0;
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("the reference printed {line:?}: {e}"))?;
        let (Some(set), Some(command), Some(level), Some(ns), Some(allocs)) = (
            v["set"].as_str(),
            v["command"].as_str(),
            v["level"].as_str(),
            v["ns_per_pass"].as_f64(),
            v["allocs_per_pass"].as_f64(),
        ) else {
            anyhow::bail!("the reference printed {line:?}, lacking a field");
        };
        for f in figures.iter_mut() {
            let same_level = match level {
                "decode" => f.level != Level::Full,
                "full" => f.level == Level::Full,
                _ => false,
            };
            if f.set == set && f.command == command && same_level {
                if v["messages"].as_u64() != Some(f.messages as u64) {
                    anyhow::bail!(
                        "the reference read {} {command} messages of {set}, we {}",
                        v["messages"],
                        f.messages
                    );
                }
                f.reference = Some(Reference {
                    level: level.to_string(),
                    ns_per_pass: ns,
                    allocations_per_pass: allocs,
                });
                found += 1;
            }
        }
    }
    if found == 0 {
        anyhow::bail!(
            "the reference {} printed no figure for these messages",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn time_of(args: &[&str], figures: usize) -> Duration {
        let cli = Cli::try_parse_from([&["bench", "x"][..], args].concat()).unwrap();
        figure_time(&cli.bench, figures)
    }

    #[test]
    fn figures_share_the_run_s_budget_unless_given_a_time_of_their_own() {
        let ms = Duration::from_millis;
        // The default half second, four fifths of it timed, the rest for
        // the warm-ups: 30 figures of 13.3 ms each, 3.3 ms warm-up each.
        assert_eq!(time_of(&[], 30), ms(400) / 30);
        assert_eq!(time_of(&[], 1), ms(400));
        assert_eq!(time_of(&["--time", "10"], 8), ms(1000));
        assert_eq!(time_of(&["--min-time", "2"], 30), ms(2000));
        assert_eq!(time_of(&["--quick"], 30), ms(100));
        assert_eq!(time_of(&["--quick", "--min-time", "3"], 30), ms(3000));
    }
}

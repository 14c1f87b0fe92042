//! Frame captures (`docs/CAPTURE.md`) from the command line: `--capture
//! FILE` of `connect`, `listen` and `node`, which records every frame of
//! their peers, and `dcrpeer decode --file CAPTURE`, which prints every
//! frame of one, a line of text each, or with `--json` a JSON object each
//! (one per line).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::jsonio::{decode_json, Input};
use dcr_node::bench::{frame_header, InputError, Versions};
use dcr_peer::capture::{CaptureError, CaptureSink, CaptureStats, FlushPolicy, Records};
use dcr_peer::Hooks;
use dcr_wire::{decode_frame, Command, MESSAGE_HEADER_SIZE};
use serde_json::json;

macro_rules! say {
    ($($arg:tt)*) => {
        crate::write_line(format_args!($($arg)*))
    };
}

/// Prints every frame of the capture in `bytes`. Frames are decoded at the
/// protocol version their connection negotiated, read from the capture's
/// own version messages (the lower of the two sides'), and at the newest
/// before both are seen. A frame that does not decode is printed with why.
/// A torn tail is a warning on stderr; corruption ends the listing with an
/// error after the frames before it.
pub fn print(bytes: &[u8], json: bool) -> anyhow::Result<()> {
    let records = Records::new(bytes)?;
    let mut versions = Versions::default();
    let mut frames = 0u64;
    let mut ending: Option<CaptureError> = None;
    for (index, r) in records.enumerate() {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                ending = Some(e);
                break;
            }
        };
        frames += 1;
        let pv = versions.pver(r.conn);
        let net = r.net();
        let parsed = match net {
            Some(net) => frame_header(r.frame, net, pv).map(|h| (net, h)),
            None => Err(InputError::UnknownMagic(r.magic)),
        };
        let decoded = match &parsed {
            Ok((net, h)) => {
                if h.command == Command::Version {
                    if let Ok((msg, _)) = decode_frame(r.frame, *net, pv) {
                        versions.note(r.conn, r.direction, &msg);
                    }
                }
                decode_json(r.frame, Input::Frame(*net), pv).map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        let command = match &parsed {
            Ok((_, h)) => h.command.as_str().to_string(),
            Err(_) => command_field(r.frame),
        };
        let net_name = net.map_or_else(|| format!("{:#010x}", r.magic), |n| n.name().into());
        if json {
            let mut doc = json!({
                "index": index,
                "time": humantime::format_rfc3339_nanos(r.time()).to_string(),
                "time_ns": r.time_ns,
                "conn": r.conn,
                "direction": r.direction.as_str(),
                "net": net_name,
                "pver": pv,
                "bytes": r.frame.len(),
                "command": command,
            });
            match decoded {
                Ok(d) => {
                    doc["fields"] = d["fields"].clone();
                    if let Some(h) = d.get("hashes") {
                        doc["hashes"] = h.clone();
                    }
                }
                Err(e) => doc["error"] = e.into(),
            }
            say!("{doc}");
        } else {
            let problem = decoded
                .err()
                .map_or(String::new(), |e| format!("  undecodable: {e}"));
            say!(
                "{index:>6}  {}  conn {}  {:<8}  {net_name}  {command:<14} {:>9} bytes{problem}",
                humantime::format_rfc3339_micros(r.time()),
                r.conn,
                r.direction.as_str(),
                r.frame.len(),
            );
        }
    }
    match ending {
        None => {
            if !json {
                say!("{}", crate::args::count(frames, "frame"));
            }
            Ok(())
        }
        Some(e) if e.is_torn_tail() => {
            if !json {
                say!("{}", crate::args::count(frames, "frame"));
            }
            eprintln!("dcrpeer: warning: {e}");
            Ok(())
        }
        Some(e) => Err(anyhow::anyhow!(
            "after {}: {e}",
            crate::args::count(frames, "frame")
        )),
    }
}

/// The command field of a frame whose header does not check, as printable
/// text ("?" where there is none).
fn command_field(frame: &[u8]) -> String {
    let Some(raw) = frame.get(4..16) else {
        return "?".into();
    };
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let name: String = raw[..end]
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    if name.is_empty() || frame.len() < MESSAGE_HEADER_SIZE {
        "?".into()
    } else {
        name
    }
}

/// The capture of a `--capture FILE` option: peers wired with
/// [`CaptureFile::wire`] record into it until [`CaptureFile::close`].
pub struct CaptureFile {
    path: PathBuf,
    sink: Arc<CaptureSink>,
}

impl CaptureFile {
    /// Opens `path`, a new file or a capture to append to, with the default
    /// flush policy: records reach the file within a second (or 1 MiB), so
    /// a crash loses at most that, and leaves at most one torn record,
    /// which the next run cuts off (with a warning) before it appends.
    pub fn open(path: &Path) -> anyhow::Result<CaptureFile> {
        let (sink, torn) = CaptureSink::open_file(path, FlushPolicy::default())
            .map_err(|e| anyhow::anyhow!("capture {}: {}", path.display(), error_chain(&e)))?;
        if let Some(torn) = torn {
            eprintln!(
                "dcrpeer: warning: capture {}: {torn}; cut off, appending after it",
                path.display()
            );
        }
        Ok(CaptureFile {
            path: path.to_path_buf(),
            sink: Arc::new(sink),
        })
    }

    /// `hooks` recording into this capture.
    pub fn wire(&self, hooks: Hooks) -> Hooks {
        hooks.with_capture(self.sink.clone())
    }

    /// Writes what is left and closes the file; warns when records were
    /// dropped (the disk fell behind).
    pub fn close(&self) -> anyhow::Result<CaptureStats> {
        let stats = self
            .sink
            .close()
            .map_err(|e| anyhow::anyhow!("capture {}: {}", self.path.display(), error_chain(&e)))?;
        if stats.dropped > 0 {
            eprintln!(
                "dcrpeer: warning: capture {}: {} dropped (the disk fell behind)",
                self.path.display(),
                crate::args::count(stats.dropped, "frame")
            );
        }
        Ok(stats)
    }

    /// The line that says what was captured.
    pub fn summary(&self, stats: &CaptureStats) -> String {
        format!(
            "capture: {} of {} appended to {}",
            crate::args::count(stats.records, "frame"),
            crate::args::count(stats.connections, "connection"),
            self.path.display()
        )
    }
}

/// Runs `command` with the capture of `path` when there is one (opened
/// before, closed after, whatever the outcome); prints what was captured
/// when `report` holds.
pub fn around<T>(
    path: Option<&Path>,
    report: bool,
    command: impl FnOnce(Option<&CaptureFile>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let Some(path) = path else {
        return command(None);
    };
    let file = CaptureFile::open(path)?;
    let outcome = command(Some(&file));
    match (outcome, file.close()) {
        (Ok(v), Ok(stats)) => {
            if report {
                say!("{}", file.summary(&stats));
            }
            Ok(v)
        }
        (Ok(_), Err(e)) => Err(e),
        (Err(e), closed) => {
            if let Err(c) = closed {
                eprintln!("dcrpeer: warning: {c}");
            }
            Err(e)
        }
    }
}

/// An error and its sources, one after the other ("capture i/o failed: No
/// space left on device").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

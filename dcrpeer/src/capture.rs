//! `dcrpeer decode --file CAPTURE`: every frame of a frame capture
//! (`docs/CAPTURE.md`), a line of text each, or with `--json` a JSON object
//! each (one per line).

use crate::jsonio::{decode_json, Input};
use dcr_node::bench::{frame_header, Versions};
use dcr_peer::capture::{CaptureError, Records};
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
            None => Err(format!("unknown network magic {:#010x}", r.magic)),
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
            Err(e) => Err(e.clone()),
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

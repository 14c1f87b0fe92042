//! `dcrpeer decode` and `dcrpeer encode`: wire bytes to JSON and back.

use anyhow::anyhow;
use clap::Args;
use dcr_wire::{pver, Command};

use crate::args::{self, Source};
use crate::jsonio::{decode_json, encode_json, Input};
use crate::output::Usage;
use crate::NetArg;

/// Where the bytes to decode come from.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct BytesIn {
    /// The bytes as hex digits.
    #[arg(long, value_name = "HEX", value_parser = args::hex_bytes)]
    hex: Option<args::HexBytes>,
    /// A file holding the bytes, raw or as hex text (white space
    /// ignored); `-` reads standard input.
    #[arg(long, value_name = "PATH", value_parser = args::source)]
    file: Option<Source>,
}

#[derive(Args, Debug)]
pub struct DecodeArgs {
    #[command(flatten)]
    input: BytesIn,
    /// The protocol version to decode at.
    #[arg(long, value_name = "N", default_value_t = pver::CURRENT)]
    pver: u32,
    #[command(flatten)]
    net: NetArg,
    /// The input is a whole frame (the default).
    #[arg(long, conflicts_with = "payload")]
    frame: bool,
    /// The input is a payload alone, of the message --command names.
    #[arg(long, requires = "command")]
    payload: bool,
    /// The payload's command (with --payload), as on the wire: ping,
    /// getheaders, ...
    #[arg(long, value_name = "NAME", requires = "payload")]
    command: Option<Command>,
    /// Print JSON on one line. A frame capture (docs/CAPTURE.md) given to
    /// --file is printed frame by frame: a line of text each, or with
    /// --json a JSON object each.
    #[arg(long)]
    json: bool,
}

/// Where the JSON to encode comes from.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct JsonIn {
    /// The message as JSON: {"command": ..., "fields": {...}}.
    #[arg(long, value_name = "JSON")]
    json: Option<String>,
    /// A file holding the JSON; `-` reads standard input.
    #[arg(long, value_name = "PATH", value_parser = args::source)]
    file: Option<Source>,
}

#[derive(Args, Debug)]
pub struct EncodeArgs {
    #[command(flatten)]
    input: JsonIn,
    /// The protocol version to encode at.
    #[arg(long, value_name = "N", default_value_t = pver::CURRENT)]
    pver: u32,
    #[command(flatten)]
    net: NetArg,
    /// Print the payload alone, not a whole frame (which has no network:
    /// not with --net).
    #[arg(long, conflicts_with = "net")]
    payload: bool,
}

/// The bytes hex text in `data` stands for, when it is hex text: hex
/// digits in pairs, white space (line breaks included) anywhere between
/// pairs, nothing else. A frame never is (its first bytes, the network
/// magic, are not ASCII digits), nor a capture; a payload made of ASCII
/// hex digits alone would be read as text: give it with --hex.
pub fn hex_text(data: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    hex::decode(digits).ok()
}

pub fn decode(a: DecodeArgs) -> anyhow::Result<()> {
    let bytes = match (a.input.hex, a.input.file) {
        (Some(b), _) => b.0,
        (None, Some(src)) => {
            let raw = src.read()?;
            match hex_text(&raw) {
                Some(bytes) => bytes,
                None => raw,
            }
        }
        (None, None) => return Err(Usage("give the input with --hex or --file".into()).into()),
    };
    if a.command.is_none() && dcr_peer::capture::looks_like_capture(&bytes) {
        return crate::capture::print(&bytes, a.json);
    }
    let input = match a.command {
        Some(c) => Input::Payload(c),
        None => Input::Frame(a.net.net),
    };
    let doc = decode_json(&bytes, input, a.pver)?;
    if a.json {
        say!("{doc}");
        return Ok(());
    }
    say!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

pub fn encode(a: EncodeArgs) -> anyhow::Result<()> {
    let text = match (a.input.json, a.input.file) {
        (Some(j), _) => j,
        (None, Some(src)) => {
            String::from_utf8(src.read()?).map_err(|_| anyhow!("the JSON is not UTF-8"))?
        }
        (None, None) => return Err(Usage("give the message with --json or --file".into()).into()),
    };
    let doc = crate::jsonio::parse_json(&text).map_err(|e| anyhow!("bad JSON: {e}"))?;
    let net = (!a.payload).then_some(a.net.net);
    say!("{}", hex::encode(encode_json(&doc, a.pver, net)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_text_is_told_from_raw_bytes() {
        assert_eq!(hex_text(b"00ff\n"), Some(vec![0, 255]));
        assert_eq!(hex_text(b" 00 ff\r\n0A\n"), Some(vec![0, 255, 10]));
        assert_eq!(hex_text(b"0"), None);
        assert_eq!(hex_text(b""), None);
        assert_eq!(hex_text(b"\n"), None);
        assert_eq!(hex_text(&[0xf9, 0xb4]), None);
        assert_eq!(hex_text(b"00zz"), None);
    }
}

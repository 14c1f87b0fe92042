//! The frame-capture readers (`dcr_peer::capture`) on any bytes: the
//! in-memory reader and the stream reader (fed in chunks of varying size)
//! yield the same records and the same ending; records end where the next
//! starts; every record read is written back byte for byte by the writer
//! (when its network is one of the four); and cutting the input at any
//! point after a whole record never loses that record.
#![no_main]

use std::io::{self, Read};
use std::time::{Duration, UNIX_EPOCH};

use dcr_peer::capture::{
    self, CaptureError, CaptureWriter, FlushPolicy, Records, StreamReader, HEADER_LEN,
    RECORD_OVERHEAD,
};
use libfuzzer_sys::fuzz_target;

type Fields = (u8, u32, u32, u64, Vec<u8>);

/// Reads in chunks of 1 to 97 bytes, sizes from a seed.
struct Chunked<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step = (self.step * 7 + 3) % 97 + 1;
        let n = buf.len().min(self.data.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn ending(e: &CaptureError) -> String {
    e.to_string()
}

fn in_memory(bytes: &[u8]) -> Result<(Vec<Fields>, Option<String>, u64), String> {
    let mut records = Records::new(bytes).map_err(|e| ending(&e))?;
    let mut got = Vec::new();
    let mut err = None;
    let mut end = HEADER_LEN as u64;
    for r in records.by_ref() {
        match r {
            Ok(r) => {
                end += (RECORD_OVERHEAD + r.frame.len()) as u64;
                got.push((r.direction.byte(), r.conn, r.magic, r.time_ns, r.frame.to_vec()));
            }
            Err(e) => err = Some(ending(&e)),
        }
    }
    assert_eq!(records.offset(), end, "records end where the next starts");
    Ok((got, err, end))
}

fn streamed(bytes: &[u8], step: usize) -> Result<(Vec<Fields>, Option<String>, u64), String> {
    let mut r = StreamReader::new(Chunked { data: bytes, step }).map_err(|e| ending(&e))?;
    let mut got = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(rec)) => got.push((
                rec.direction.byte(),
                rec.conn,
                rec.magic,
                rec.time_ns,
                rec.frame.to_vec(),
            )),
            Ok(None) => return Ok((got, None, r.offset())),
            Err(e) => {
                assert!(matches!(r.next_record(), Ok(None)), "ends after an error");
                return Ok((got, Some(ending(&e)), r.offset()));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, step, rest @ ..] = data else {
        return;
    };
    // Mostly behind a valid header, so the records are reached.
    let mut bytes = Vec::with_capacity(rest.len() + HEADER_LEN);
    if mode & 1 == 0 {
        bytes.extend_from_slice(&capture::header());
    }
    bytes.extend_from_slice(rest);

    let whole = in_memory(&bytes);
    assert_eq!(whole, streamed(&bytes, usize::from(*step)), "both readers agree");
    let Ok((records, _, end)) = whole else {
        return;
    };

    // The writer writes the records read back, byte for byte.
    if records
        .iter()
        .all(|r| dcr_wire::CurrencyNet::from_magic(r.2).is_some())
    {
        let mut w = CaptureWriter::new(Vec::new(), FlushPolicy::default()).expect("to memory");
        for (dir, conn, magic, time, frame) in &records {
            let dir = capture::Direction::from_byte(*dir).expect("read back");
            let net = dcr_wire::CurrencyNet::from_magic(*magic).expect("checked");
            let time = UNIX_EPOCH + Duration::from_nanos(*time);
            w.record(dir, *conn, time, net, frame).expect("to memory");
        }
        let written = w.into_inner().expect("to memory");
        assert_eq!(written[..], bytes[..end as usize], "written back exactly");
    }

    // A cut anywhere keeps every record that ends before it.
    let cut = HEADER_LEN + usize::from(*mode >> 1) * bytes.len() / 128;
    if cut <= bytes.len() {
        if let Ok((kept, _, _)) = in_memory(&bytes[..cut]) {
            let mut offset = HEADER_LEN;
            let whole_before = records
                .iter()
                .take_while(|r| {
                    offset += RECORD_OVERHEAD + r.4.len();
                    offset <= cut
                })
                .count();
            assert!(kept.len() >= whole_before, "a cut lost a whole record");
            assert_eq!(kept[..whole_before], records[..whole_before]);
        }
    }
});

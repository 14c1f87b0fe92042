//! Committed filters as received: any bytes either decode to a filter or
//! are refused, and matching against a decoded filter never panics or
//! hangs. A filter built from items decodes and matches each of them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = [7u8; dcr_gcs::KEY_SIZE];
    if let Ok(f) = dcr_gcs::Filter::from_bytes(data) {
        let _ = f.matches(&key, b"probe");
        let _ = f.matches_any(&key, &[b"probe".as_slice(), data]);
        let _ = f.hash();
    }
    // The same bytes cut into items, built into a filter and read back.
    let items: Vec<&[u8]> = data.chunks(7).collect();
    let built = dcr_gcs::build(&key, &items);
    let f = dcr_gcs::Filter::from_bytes(&built).expect("a built filter decodes");
    for item in &items {
        assert!(f.matches(&key, item));
    }
});

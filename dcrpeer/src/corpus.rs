//! Where the shared corpus is (its blocks are the demo chain, and
//! `bench --builtin`'s data): the folder `DCR_TESTDATA` names, or one found
//! from the folder of the running binary, so an installed binary looks
//! beside its installation and a binary built in a workspace beside that
//! workspace. Never a path fixed at build time: the build's source tree
//! may be gone, or another machine's.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

/// The file that marks a corpus folder: the demo chain.
pub const MARKER: &str = "wire/blocks/chain-0-168.bin";

/// How many folders above the binary's own are searched: enough for
/// `PREFIX/bin/dcrpeer` (`PREFIX/share/dcrpeer/testdata`) and for
/// `WORKSPACE/target/PROFILE/dcrpeer` (`WORKSPACE/../shared/testdata`).
const LEVELS_UP: usize = 4;

/// Where a corpus may be, below each folder searched.
const BELOW: [&str; 3] = ["share/dcrpeer/testdata", "testdata", "shared/testdata"];

/// The corpus folder: `DCR_TESTDATA` when set (an error when it holds no
/// corpus, as a corpus named and not used would surprise), else the first
/// of `share/dcrpeer/testdata`, `testdata` or `shared/testdata` found in
/// the running binary's folder or one of the [`LEVELS_UP`] above it.
pub fn find() -> anyhow::Result<Option<PathBuf>> {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    find_from(std::env::var_os("DCR_TESTDATA").map(PathBuf::from), exe)
}

/// [`find`] with the variable's value and the binary's path given.
pub fn find_from(given: Option<PathBuf>, exe: Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(dir) = given {
        if is_corpus(&dir) {
            return Ok(Some(dir));
        }
        return Err(anyhow!(
            "DCR_TESTDATA={}: no corpus there (no {MARKER})",
            dir.display()
        ));
    }
    let Some(exe) = exe else { return Ok(None) };
    let found = exe
        .ancestors()
        .skip(1)
        .take(LEVELS_UP + 1)
        .flat_map(|dir| BELOW.iter().map(move |b| dir.join(b)))
        .find(|d| is_corpus(d));
    Ok(found)
}

fn is_corpus(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_beside_the_binary_not_where_it_was_built() {
        let root = std::env::temp_dir().join(format!("dcrpeer-corpus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let corpus = root.join("prefix/share/dcrpeer/testdata");
        std::fs::create_dir_all(corpus.join("wire/blocks")).unwrap();
        std::fs::write(corpus.join(MARKER), b"").unwrap();
        let exe = root.join("prefix/bin/dcrpeer");
        assert_eq!(find_from(None, Some(exe)).unwrap(), Some(corpus.clone()));
        // Elsewhere: none, whatever the build's source tree holds. Deep
        // enough that the search stays inside `root`, whatever the
        // temporary folder itself holds (a `shared/testdata` there).
        let elsewhere = root.join("a/b/c/d/other/bin/dcrpeer");
        assert!(elsewhere
            .ancestors()
            .nth(LEVELS_UP + 1)
            .is_some_and(|d| d.starts_with(&root)));
        assert_eq!(find_from(None, Some(elsewhere.clone())).unwrap(), None);
        assert_eq!(
            find_from(Some(corpus.clone()), Some(elsewhere)).unwrap(),
            Some(corpus)
        );
        let e = find_from(Some(root.join("nothing")), None).unwrap_err();
        assert!(e.to_string().contains("DCR_TESTDATA="), "{e}");
        let _ = std::fs::remove_dir_all(&root);
    }
}

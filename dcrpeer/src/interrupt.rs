//! Ctrl-C: the commands that run over time stop on SIGINT, close what they
//! hold (peers, the address book, a capture) and exit with status 130, as
//! a shell reports a program the signal stopped (128 + SIGINT's number 2),
//! so a script can tell an interrupted run from a finished one.

use std::sync::OnceLock;

use tokio::sync::watch;

/// The exit status of a command stopped by Ctrl-C.
pub const EXIT_STATUS: u8 = 130;

/// The error a command stopped by Ctrl-C returns: nothing failed, so
/// nothing is printed, and the exit status is [`EXIT_STATUS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Set once Ctrl-C was pressed.
static PRESSED: OnceLock<watch::Receiver<bool>> = OnceLock::new();

/// Starts watching for Ctrl-C on `rt`. The handler is in place when this
/// returns, so a signal sent once a command has printed its first line
/// (a test does this) is never the default action, which would end the
/// process without its cleanup.
pub fn watch(rt: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let _entered = rt.enter();
    let (tx, rx) = watch::channel(false);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut sigint = signal(SignalKind::interrupt())
            .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {e}"))?;
        rt.spawn(async move {
            if sigint.recv().await.is_some() {
                let _ = tx.send(true);
            }
        });
    }
    #[cfg(not(unix))]
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
        }
    });
    // A second runtime in one process (none is started) keeps the first
    // watch.
    let _ = PRESSED.set(rx);
    Ok(())
}

/// Resolves once Ctrl-C is pressed (never, when nothing watches).
pub async fn pressed() {
    let Some(rx) = PRESSED.get() else {
        return std::future::pending().await;
    };
    let mut rx = rx.clone();
    if rx.wait_for(|p| *p).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs `work` to its end, or until Ctrl-C: then it is dropped (which
/// closes its peers) and the result is [`Interrupted`].
pub async fn or_interrupted<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::select! {
        r = work => r,
        () = pressed() => Err(Interrupted.into()),
    }
}

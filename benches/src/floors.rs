//! The machine's floors beside the peer bench's figures: what the same
//! traffic costs with no peer logic at all, measured in the same run.
//!
//! - ping/pong: a blocking `std::net` ping-pong of the same frames between
//!   two threads, pinned to one core and to two cores ([`blocking_ping_pong`]),
//!   and an async echo on the same runtime layout as the peers
//!   ([`async_echo`]);
//! - inv and block: the hashing bound, the payload's BLAKE-256 checksum as
//!   timed here ([`hash_time`]), made once by the sender and once by the
//!   receiver;
//! - handshake: a bare TCP connect and accept ([`bare_connects`]).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where the two ends of [`blocking_ping_pong`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cores {
    /// Both threads pinned to the first core: each hand-over is a switch
    /// on one core, with no wake-up of another.
    One,
    /// Each thread pinned to a core of its own.
    Two,
}

/// The cores to pin to, or why not.
fn pins(cores: Cores) -> Result<(core_affinity::CoreId, core_affinity::CoreId), String> {
    let ids = core_affinity::get_core_ids().ok_or("the cores cannot be listed")?;
    match (cores, ids.as_slice()) {
        (Cores::One, [a, ..]) => Ok((*a, *a)),
        (Cores::Two, [a, b, ..]) => Ok((*a, *b)),
        _ => Err(format!("{} cores here", ids.len())),
    }
}

/// Round trips per second of a blocking ping-pong over loopback TCP
/// (`TCP_NODELAY`, as the peers): one thread writes `ping` and reads a
/// frame of `pong`'s length, the other reads `ping`'s length and writes
/// `pong`, `n` times after a warm-up of `n / 10`, both pinned as `cores`
/// says.
pub fn blocking_ping_pong(ping: &[u8], pong: &[u8], n: usize, cores: Cores) -> Result<f64, String> {
    let (server_core, client_core) = pins(cores)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let warm = n / 10;
    let (ping_len, pong_frame) = (ping.len(), pong.to_vec());
    let server = std::thread::spawn(move || -> io::Result<()> {
        core_affinity::set_for_current(server_core);
        let (mut s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        let mut buf = vec![0u8; ping_len];
        for _ in 0..warm + n {
            s.read_exact(&mut buf)?;
            s.write_all(&pong_frame)?;
        }
        Ok(())
    });
    let (ping_frame, pong_len) = (ping.to_vec(), pong.len());
    let client = std::thread::spawn(move || -> io::Result<Duration> {
        core_affinity::set_for_current(client_core);
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        let mut buf = vec![0u8; pong_len];
        let mut round = |s: &mut std::net::TcpStream| -> io::Result<()> {
            s.write_all(&ping_frame)?;
            s.read_exact(&mut buf)
        };
        for _ in 0..warm {
            round(&mut s)?;
        }
        let t = Instant::now();
        for _ in 0..n {
            round(&mut s)?;
        }
        Ok(t.elapsed())
    });
    let took = client
        .join()
        .map_err(|_| "the client thread panicked")?
        .map_err(|e| e.to_string())?;
    server
        .join()
        .map_err(|_| "the server thread panicked")?
        .map_err(|e| e.to_string())?;
    Ok(n as f64 / took.as_secs_f64())
}

/// Round trips per second of an async echo: a task that reads `ping`'s
/// length and writes `pong`, on `remote` when given (the peer bench's
/// `--split-nodes`) or on the current runtime, and the calling task
/// writing `ping` and reading `pong`'s length, `n` times after a warm-up.
pub async fn async_echo(
    ping: &[u8],
    pong: &[u8],
    n: usize,
    remote: Option<&tokio::runtime::Handle>,
) -> io::Result<f64> {
    // Bound here, registered by the task that polls it (on `remote`, its
    // runtime's reactor), as the peer bench's pairs are.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (ping_len, pong_frame) = (ping.len(), pong.to_vec());
    let echo = async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (mut s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        let mut buf = vec![0u8; ping_len];
        // Until the client closes.
        while s.read_exact(&mut buf).await.is_ok() {
            s.write_all(&pong_frame).await?;
        }
        io::Result::Ok(())
    };
    let server = match remote {
        Some(r) => r.spawn(echo),
        None => tokio::spawn(echo),
    };
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; pong.len()];
    let warm = n / 10;
    let mut t = Instant::now();
    for i in 0..warm + n {
        if i == warm {
            t = Instant::now();
        }
        s.write_all(ping).await?;
        s.read_exact(&mut buf).await?;
    }
    let took = t.elapsed();
    drop(s);
    server.await.map_err(io::Error::other)??;
    Ok(n as f64 / took.as_secs_f64())
}

/// The times of `n` bare TCP connections over loopback: connect and
/// accept (on `remote` when given), until both ends hold the socket, as
/// the handshake figure runs until both hold a peer.
pub async fn bare_connects(
    n: usize,
    remote: Option<&tokio::runtime::Handle>,
) -> io::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let t = Instant::now();
        let accept = async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let (s, _) = listener.accept().await?;
            s.set_nodelay(true)?;
            io::Result::Ok(s)
        };
        let server = match remote {
            Some(r) => r.spawn(accept),
            None => tokio::spawn(accept),
        };
        let client = tokio::net::TcpStream::connect(addr).await?;
        client.set_nodelay(true)?;
        let accepted = server.await.map_err(io::Error::other)??;
        times.push(t.elapsed());
        drop((client, accepted));
    }
    times.sort();
    Ok(times)
}

/// The time one BLAKE-256 checksum of `payload` takes here: the median of
/// samples of at least 1 ms over `budget`.
pub fn hash_time(payload: &[u8], budget: Duration) -> Duration {
    let one = {
        let t = Instant::now();
        std::hint::black_box(dcr_wire::checksum(std::hint::black_box(payload)));
        t.elapsed().max(Duration::from_nanos(1))
    };
    let per_sample = (Duration::from_millis(1).as_nanos() / one.as_nanos()).max(1) as u32;
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < 5 || started.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..per_sample {
            std::hint::black_box(dcr_wire::checksum(std::hint::black_box(payload)));
        }
        samples.push(t.elapsed() / per_sample);
    }
    samples.sort();
    samples[samples.len() / 2]
}

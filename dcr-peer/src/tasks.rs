//! The peer's tasks. They move frames between the socket and the
//! [`crate::fsm`] machines and call the listeners; every rule is decided by
//! the machines.
//!
//! - the handshake runs in the caller's task, before anything is spawned;
//! - the read task reads frames (with the idle deadline), answers pings,
//!   records what the remote knows, clears stall deadlines and calls the
//!   listeners;
//! - the write task writes queued frames, pings and pongs first, with a
//!   deadline per write, and fires the send notifications;
//! - the queue task pings on schedule, trickles inventory and checks the
//!   stall deadlines.
//!
//! All three stop when the peer's cancellation token fires; whichever sees
//! a failure first records the reason and fires it.

use std::time::{Duration, SystemTime};

use dcr_wire::{Message, Ping, Pong};
use futures_util::StreamExt;
use rand::Rng;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufWriter, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, timeout, timeout_at, Instant};
use tokio_util::codec::FramedRead;
use tracing::{debug, warn, Instrument};

use crate::codec::{CodecError, FrameCodec, RawFrame};
use crate::config::PeerEvent;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::{Handshake, Step};
use crate::listeners::dispatch;
use crate::peer::{
    encode_frame_bytes, lock, now, record_ping, Negotiated, Outgoing, Peer, Queues, State,
};

/// How often the stall deadlines are checked at most (the reference's
/// tick); shorter when the stall timeout itself is shorter.
const STALL_TICK: Duration = Duration::from_secs(15);
/// Bytes of a message that earn one more second of write time (the
/// reference's rule: the largest message gets about two more minutes).
const WRITE_BYTES_PER_SEC: usize = 256 * 1024;
/// Capacity of the write buffer that coalesces small frames.
const WRITE_BUFFER: usize = 64 * 1024;
/// A listener call longer than this is logged.
const SLOW_LISTENER: Duration = Duration::from_secs(1);

type Reader<S> = FramedRead<ReadHalf<S>, FrameCodec>;
type Writer<S> = BufWriter<WriteHalf<S>>;

/// Runs the handshake on `stream`, then spawns the peer's tasks.
pub(crate) async fn run<S>(peer: Peer, stream: S, queues: Queues) -> Result<(), PeerError>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(stream);
    let cfg = &peer.inner.config;
    let mut reader = FramedRead::new(r, FrameCodec::new(cfg.net, cfg.protocol_version));
    // The handshake writes its few frames straight to the socket: a
    // connection that never completes it costs no write buffer.
    let mut w = w;
    let deadline = Instant::now() + cfg.handshake_timeout;
    let span = tracing::debug_span!("handshake", addr = %peer.addr());
    let delayed = match timeout_at(
        deadline,
        handshake(&peer, &mut reader, &mut w).instrument(span),
    )
    .await
    {
        Ok(Ok(delayed)) => delayed,
        Ok(Err(e)) => {
            peer.disconnect_with(DisconnectReason::Handshake(e.to_string()));
            return Err(e);
        }
        Err(_) => {
            peer.disconnect_with(DisconnectReason::Handshake("timed out".into()));
            return Err(PeerError::HandshakeTimeout);
        }
    };
    reader
        .decoder_mut()
        .set_protocol_version(peer.protocol_version());
    let tasks = &peer.inner.tasks;
    let span = tracing::debug_span!("peer", id = peer.id(), addr = %peer.addr());
    tasks.spawn(read_task(peer.clone(), reader, delayed).instrument(span.clone()));
    let writer = BufWriter::with_capacity(WRITE_BUFFER, w);
    tasks.spawn(write_task(peer.clone(), writer, queues).instrument(span.clone()));
    tasks.spawn(queue_task(peer.clone()).instrument(span));
    tasks.close();
    peer.inner.config.listeners.on_verack(&peer);
    debug!(peer = %peer.addr(), pver = peer.protocol_version(), "handshake complete");
    Ok(())
}

/// The version handshake. Returns the frames that arrived early (tolerated
/// before the verack below version 12), to be handled first.
async fn handshake<S>(
    peer: &Peer,
    reader: &mut Reader<S>,
    writer: &mut WriteHalf<S>,
) -> Result<Vec<RawFrame>, PeerError>
where
    S: AsyncRead + AsyncWrite,
{
    let mut hs = Handshake::new(peer.direction(), peer.local_version());
    for m in hs.start() {
        write_now(peer, writer, &m, hs.negotiated_version()).await?;
    }
    let mut delayed = Vec::new();
    loop {
        let frame = match reader.next().await {
            Some(f) => f?,
            None => return Err(PeerError::Io(std::io::ErrorKind::UnexpectedEof.into())),
        };
        count_read(peer, &frame);
        let pv = hs.negotiated_version();
        let msg = frame.message(pv)?;
        let now_unix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let listeners = peer.inner.config.listeners.clone();
        let nonces = &peer.inner.config.nonces;
        let step = hs.on_message(
            &msg,
            now_unix,
            |n| nonces.contains(n),
            |v| listeners.on_version(peer, v),
        )?;
        if let (Message::Version(_), Some(remote)) = (&msg, hs.remote()) {
            // Fixed from here on: the version the rest of the connection uses.
            let _ = peer.inner.negotiated.set(Negotiated {
                protocol_version: hs.negotiated_version(),
                remote: remote.clone(),
            });
            lock(&peer.inner.state).counters.last_block_height = remote.starting_height;
            reader
                .decoder_mut()
                .set_protocol_version(hs.negotiated_version());
        }
        match step {
            Step::Send(msgs) => {
                for m in msgs {
                    write_now(peer, writer, &m, hs.negotiated_version()).await?;
                }
            }
            Step::Delay => delayed.push(frame.clone()),
            Step::Complete(msgs) => {
                for m in msgs {
                    write_now(peer, writer, &m, hs.negotiated_version()).await?;
                }
                return Ok(delayed);
            }
        }
    }
}

/// Writes one handshake message directly (the queues start afterwards).
async fn write_now<S: AsyncWrite>(
    peer: &Peer,
    writer: &mut WriteHalf<S>,
    msg: &Message<'_>,
    pv: u32,
) -> Result<(), PeerError> {
    let buf = encode_frame_bytes(msg, peer.inner.config.net, pv)?;
    writer.write_all(&buf).await?;
    writer.flush().await?;
    count_write(peer, buf.len(), msg.command());
    Ok(())
}

fn count_read(peer: &Peer, frame: &RawFrame) {
    {
        let mut st = lock(&peer.inner.state);
        st.counters.bytes_received += frame.wire_len() as u64;
        st.counters.messages_received += 1;
        st.counters.last_recv = Some(SystemTime::now());
    }
    peer.inner
        .config
        .listeners
        .on_read(peer, frame.wire_len(), frame.command());
}

fn count_write(peer: &Peer, bytes: usize, command: dcr_wire::Command) {
    {
        let mut st = lock(&peer.inner.state);
        st.counters.bytes_sent += bytes as u64;
        st.counters.messages_sent += 1;
        st.counters.last_send = Some(SystemTime::now());
    }
    peer.inner.config.listeners.on_write(peer, bytes, command);
}

// ---- read ---------------------------------------------------------------------

async fn read_task<S: AsyncRead>(peer: Peer, mut reader: Reader<S>, delayed: Vec<RawFrame>) {
    for frame in delayed {
        let handled = match handle_frame(&peer, &frame) {
            Ok(()) => deliver_event(&peer, &frame).await,
            Err(reason) => Err(reason),
        };
        if let Err(reason) = handled {
            peer.disconnect_with(reason);
            return;
        }
    }
    let idle = peer.inner.config.idle_timeout;
    let cancel = peer.inner.cancel.clone();
    loop {
        let deadline = Instant::now() + idle;
        let next = tokio::select! {
            _ = cancel.cancelled() => return,
            r = timeout_at(deadline, reader.next()) => r,
        };
        let reason = match next {
            Err(_) => DisconnectReason::Idle,
            Ok(None) => DisconnectReason::RemoteClosed,
            Ok(Some(Err(CodecError::Io(e)))) => DisconnectReason::Io(e.to_string()),
            Ok(Some(Err(CodecError::Wire(e)))) => DisconnectReason::Protocol(e.to_string()),
            Ok(Some(Ok(frame))) => {
                count_read(&peer, &frame);
                match handle_frame(&peer, &frame) {
                    Ok(()) => match deliver_event(&peer, &frame).await {
                        Ok(()) => continue,
                        Err(reason) => reason,
                    },
                    Err(reason) => reason,
                }
            }
        };
        peer.disconnect_with(reason);
        return;
    }
}

/// One received message: the protocol's own handling, then the listeners.
fn handle_frame(peer: &Peer, frame: &RawFrame) -> Result<(), DisconnectReason> {
    let msg = frame
        .message(peer.protocol_version())
        .map_err(|e| DisconnectReason::Protocol(format!("{}: {e}", frame.command())))?;
    debug!(command = %frame.command(), bytes = frame.wire_len(), "received");
    let t = now();
    match &msg {
        Message::Version(_) => {
            return Err(DisconnectReason::Protocol(
                "duplicate version message".into(),
            ))
        }
        Message::VerAck(_) => {
            return Err(DisconnectReason::Protocol(
                "duplicate verack message".into(),
            ))
        }
        Message::Ping(p) => {
            // Pongs jump the queue; a peer that makes us owe more than the
            // priority queue holds is not reading them and is dropped.
            let pong = Message::Pong(Pong { nonce: p.nonce });
            match peer.queue_message(&pong) {
                Ok(()) => {}
                Err(PeerError::QueueFull) => return Err(DisconnectReason::PongFlood),
                Err(_) => return Ok(()),
            }
        }
        Message::Pong(p) => {
            let mut st = lock(&peer.inner.state);
            if let Some(rtt) = st.ping.on_pong(p.nonce, t) {
                st.counters.ping_rtt = Some(rtt);
            }
        }
        Message::SendHeaders(_) => lock(&peer.inner.state).counters.wants_headers = true,
        Message::Inv(inv) => {
            let mut st = lock(&peer.inner.state);
            for iv in &inv.inv_list {
                st.known.add(*iv, t);
            }
        }
        _ => {}
    }
    {
        let mut st = lock(&peer.inner.state);
        st.stall.on_receive(&msg);
        if st.stall.pending() == 0 {
            st.stall_offset = Duration::ZERO;
        }
    }
    let started = std::time::Instant::now();
    dispatch(&*peer.inner.config.listeners, peer, &msg);
    let spent = started.elapsed();
    if spent > SLOW_LISTENER {
        warn!(peer = %peer.addr(), command = %frame.command(), ?spent, "slow listener holds up the reader");
    }
    let mut st = lock(&peer.inner.state);
    if st.stall.pending() > 0 {
        st.stall_offset += spent;
    }
    Ok(())
}

/// Hands the message to the event channel, if one is configured, waiting
/// at most the event timeout for room.
async fn deliver_event(peer: &Peer, frame: &RawFrame) -> Result<(), DisconnectReason> {
    let Some(events) = &peer.inner.config.events else {
        return Ok(());
    };
    // Decoded again: the listeners' view borrowed the frame; this one is
    // owned for the channel.
    let Ok(msg) = frame.message(peer.protocol_version()) else {
        return Ok(());
    };
    let event = PeerEvent {
        peer: peer.clone(),
        message: msg.into_owned(),
    };
    match events.try_send(event) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
        Err(mpsc::error::TrySendError::Full(event)) => {
            match timeout(peer.inner.config.event_timeout, events.send(event)).await {
                Ok(_) => Ok(()),
                Err(_) => Err(DisconnectReason::SlowConsumer),
            }
        }
    }
}

// ---- write ---------------------------------------------------------------------

async fn write_task<S: AsyncWrite>(peer: Peer, mut writer: Writer<S>, mut q: Queues) {
    let cancel = peer.inner.cancel.clone();
    let base = peer.inner.config.write_timeout;
    loop {
        let out = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            Some(o) = q.prio_rx.recv() => o,
            Some(o) = q.send_rx.recv() => o,
            else => break,
        };
        let limit = base + Duration::from_secs((out.frame.len() / WRITE_BYTES_PER_SEC) as u64);
        let result = tokio::select! {
            _ = cancel.cancelled() => break,
            // Flushed when nothing else waits, or when someone waits to
            // hear that this frame reached the kernel.
            r = timeout(limit, write_one(&mut writer, &out, out.done.is_some() || (q.prio_rx.is_empty() && q.send_rx.is_empty()))) => r,
        };
        match result {
            Ok(Ok(())) => {
                debug!(command = %out.command, bytes = out.frame.len(), "sent");
                count_write(&peer, out.frame.len(), out.command);
                if let Some(req) = &out.request {
                    let mut st = lock(&peer.inner.state);
                    if let Err(e) = st.stall.on_send(req, now()) {
                        drop(st);
                        peer.disconnect_with(DisconnectReason::Stalled(e));
                        break;
                    }
                }
                // Flushed above: the bytes are with the kernel.
                if let Some(done) = out.done {
                    let _ = done.send(Ok(()));
                }
            }
            Ok(Err(e)) => {
                peer.disconnect_with(DisconnectReason::Io(e.to_string()));
                break;
            }
            Err(_) => {
                peer.disconnect_with(DisconnectReason::WriteTimeout);
                break;
            }
        }
    }
    // Whatever is still queued is dropped: its notifications report the
    // disconnect to their waiters.
    let reason = peer
        .disconnect_reason()
        .unwrap_or(DisconnectReason::Requested);
    for o in drain(&mut q.prio_rx)
        .into_iter()
        .chain(drain(&mut q.send_rx))
    {
        if let Some(done) = o.done {
            let _ = done.send(Err(PeerError::Disconnected(reason.clone())));
        }
    }
    let _ = timeout(Duration::from_secs(1), writer.shutdown()).await;
}

fn drain(rx: &mut mpsc::Receiver<Outgoing>) -> Vec<Outgoing> {
    rx.close();
    let mut v = Vec::new();
    while let Ok(o) = rx.try_recv() {
        v.push(o);
    }
    v
}

/// Writes a frame, and flushes the buffer to the socket if `flush`.
async fn write_one<S: AsyncWrite>(
    writer: &mut Writer<S>,
    out: &Outgoing,
    flush: bool,
) -> std::io::Result<()> {
    writer.write_all(&out.frame).await?;
    if flush {
        writer.flush().await?;
    }
    Ok(())
}

// ---- queue handling ---------------------------------------------------------------

fn trickle_wait(max: Duration) -> Duration {
    let min = max / 5;
    rand::thread_rng().gen_range(min..=max)
}

async fn queue_task(peer: Peer) {
    let cancel = peer.inner.cancel.clone();
    let cfg = &peer.inner.config;
    let mut next_trickle = Instant::now() + trickle_wait(cfg.trickle_interval);
    let tick = STALL_TICK
        .min(cfg.stall_timeout / 2)
        .max(Duration::from_millis(10));
    let mut stall_tick = tokio::time::interval(tick);
    stall_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let ping_due = Instant::from_std(lock(&peer.inner.state).ping.next_due());
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = sleep_until(ping_due) => send_ping(&peer),
            _ = sleep_until(next_trickle) => {
                if !trickle(&peer).await {
                    return;
                }
                next_trickle = Instant::now() + trickle_wait(cfg.trickle_interval);
            }
            _ = stall_tick.tick() => {
                let st = lock(&peer.inner.state);
                if let Err(e) = st.stall.check(now(), st.stall_offset) {
                    drop(st);
                    peer.disconnect_with(DisconnectReason::Stalled(e));
                    return;
                }
            }
        }
    }
}

fn send_ping(peer: &Peer) {
    let nonce = {
        let mut st = lock(&peer.inner.state);
        let Some(nonce) = st.ping.poll(now(), rand::random()) else {
            return;
        };
        record_ping(&mut st, nonce);
        nonce
    };
    // A full priority queue means pongs are piling up; the read task
    // deals with that, the ping is simply skipped.
    let _ = peer.queue_message(&Message::Ping(Ping { nonce }));
}

/// Sends the queued inventory as `inv` batches, waiting for queue room.
/// Returns false when the peer is gone.
async fn trickle(peer: &Peer) -> bool {
    let batches = {
        let mut st = lock(&peer.inner.state);
        let State { trickle, known, .. } = &mut *st;
        trickle.drain(known, now())
    };
    for inv_list in batches {
        let msg = Message::Inv(dcr_wire::Inv { inv_list });
        match peer.queue_message_wait(&msg).await {
            Ok(()) => {}
            Err(_) => return false,
        }
    }
    true
}

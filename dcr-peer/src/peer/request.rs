//! Typed requests on the handle: [`Peer::call`] and the methods built on
//! it. The caller holds a request slot and the answer's channel; the
//! connection's task (`driver.rs`) holds the other end and the session's
//! table matches the answer.

use std::sync::atomic::Ordering;
use std::time::Duration;

use dcr_wire::{Block, BlockHeader, CFilterV2, Hash, InitState, InvType, InvVect, ServiceFlags};
use tokio::sync::{oneshot, SemaphorePermit};
use tokio::time::Instant;

use super::handle::{Peer, RequestCmd};
use crate::error::PeerError;
use crate::fsm::stall::RequestId;
use crate::request::{DataItem, Request, RequestError, Response};
use crate::sync::lock;

/// Tells the connection's task that a request's caller gave up, unless
/// disarmed: dropping a request's future frees its place in the table.
/// Disarmed too when the request never reached the task, and silent once
/// the connection is closing: no task will drain the list then, so an id
/// pushed would stay for the handle's life.
struct CancelOnDrop<'a> {
    peer: &'a Peer,
    id: RequestId,
    armed: bool,
    /// Where the answer comes; closed before the cancel is pushed, so a
    /// task that reads the request only after draining that cancel finds
    /// nobody waiting and leaves it out of its table (`Driver::request`).
    answer: oneshot::Receiver<Result<Response, RequestError>>,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        self.answer.close();
        if self.armed && !self.peer.inner.cancel.is_cancelled() {
            let inner = &self.peer.inner;
            lock(&inner.cancels).push(self.id);
            inner.cancels_pending.store(true, Ordering::Release);
            inner.cancels_waker.wake();
        }
    }
}

impl Peer {
    /// Sends `request` and waits up to `timeout` for its answer, matched
    /// by the connection's request → answer table (see
    /// [`crate::request`]).
    ///
    /// Errors: [`RequestError::Unsupported`] when the peer's negotiated
    /// version or services lack it (nothing is sent),
    /// [`RequestError::Timeout`] when no answer came in time (the
    /// connection carries on: dcrd leaves some requests unanswered),
    /// [`RequestError::Disconnected`] when the peer went away first,
    /// [`RequestError::Encode`] when the request cannot be encoded.
    ///
    /// At most [`crate::Config::max_requests_in_flight`] requests are out
    /// at once; a caller beyond waits for a slot (within its timeout).
    /// Cancel-safe: dropping the future frees its slot and its place in
    /// the table; a request already written is not recalled, and its
    /// answer, if it comes, goes to the listeners alone. Listeners and the
    /// event channel see every answer as before.
    pub async fn call(
        &self,
        request: Request,
        timeout: Duration,
    ) -> Result<Response, RequestError> {
        let deadline = Instant::now() + timeout;
        let services = self
            .remote_version()
            .map_or(ServiceFlags::NONE, |r| r.services);
        let pver = self.protocol_version();
        request.check_support(pver, services)?;
        let _slot = self.request_slot(deadline).await?;
        let nonce = if request == Request::Ping {
            rand::random()
        } else {
            0
        };
        let (msg, awaited) = request.message(pver, nonce);
        let out = self.frame(&msg).map_err(|e| self.request_error(e))?;
        let id = RequestId(self.inner.next_request.fetch_add(1, Ordering::Relaxed));
        let (reply, answer) = oneshot::channel();
        let mut cancel = CancelOnDrop {
            peer: self,
            id,
            armed: true,
            answer,
        };
        let cmd = RequestCmd {
            id,
            awaited,
            deadline: deadline.into_std(),
            out,
            kind: request.kind(),
            reply,
        };
        let queued = tokio::time::timeout_at(deadline, self.enqueue_request(cmd)).await;
        if !matches!(queued, Ok(Ok(()))) {
            // Not handed to the task (a timeout drops the send before it
            // is made): no table holds the id.
            cancel.armed = false;
        }
        match queued {
            Err(_) => return Err(RequestError::Timeout),
            Ok(Err(e)) => return Err(self.request_error(e)),
            Ok(Ok(())) => {}
        }
        let answer = (&mut cancel.answer).await;
        cancel.armed = false;
        answer.unwrap_or_else(|_| Err(RequestError::Disconnected(self.reason_or_requested())))
    }

    /// A slot for one more typed request, waiting until `deadline`.
    async fn request_slot(&self, deadline: Instant) -> Result<SemaphorePermit<'_>, RequestError> {
        let slots = &self.inner.request_slots;
        tokio::select! {
            p = tokio::time::timeout_at(deadline, slots.acquire()) => match p {
                Ok(Ok(p)) => Ok(p),
                Ok(Err(_)) => Err(RequestError::Disconnected(self.reason_or_requested())),
                Err(_) => Err(RequestError::Timeout),
            },
            _ = self.inner.cancel.cancelled() => {
                Err(RequestError::Disconnected(self.reason_or_requested()))
            }
        }
    }

    fn request_error(&self, e: PeerError) -> RequestError {
        match e {
            PeerError::Encode(e) => RequestError::Encode(e),
            PeerError::Disconnected(r) => RequestError::Disconnected(r),
            _ => RequestError::Disconnected(self.reason_or_requested()),
        }
    }

    /// [`Peer::call`] with the configured [`crate::Config::request_timeout`].
    async fn call_default(&self, request: Request) -> Result<Response, RequestError> {
        self.call(request, self.inner.config.request_timeout).await
    }

    /// Typed requests outstanding (each holds a slot until its answer,
    /// its error or its drop).
    pub fn requests_in_flight(&self) -> usize {
        self.inner.config.max_requests_in_flight - self.inner.request_slots.available_permits()
    }

    /// `getheaders`: the headers after the first hash of `locator` on the
    /// peer's main chain, up to `stop` (zero: up to 2000). Empty when it
    /// has nothing after the locator. See [`Peer::call`] for the errors.
    pub async fn get_headers(
        &self,
        locator: Vec<Hash>,
        stop: Hash,
    ) -> Result<Vec<BlockHeader>, RequestError> {
        match self
            .call_default(Request::Headers { locator, stop })
            .await?
        {
            Response::Headers(h) => Ok(h),
            other => Err(mismatched(other)),
        }
    }

    /// `getblocks`: the hashes of up to 500 blocks after the locator.
    /// dcrd says nothing when it has none, so that ends in
    /// [`RequestError::Timeout`].
    pub async fn get_blocks(
        &self,
        locator: Vec<Hash>,
        stop: Hash,
    ) -> Result<Vec<Hash>, RequestError> {
        match self.call_default(Request::Blocks { locator, stop }).await? {
            Response::Blocks(h) => Ok(h),
            other => Err(mismatched(other)),
        }
    }

    /// `getdata`: each vector's block, transaction or mixing message, or
    /// [`DataItem::NotFound`], in the order asked.
    pub async fn get_data(&self, items: Vec<InvVect>) -> Result<Vec<DataItem>, RequestError> {
        match self.call_default(Request::Data(items)).await? {
            Response::Data(d) => Ok(d),
            other => Err(mismatched(other)),
        }
    }

    /// One block by hash; [`RequestError::NotFound`] when the peer says it
    /// does not have it.
    pub async fn get_block(&self, hash: Hash) -> Result<Block<'static>, RequestError> {
        let iv = InvVect {
            inv_type: InvType::BLOCK,
            hash,
        };
        match self.get_data(vec![iv]).await?.pop() {
            Some(DataItem::Block(b)) => Ok(b),
            _ => Err(RequestError::NotFound(iv)),
        }
    }

    /// `getcfilterv2`: the block's version 2 filter and its proof. dcrd
    /// says nothing for a block it does not have
    /// ([`RequestError::Timeout`]).
    pub async fn get_cfilter_v2(&self, hash: Hash) -> Result<CFilterV2<'static>, RequestError> {
        match self.call_default(Request::CFilterV2(hash)).await? {
            Response::CFilterV2(f) => Ok(f),
            other => Err(mismatched(other)),
        }
    }

    /// `getcfsv2` (protocol 11 and up): the filters of blocks `start` to
    /// `end` inclusive (at most 100), in order. dcrd says nothing for a
    /// range it cannot serve ([`RequestError::Timeout`]).
    pub async fn get_cfilters_v2(
        &self,
        start: Hash,
        end: Hash,
    ) -> Result<Vec<CFilterV2<'static>>, RequestError> {
        match self
            .call_default(Request::CFiltersV2 { start, end })
            .await?
        {
            Response::CFiltersV2(f) => Ok(f),
            other => Err(mismatched(other)),
        }
    }

    /// `getinitstate` for `types` (`headblocks`, `headblockvotes`,
    /// `tspends`). dcrd answers one per connection and bans a second.
    pub async fn get_init_state(&self, types: Vec<String>) -> Result<InitState, RequestError> {
        match self.call_default(Request::InitState(types)).await? {
            Response::InitState(s) => Ok(s),
            other => Err(mismatched(other)),
        }
    }

    /// A ping with a fresh nonce; the round trip from its write to the
    /// matching pong.
    pub async fn ping(&self) -> Result<Duration, RequestError> {
        match self.call_default(Request::Ping).await? {
            Response::Pong(rtt) => Ok(rtt),
            other => Err(mismatched(other)),
        }
    }
}

/// The task answers each kind of request with its own kind of response;
/// this is never reached, and would read as a request left unanswered.
fn mismatched(r: Response) -> RequestError {
    debug_assert!(false, "a typed request answered with {r:?}");
    RequestError::Timeout
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::FrameCodec;
    use crate::sync::lock;
    use crate::{Config, Hooks};
    use dcr_wire::{pver, CurrencyNet, Message, NetAddress, VerAck, Version};
    use futures_util::{SinkExt, StreamExt};
    use tokio_util::codec::Framed;

    const NET: CurrencyNet = CurrencyNet::SimNet;

    /// Our peer over an in-memory pipe, after the handshake with a remote
    /// driven by hand (returned, so the pipe stays open).
    async fn connected() -> (Peer, Framed<tokio::io::DuplexStream, FrameCodec>) {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let addr = "127.0.0.1:18555".parse().unwrap();
        let start = tokio::spawn(Peer::outbound(ours, addr, Config::new(NET), Hooks::new()));
        let mut remote = Framed::new(theirs, FrameCodec::new(NET, pver::CURRENT));
        let first = remote.next().await.unwrap().unwrap();
        assert!(matches!(
            first.message(pver::CURRENT).unwrap(),
            Message::Version(_)
        ));
        let a = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
        let mut v = Version::new(a, a, 0xfeed, 0);
        v.protocol_version = pver::CURRENT as i32;
        remote.send(Message::Version(v)).await.unwrap();
        remote.send(Message::VerAck(VerAck)).await.unwrap();
        (start.await.unwrap().unwrap(), remote)
    }

    /// A call on a peer whose task has ended never reaches a table: it
    /// must not leave its id in the cancel list, which no task drains
    /// any more (each call once left 8 bytes there, without bound).
    #[tokio::test]
    async fn calls_on_a_disconnected_peer_leave_no_cancel_behind() {
        let (peer, _remote) = connected().await;
        peer.disconnect();
        peer.wait_for_disconnect().await;
        for _ in 0..1_000 {
            assert!(matches!(
                peer.ping().await,
                Err(RequestError::Disconnected(_))
            ));
        }
        assert_eq!(lock(&peer.inner.cancels).len(), 0);
        assert_eq!(peer.requests_in_flight(), 0);
    }

    /// A request whose caller left before the connection's task read it
    /// (here: polled once, so it is queued, and dropped, all before the
    /// task runs on this one thread) is not sent and holds no place in
    /// the table, whichever of the request and its cancel the task sees
    /// first.
    #[tokio::test]
    async fn a_request_dropped_before_its_task_saw_it_is_never_sent() {
        use futures_util::FutureExt;
        let (peer, mut remote) = connected().await;
        assert!(peer.ping().now_or_never().is_none());
        // The task runs; whatever it sends within 200 ms, no ping.
        let quiet = tokio::time::sleep(Duration::from_millis(200));
        tokio::pin!(quiet);
        loop {
            tokio::select! {
                () = &mut quiet => break,
                f = remote.next() => {
                    let f = f.unwrap().unwrap();
                    let m = f.message(pver::CURRENT).unwrap();
                    assert!(!matches!(m, Message::Ping(_)), "the dropped request was sent");
                }
            }
        }
        assert_eq!(lock(&peer.inner.cancels).len(), 0);
        assert_eq!(peer.requests_in_flight(), 0);
    }
}

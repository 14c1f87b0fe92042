//! Stall detection: requests that expect an answer get a deadline, the
//! answer clears it, and a peer that lets a deadline pass is disconnected.
//!
//! As the reference does, the deadlines are shifted by the time spent in our
//! own message handlers (the caller passes that as `offset`), so a slow
//! callback of ours is never blamed on the peer. Beyond the reference, which
//! tracks `getdata` and `getinitstate`, this also tracks `getheaders`,
//! `getminings`, `getcfilterv2` and `getcfsv2`, whose answers are just as
//! certain.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dcr_wire::msg::inv::MAX_INV_PER_MSG;
use dcr_wire::{Command, InvType, InvVect, Message};

/// How long a peer has to answer (the reference's).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Most data requests that may be outstanding at once: a peer that leaves
/// more than this unanswered is dropped rather than tracked without bound.
pub const MAX_PENDING_DATA: usize = (MAX_INV_PER_MSG + MAX_INV_PER_MSG / 2) as usize;

/// Why the stall tracker wants the peer gone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StallError {
    #[error("no answer to {what} before its deadline")]
    Deadline { what: String },
    #[error("more than {MAX_PENDING_DATA} data requests left unanswered")]
    TooManyPending,
}

/// Outstanding requests and their deadlines.
#[derive(Debug, Clone)]
pub struct StallTracker {
    timeout: Duration,
    pending_data: HashMap<InvVect, Instant>,
    pending_cmds: HashMap<Command, Instant>,
}

/// The answer a request command waits for, if it is tracked.
fn response_to(command: Command) -> Option<Command> {
    match command {
        Command::GetInitState => Some(Command::InitState),
        Command::GetHeaders => Some(Command::Headers),
        Command::GetMiningState => Some(Command::MiningState),
        Command::GetCFilterV2 => Some(Command::CFilterV2),
        Command::GetCFsV2 => Some(Command::CFiltersV2),
        _ => None,
    }
}

/// True for the requests the tracker starts a deadline for: `getdata` and
/// the commands in [`response_to`].
pub fn is_tracked_request(command: Command) -> bool {
    command == Command::GetData || response_to(command).is_some()
}

impl StallTracker {
    pub fn new(timeout: Duration) -> Self {
        StallTracker {
            timeout,
            pending_data: HashMap::new(),
            pending_cmds: HashMap::new(),
        }
    }

    /// We sent `msg` at `now`: start a deadline if it expects an answer.
    pub fn on_send(&mut self, msg: &Message<'_>, now: Instant) -> Result<(), StallError> {
        let deadline = now + self.timeout;
        if let Message::GetData(m) = msg {
            if self.pending_data.len() + m.inv_list.len() > MAX_PENDING_DATA {
                return Err(StallError::TooManyPending);
            }
            for iv in &m.inv_list {
                self.pending_data.insert(*iv, deadline);
            }
        } else if let Some(answer) = response_to(msg.command()) {
            self.pending_cmds.insert(answer, deadline);
        }
        Ok(())
    }

    /// We received `msg`: clear the deadline it answers.
    pub fn on_receive(&mut self, msg: &Message<'_>) {
        match msg {
            Message::Block(b) => {
                self.pending_data.remove(&InvVect {
                    inv_type: InvType::BLOCK,
                    hash: b.block_hash(),
                });
            }
            Message::Tx(t) => {
                self.pending_data.remove(&InvVect {
                    inv_type: InvType::TX,
                    hash: t.tx_hash(),
                });
            }
            Message::NotFound(n) => {
                for iv in &n.inv_list {
                    self.pending_data.remove(iv);
                }
            }
            other => {
                self.pending_cmds.remove(&other.command());
            }
        }
    }

    /// Checks the deadlines at `now`, each pushed back by `offset` (time
    /// spent in our own handlers).
    pub fn check(&self, now: Instant, offset: Duration) -> Result<(), StallError> {
        if let Some((cmd, _)) = self.pending_cmds.iter().find(|(_, d)| now >= **d + offset) {
            return Err(StallError::Deadline {
                what: cmd.as_str().to_string(),
            });
        }
        if let Some((iv, _)) = self.pending_data.iter().find(|(_, d)| now >= **d + offset) {
            return Err(StallError::Deadline {
                what: format!("{} {}", iv.inv_type, iv.hash),
            });
        }
        Ok(())
    }

    /// Number of outstanding requests.
    pub fn pending(&self) -> usize {
        self.pending_data.len() + self.pending_cmds.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::{GetData, GetHeaders, Hash, Headers, NotFound};

    fn getdata(n: u8) -> (Message<'static>, InvVect) {
        let iv = InvVect {
            inv_type: InvType::BLOCK,
            hash: Hash([n; 32]),
        };
        (Message::GetData(GetData { inv_list: vec![iv] }), iv)
    }

    #[test]
    fn unanswered_getheaders_stalls_after_timeout() {
        let t = Instant::now();
        let mut s = StallTracker::new(DEFAULT_STALL_TIMEOUT);
        s.on_send(&Message::GetHeaders(GetHeaders::default()), t)
            .unwrap();
        assert_eq!(s.check(t + Duration::from_secs(29), Duration::ZERO), Ok(()));
        assert!(matches!(
            s.check(t + Duration::from_secs(30), Duration::ZERO),
            Err(StallError::Deadline { .. })
        ));
        // Time spent in our own handlers pushes the deadline back.
        assert_eq!(
            s.check(t + Duration::from_secs(30), Duration::from_secs(5)),
            Ok(())
        );
        s.on_receive(&Message::Headers(Headers::default()));
        assert_eq!(
            s.check(t + Duration::from_secs(300), Duration::ZERO),
            Ok(())
        );
    }

    #[test]
    fn notfound_answers_getdata() {
        let t = Instant::now();
        let mut s = StallTracker::new(DEFAULT_STALL_TIMEOUT);
        let (req, iv) = getdata(1);
        s.on_send(&req, t).unwrap();
        assert_eq!(s.pending(), 1);
        s.on_receive(&Message::NotFound(NotFound { inv_list: vec![iv] }));
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn too_many_pending_requests() {
        let t = Instant::now();
        let mut s = StallTracker::new(DEFAULT_STALL_TIMEOUT);
        let inv_list: Vec<InvVect> = (0..MAX_PENDING_DATA as u32 + 1)
            .map(|n| {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&n.to_le_bytes());
                InvVect {
                    inv_type: InvType::TX,
                    hash: Hash(h),
                }
            })
            .collect();
        assert_eq!(
            s.on_send(&Message::GetData(GetData { inv_list }), t),
            Err(StallError::TooManyPending)
        );
    }
}

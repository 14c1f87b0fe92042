//! Our version message for one connection (the reference's
//! `localVersionMsg`).

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use dcr_wire::{NetAddress, ServiceFlags, Version};

use crate::config::Config;
use crate::fsm::handshake::{Direction, HandshakeError};
use crate::hooks::Hooks;
use crate::proxy::{split_host_port, Proxy};

/// Our version message for the connection to `addr`, with a fresh nonce
/// that is remembered for self-connection detection. Fails when the
/// host-to-address hook refuses.
pub(crate) fn local_version(
    config: &Config,
    hooks: &Hooks,
    addr: SocketAddr,
    direction: Direction,
) -> Result<Version<'static>, HandshakeError> {
    let height = hooks.newest_block.as_ref().map_or(0, |f| f().1);
    let you = remote_for_version(config, hooks, addr, direction)?;
    let me = NetAddress::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, config.services);
    let nonce = rand::random::<u64>();
    hooks.nonces.remember(nonce);
    let mut v = Version::new(me, you, nonce, i32::try_from(height).unwrap_or(i32::MAX));
    v.protocol_version = config.protocol_version as i32;
    v.services = config.services;
    v.disable_relay_tx = config.disable_relay_tx;
    // Validated with the configuration.
    v.user_agent = Cow::Owned(config.user_agent().unwrap_or_default().into_bytes());
    Ok(v)
}

/// The remote's address as our version gives it: an inbound remote's own
/// address (the handshake machine adds the services its version
/// reported); an outbound one's through [`Hooks::host_to_addr`] when set;
/// the unspecified address and port 0 when it may be our proxy's.
fn remote_for_version(
    config: &Config,
    hooks: &Hooks,
    addr: SocketAddr,
    direction: Direction,
) -> Result<NetAddress, HandshakeError> {
    let mut you = match (&hooks.host_to_addr, direction) {
        (Some(hook), Direction::Outbound) => {
            let na = hook(addr.ip(), addr.port(), ServiceFlags::NONE)
                .map_err(HandshakeError::Refused)?;
            // Only IPs fit the version's address form; the reference
            // writes anything else as zeros.
            let ip = na.ip_addr().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            NetAddress::new(ip, na.port, na.services)
        }
        _ => NetAddress::new(addr.ip(), addr.port(), ServiceFlags::NONE),
    };
    if config
        .proxy
        .as_ref()
        .is_some_and(|p| hides(p, IpAddr::V6(you.ip)))
    {
        you = NetAddress::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, you.services);
    }
    Ok(you)
}

/// True when our version must not give the remote at `ip` its address
/// because we use `proxy`: the remote is the proxy itself (a connection
/// from it), so its address would leak, or the proxy's address has no
/// port (poorly configured: the safe side). The reference compares the
/// proxy's host with the remote's IP as text; here both are IP
/// addresses, IPv4-mapped IPv6 ones as their IPv4 form, and a proxy
/// named by a host name is never the remote.
fn hides(proxy: &Proxy, ip: IpAddr) -> bool {
    match split_host_port(&proxy.addr) {
        Err(()) => true,
        Ok((host, _)) => host
            .parse::<IpAddr>()
            .is_ok_and(|p| p.to_canonical() == ip.to_canonical()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_proxy_is_recognised_by_its_ip_not_its_text() {
        let proxy = |a: &str| Proxy::new(a);
        assert!(hides(&proxy("127.0.0.1:9050"), ip("127.0.0.1")));
        assert!(!hides(&proxy("127.0.0.1:9050"), ip("127.0.0.2")));
        // The same address written another way is the same address.
        assert!(hides(&proxy("[::ffff:127.0.0.1]:9050"), ip("127.0.0.1")));
        assert!(hides(&proxy("127.0.0.1:9050"), ip("::ffff:127.0.0.1")));
        assert!(hides(&proxy("[::1]:9050"), ip("::1")));
        assert!(hides(&proxy("[0:0::1]:9050"), ip("::1")));
        // A host name is never the remote's IP.
        assert!(!hides(&proxy("localhost:9050"), ip("127.0.0.1")));
        // No port (a bare IPv6 address has none): always hidden.
        assert!(hides(&proxy("10.0.0.1"), ip("192.0.2.1")));
        assert!(hides(&proxy("::1"), ip("192.0.2.1")));
    }
}

//! The examples in `examples/`, run as tests.

#[allow(dead_code)]
#[path = "../examples/outbound.rs"]
mod outbound;

#[tokio::test]
async fn outbound_example_runs_against_an_in_process_listener() {
    let seen = outbound::run(None).await.unwrap();
    assert!(
        seen[0].starts_with("version: protocol 12 agent /dcrwire:1.0.0/"),
        "{seen:?}"
    );
    assert_eq!(seen[1], "verack: handshake complete");
    assert_eq!(seen[2], "disconnected: disconnect requested");
}

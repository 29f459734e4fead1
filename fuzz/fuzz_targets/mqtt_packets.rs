//! The MQTT broker's packet path on arbitrary bytes, as a client that finished its TLS
//! handshake with a valid certificate would send them: no input may panic the connection's
//! task, and every connection ends once the client closes its side.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use devfault_emulator::thinq::mqtt::{Hub, broker};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT: &str = "thinq-open-fuzz";

static SETUP: LazyLock<(tokio::runtime::Runtime, Arc<Hub>)> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let hub = Hub::new();
    hub.register(0, CLIENT, false);
    (runtime, hub)
});

fuzz_target!(|data: &[u8]| {
    let (runtime, hub) = &*SETUP;
    runtime.block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let peer = SocketAddr::from(([127, 0, 0, 1], 1));
        let task = tokio::spawn(broker::connection(
            Arc::clone(hub),
            server,
            Some(CLIENT.to_owned()),
            peer,
        ));
        let _ = client.write_all(data).await;
        let _ = client.shutdown().await;
        let mut replies = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut replies)).await;
        match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Ok(Err(_)) => {}
            Err(_) => panic!("the connection did not end after the client closed"),
        }
    });
});

//! The baseline of `scripts/bench-serve`: the emulator's framework (axum on tokio, HTTP/1)
//! with no work. `POST /sony/system` reads the request body and answers 200
//! `{"result":[{"status":"active"}],"id":1}`.
//!
//! Usage: `devfault-bench-hello [ADDR]` (default `127.0.0.1:0`); prints the bound address.

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::post;

const BODY: &str = r#"{"result":[{"status":"active"}],"id":1}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let app = Router::new().route(
        "/sony/system",
        post(|_body: Bytes| async { ([(header::CONTENT_TYPE, "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

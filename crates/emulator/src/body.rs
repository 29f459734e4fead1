//! Reading a request body within a size limit and a deadline: the one reader the fault layer,
//! the display and the cloud share. Each answers the ends differently (the layer hands the
//! device what came, the display answers 413 or `[2, "Timeout"]`, the cloud 1000), so the
//! reader says how the body ended and leaves the answer to its caller.

use std::future::poll_fn;
use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, header};
use tokio::time::Instant;

/// The body length a request declares (`Content-Length`), when it declares a readable one.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse::<u64>().ok()
}

/// How a body read ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ended {
    /// All of it came, within the limit.
    Complete,
    /// More than the limit came.
    TooLarge,
    /// It was not whole by the deadline.
    Timeout,
    /// The connection broke (or the body errored) before it was whole.
    Broken,
}

/// What past the limit does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Excess {
    /// Stop at once, keeping what came (the overflowing frame included): the caller hands it
    /// on to a reader that refuses it itself.
    Keep,
    /// Go on reading and discarding, up to four times the limit and until the deadline, so
    /// that closing the connection after the refusal does not reset it under a client still
    /// sending (the "lingering close" of web servers); nothing is kept.
    Linger,
}

/// A body as read: the bytes kept and how it ended.
#[derive(Debug)]
pub(crate) struct Collected {
    /// What came (see [`Excess`] for a body over the limit).
    pub bytes: Vec<u8>,
    /// How it ended.
    pub ended: Ended,
}

/// Reads `body` up to `max` bytes, until `deadline` when there is one.
pub(crate) async fn collect(
    mut body: Body,
    max: usize,
    deadline: Option<Instant>,
    excess: Excess,
) -> Collected {
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    let ended = loop {
        let next = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        let frame = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, next).await {
                Ok(frame) => frame,
                Err(_) if seen > max => break Ended::TooLarge,
                Err(_) => break Ended::Timeout,
            },
            None => next.await,
        };
        let frame = match frame {
            None if seen > max => break Ended::TooLarge,
            None => break Ended::Complete,
            Some(Err(_)) if seen > max => break Ended::TooLarge,
            Some(Err(_)) => break Ended::Broken,
            Some(Ok(frame)) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        seen = seen.saturating_add(data.len());
        match excess {
            _ if seen <= max => bytes.extend_from_slice(&data),
            Excess::Keep => {
                bytes.extend_from_slice(&data);
                break Ended::TooLarge;
            }
            Excess::Linger => {
                bytes = Vec::new();
                if seen > max.saturating_mul(4) {
                    break Ended::TooLarge;
                }
            }
        }
    };
    Collected { bytes, ended }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Bytes;
    use futures_util::{StreamExt, stream};

    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> Body {
        let parts: Vec<Result<Bytes, std::io::Error>> =
            parts.iter().map(|part| Ok(Bytes::from_static(part))).collect();
        Body::from_stream(stream::iter(parts))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_comes_whole() {
        let read = collect(chunks(&[b"ab", b"cd"]), 4, None, Excess::Keep).await;
        assert_eq!((read.bytes.as_slice(), read.ended), (&b"abcd"[..], Ended::Complete));
    }

    #[tokio::test]
    async fn past_the_limit_keep_stops_with_what_came_and_linger_keeps_nothing() {
        let keep = collect(chunks(&[b"ab", b"cde", b"f"]), 4, None, Excess::Keep).await;
        assert_eq!((keep.bytes.as_slice(), keep.ended), (&b"abcde"[..], Ended::TooLarge));
        let linger = collect(chunks(&[b"ab", b"cde", b"f"]), 4, None, Excess::Linger).await;
        assert_eq!((linger.bytes.len(), linger.ended), (0, Ended::TooLarge));
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_with_what_came() {
        let stalled = Body::from_stream(
            stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"ab"))])
                .chain(stream::pending()),
        );
        let deadline = Instant::now() + Duration::from_millis(50);
        let read = collect(stalled, 10, Some(deadline), Excess::Keep).await;
        assert_eq!((read.bytes.as_slice(), read.ended), (&b"ab"[..], Ended::Timeout));
    }

    #[tokio::test]
    async fn a_broken_body_says_so() {
        let broken = Body::from_stream(stream::iter([
            Ok(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("reset")),
        ]));
        let read = collect(broken, 10, None, Excess::Keep).await;
        assert_eq!((read.bytes.as_slice(), read.ended), (&b"ab"[..], Ended::Broken));
    }

    #[test]
    fn the_declared_length_is_read_when_it_is_a_number() {
        let mut headers = HeaderMap::new();
        assert_eq!(declared_length(&headers), None);
        headers.insert(header::CONTENT_LENGTH, " 12 ".parse().unwrap());
        assert_eq!(declared_length(&headers), Some(12));
        headers.insert(header::CONTENT_LENGTH, "x".parse().unwrap());
        assert_eq!(declared_length(&headers), None);
    }
}

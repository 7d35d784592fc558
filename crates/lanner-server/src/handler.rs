//! The request handlers: the audit path, `/healthz`, `/readyz`, `/metrics`.
//!
//! The audit path answers 200 only after the batch is in the evaluation
//! queue; unlike Falco's plugin, which answers before parsing, a malformed
//! body gets 400 with the reason, a body over the limit 413, a full queue
//! 503 with `Retry-After` (the API server's webhook backend retries), so no
//! batch is lost without the sender knowing.
//!
//! | status | when |
//! |---|---|
//! | 200 | every valid event of the body is queued (`{"accepted":N,"rejected":M}`) |
//! | 400 | not JSON, not an `Event`/`EventList`/array, or no valid event at all |
//! | 401 | bearer token or client certificate missing or wrong |
//! | 405 | not a POST |
//! | 413 | body over `server.max_body_size`, or more events than the whole queue |
//! | 415 | a `Content-Type` that is not JSON, or a `Content-Encoding` |
//! | 503 | the queue is full (`Retry-After`), or the server is stopping |

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use lanner_audit::decode_payload;

use crate::metrics::{self, Metrics};
use crate::pipeline::{Pipeline, SubmitError};
use crate::shutdown::Shutdown;

/// What every request handler shares.
pub(crate) struct State {
    pub path: String,
    pub max_body: u64,
    /// The bearer token required, if any (replaced when its file is read again on SIGHUP).
    pub token: Option<Arc<ArcSwap<String>>>,
    pub require_client_cert: bool,
    pub retry_after: u64,
    pub pipeline: Pipeline,
    pub metrics: Arc<Metrics>,
    pub shutdown: Shutdown,
}

type Reply = Response<Full<Bytes>>;

/// The hyper service for one connection.
pub(crate) fn service(
    state: Arc<State>,
    client_cert: bool,
) -> impl hyper::service::Service<Request<Incoming>, Response = Reply, Error = Infallible, Future: Send>
+ Clone {
    hyper::service::service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { Ok(route(&state, req, client_cert).await) }
    })
}

async fn route(state: &State, req: Request<Incoming>, client_cert: bool) -> Reply {
    let path = req.uri().path();
    if path == state.path {
        if req.method() != Method::POST {
            let mut reply = text(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("{} method not allowed", req.method()),
            );
            reply
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return reply;
        }
        let started = Instant::now();
        let reply = ingest(state, req, client_cert, started).await;
        state
            .metrics
            .request(reply.status().as_u16(), started.elapsed().as_secs_f64());
        return reply;
    }
    match (req.method(), path) {
        (&Method::GET | &Method::HEAD, "/healthz") => text(StatusCode::OK, "ok"),
        (&Method::GET | &Method::HEAD, "/readyz") if state.shutdown.is_triggered() => {
            text(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
        }
        (&Method::GET | &Method::HEAD, "/readyz") => text(StatusCode::OK, "ready"),
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let mut reply = Response::new(Full::new(Bytes::from(state.metrics.render())));
            reply.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(metrics::CONTENT_TYPE),
            );
            reply
        }
        (_, "/healthz" | "/readyz" | "/metrics") => text(StatusCode::METHOD_NOT_ALLOWED, "use GET"),
        _ => text(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn ingest(
    state: &State,
    req: Request<Incoming>,
    client_cert: bool,
    received: Instant,
) -> Reply {
    if let Err(reply) = authorize(state, &req, client_cert) {
        return *reply;
    }
    let headers = req.headers();
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        if !kind
            .to_str()
            .is_ok_and(|k| k.to_ascii_lowercase().contains("json"))
        {
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            );
        }
    }
    if headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Encoding is not supported",
        );
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut body = req.into_body();
    if declared.is_some_and(|len| len > state.max_body) {
        drain(&mut body).await;
        return too_large(state);
    }
    let limit = usize::try_from(state.max_body).unwrap_or(usize::MAX);
    let body = match Limited::new(&mut body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            drain(&mut body).await;
            return too_large(state);
        }
        Err(e) => {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {e}"),
            );
        }
    };
    let items = match decode_payload(&body, 1) {
        Ok(items) => items,
        Err(e) => {
            tracing::warn!("rejected a body of {} bytes: {e}", body.len());
            return text(StatusCode::BAD_REQUEST, &format!("bad request: {e}"));
        }
    };
    drop(body);
    let total = items.len();
    let mut first_error = None;
    let events: Vec<_> = items
        .into_iter()
        .filter_map(|item| item.map_err(|e| first_error.get_or_insert(e)).ok())
        .collect();
    let rejected = total - events.len();
    if let Some(e) = &first_error {
        state.metrics.reject("invalid_event", rejected as u64);
        tracing::warn!(rejected, of = total, "dropped invalid events, e.g.: {e}");
        if events.is_empty() {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("bad request: no valid event: {e}"),
            );
        }
    }
    let accepted = events.len();
    match state.pipeline.submit(events, received) {
        Ok(()) => {
            state.metrics.events_received.inc_by(accepted as u64);
            let mut reply = Response::new(Full::new(Bytes::from(format!(
                "{{\"accepted\":{accepted},\"rejected\":{rejected}}}\n"
            ))));
            reply.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            reply
        }
        Err(e @ SubmitError::TooLarge { .. }) => {
            state.metrics.reject("batch_too_large", accepted as u64);
            text(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string())
        }
        Err(e) => {
            let reason = if e == SubmitError::Full {
                "queue_full"
            } else {
                "shutting_down"
            };
            state.metrics.reject(reason, accepted as u64);
            let mut reply = text(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("{e}; retry later"),
            );
            reply
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(state.retry_after));
            reply
        }
    }
}

/// Checks the client certificate (mTLS) and the bearer token, if required.
fn authorize(state: &State, req: &Request<Incoming>, client_cert: bool) -> Result<(), Box<Reply>> {
    if state.require_client_cert && !client_cert {
        return Err(Box::new(text(
            StatusCode::UNAUTHORIZED,
            "a client certificate is required",
        )));
    }
    if let Some(token) = &state.token {
        let token = token.load();
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
        if !given.is_some_and(|given| same(given, token.as_bytes())) {
            let mut reply = text(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
            reply
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(Box::new(reply));
        }
    }
    Ok(())
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads and discards what is left of a refused body (up to 16 MiB, for up
/// to 5 s), so that closing the connection does not reset it before the
/// client has read the answer.
async fn drain(body: &mut Incoming) {
    const CAP: usize = 16 << 20;
    let discard = async {
        let mut read = 0;
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, Bytes::len);
            if read > CAP {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), discard).await;
}

fn too_large(state: &State) -> Reply {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "body larger than {} bytes (server.max_body_size)",
            state.max_body
        ),
    )
}

fn text(status: StatusCode, message: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison_needs_the_same_bytes() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
    }
}

//! Makes every server-rendered page finish: renders it whole, and renders it again if it stalls.
//!
//! Leptos 0.8's streaming renderer occasionally never finishes a response: a `<Suspense>` misses
//! the wake-up of its last resource and the body stays open on its fallback, without an error
//! and without using CPU (leptos-rs/leptos#4851, #4673; 0.8.23 fixed one cause, not all). Herald's
//! own integration tests met it about once in 2,000 page loads while the machine was busy. A
//! browser showing a page that never stops loading is worse than a page that arrives a little
//! later, so HTML answers to `GET`/`HEAD` are collected here before they are sent: a render that
//! has not finished within [`RENDER_DEADLINE`] is dropped (which cancels its resources) and done
//! again. Rendering a page has no side effects — sessions and CSRF cookies are handled by the
//! layers outside this one — so a second render is safe. Pages load in milliseconds, so waiting
//! for the whole body costs nothing a user can see; everything else (CSV downloads, the
//! campaign event stream, JSON) passes through untouched.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// How long one render may take before it is considered stalled. The slowest page Herald has
/// (a segment's live count over a million contacts) renders in about 3 s.
pub const RENDER_DEADLINE: Duration = Duration::from_secs(10);

/// Renders before giving up with `503 Service Unavailable`.
pub const ATTEMPTS: u32 = 3;

/// Largest page kept in memory; Herald's pages are tens of kilobytes.
const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;

/// Middleware: see the module documentation. Stalls are counted in
/// `herald_page_renders_stalled_total` on `/metrics`.
pub async fn finish_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let metrics = state.metrics.clone();
    finish_pages_within(
        RENDER_DEADLINE,
        || metrics.record_stalled_render(),
        request,
        next,
    )
    .await
}

/// [`finish_pages`] with an explicit deadline (so tests need not wait ten seconds) and what to do
/// on each stall.
pub async fn finish_pages_within(
    deadline: Duration,
    on_stall: impl Fn(),
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    // A GET's body is empty by definition; keeping the head is enough to send it again.
    let (head, _) = request.into_parts();
    let path = head.uri.path().to_string();
    for attempt in 1..=ATTEMPTS {
        let response = next
            .clone()
            .run(Request::from_parts(head.clone(), Body::empty()))
            .await;
        if !is_html(&response) {
            return response;
        }
        let (parts, body) = response.into_parts();
        match tokio::time::timeout(deadline, axum::body::to_bytes(body, MAX_PAGE_BYTES)).await {
            Ok(Ok(bytes)) => return Response::from_parts(parts, Body::from(bytes)),
            Ok(Err(error)) => {
                tracing::error!(%path, %error, "rendering a page failed");
                return unavailable();
            }
            Err(_) => {
                on_stall();
                tracing::warn!(%path, attempt, "a page render stalled; rendering it again");
            }
        }
    }
    tracing::error!(%path, attempts = ATTEMPTS, "every render of a page stalled");
    unavailable()
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        "The page could not be rendered just now. Reload it in a moment.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use axum::middleware::from_fn;
    use axum::routing::get;
    use axum::Router;
    use futures_util::stream;
    use tower::ServiceExt;

    use super::*;

    const DEADLINE: Duration = Duration::from_millis(200);

    /// A page whose first `stalls` renders send their opening and then never finish; also
    /// returns the number of renders and of stalls the guard saw.
    fn app(stalls: u32) -> (Router, Arc<AtomicU32>, Arc<AtomicU32>) {
        let seen = Arc::new(AtomicU32::new(0));
        let on_stall = {
            let seen = Arc::clone(&seen);
            move || {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        };
        let renders = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&renders);
        let router = Router::new()
            .route(
                "/page",
                get(move || {
                    let render = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    async move {
                        let opening = stream::iter([Ok::<_, std::io::Error>(
                            axum::body::Bytes::from_static(b"<html><p>Loading"),
                        )]);
                        let body = if render <= stalls {
                            Body::from_stream(futures_util::StreamExt::chain(
                                opening,
                                stream::pending(),
                            ))
                        } else {
                            Body::from("<html><h1>Dashboard</h1></html>")
                        };
                        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
                    }
                }),
            )
            .route(
                "/events",
                get(|| async {
                    let body =
                        Body::from_stream(stream::pending::<Result<Vec<u8>, std::io::Error>>());
                    ([(header::CONTENT_TYPE, "text/event-stream")], body)
                }),
            )
            .layer(from_fn(move |req, next| {
                finish_pages_within(DEADLINE, on_stall.clone(), req, next)
            }));
        (router, renders, seen)
    }

    async fn get_page(router: Router, path: &str) -> Response {
        let request = Request::get(path).body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_stalled_render_is_replaced_by_a_complete_one() {
        let (router, renders, stalls) = app(1);
        let response = get_page(router, "/page").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], b"<html><h1>Dashboard</h1></html>");
        assert_eq!(renders.load(Ordering::SeqCst), 2);
        assert_eq!(stalls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_page_that_always_stalls_ends_in_a_503_not_an_open_connection() {
        let (router, renders, stalls) = app(u32::MAX);
        let response = get_page(router, "/page").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(renders.load(Ordering::SeqCst), ATTEMPTS);
        assert_eq!(stalls.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[tokio::test]
    async fn streams_that_are_not_pages_pass_through_unbuffered() {
        let (router, _, _) = app(0);
        let response = tokio::time::timeout(DEADLINE * 5, get_page(router, "/events"))
            .await
            .expect("headers of an event stream arrive at once");
        assert_eq!(response.status(), StatusCode::OK);
    }
}

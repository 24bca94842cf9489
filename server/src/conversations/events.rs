//! `GET /conversations/events[?id=…]`: a server-sent `changed` event carrying a conversation's id
//! each time one changes (a message in or out, a tick, a note, read or closed), so the inbox and
//! an open thread refetch at once instead of polling. With `id`, only that conversation's
//! changes. A page that fell behind gets `changed` with `*`: refetch everything.

use std::convert::Infallible;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use axum::Extension;
use domain::access::{Caller, Permission};
use futures_util::stream::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::http::AppState;
use crate::ports::{allow, refusal};

/// The stream's query.
#[derive(Debug, Deserialize)]
pub struct Watch {
    /// Only this conversation.
    pub id: Option<Uuid>,
}

/// See the module documentation.
pub async fn events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(watch): Query<Watch>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    allow(&caller, Permission::View).map_err(|e| refusal(&e))?;
    let receiver = state.conversations.threads().subscribe();
    let stream =
        futures_util::stream::unfold((receiver, watch.id), |(mut receiver, only)| async move {
            loop {
                let changed = match receiver.recv().await {
                    Ok(id) if only.is_none_or(|o| o == id) => id.to_string(),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => "*".to_string(),
                    Err(RecvError::Closed) => return None,
                };
                let event = Event::default().event("changed").data(changed);
                return Some((Ok(event), (receiver, only)));
            }
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

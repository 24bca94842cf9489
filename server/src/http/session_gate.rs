//! Who may see what. Runs before routing: resolves the session cookie, attaches the
//! [`app::session::PageSession`] pages render from, and sends anonymous visitors of protected paths
//! to sign-in (pages) or answers 401 (server functions and APIs).

use app::session::PageSession;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{Caller, Role};

use super::access::{access, Access};
use super::csrf::CsrfToken;
use super::{cookies, AppState};
use crate::accounts::SessionToken;
use crate::storage::accounts::Account;

/// The signed-in account, for handlers behind the gate.
#[derive(Debug, Clone)]
pub struct CurrentAccount(pub Account);

/// Middleware enforcing [`super::access::POLICY`].
pub async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let access = access(&path);
    if access == Access::Open {
        return next.run(req).await;
    }
    let setup_needed = match state.accounts.setup_needed() {
        Ok(needed) => needed,
        Err(e) => return unavailable(&e),
    };
    let account = match cookies::read(req.headers(), cookies::SESSION) {
        Some(token) => match state
            .accounts
            .authenticate(&SessionToken::from_cookie(&token))
        {
            Ok(account) => account,
            Err(e) => return unavailable(&e),
        },
        None => None,
    };
    let csrf_token = req
        .extensions()
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    req.extensions_mut().insert(PageSession {
        username: account.as_ref().map(|a| a.username.clone()),
        csrf_token,
    });
    let is_page_view = req.method() == Method::GET && !path.starts_with("/api/");

    match access {
        Access::Setup if !setup_needed => Redirect::to("/login").into_response(),
        Access::Login if setup_needed => Redirect::to("/setup").into_response(),
        Access::Login if account.is_some() && is_page_view => Redirect::to("/").into_response(),
        Access::Protected if setup_needed && is_page_view => Redirect::to("/setup").into_response(),
        Access::Protected if account.is_none() => {
            if is_page_view {
                let next = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                Redirect::to(&format!("/login?{query}")).into_response()
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    "sign in first: this request needs a session",
                )
                    .into_response()
            }
        }
        _ => {
            if let Some(account) = account {
                // Who every port call of this request is made for (today's only role: owner).
                req.extensions_mut().insert(Caller::Member {
                    username: account.username.clone(),
                    role: Role::Owner,
                });
                req.extensions_mut().insert(CurrentAccount(account));
            }
            next.run(req).await
        }
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "storage failed while checking the session");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "storage unavailable; see the server log",
    )
        .into_response()
}

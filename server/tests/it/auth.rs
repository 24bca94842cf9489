//! Setup, sign-in, sessions, CSRF and throttling, as a browser experiences them.

use reqwest::StatusCode;

use crate::helpers::{location, TestApp, OWNER, PASSWORD, SECTIONS};

#[tokio::test]
async fn a_new_installation_sends_every_page_to_setup() {
    let app = TestApp::spawn().await;
    for path in ["/", "/campaigns", "/login"] {
        assert_eq!(location(&app.get(path).await), "/setup", "{path}");
    }
    let setup = app.get("/setup").await;
    assert_eq!(setup.status(), StatusCode::OK);
    assert!(setup
        .text()
        .await
        .unwrap()
        .contains("Create the owner account"));
}

#[tokio::test]
async fn setup_creates_the_owner_once_and_then_closes() {
    let app = TestApp::spawn().await;
    assert_eq!(location(&app.set_up_owner().await), "/login?notice=created");
    assert_eq!(location(&app.get("/setup").await), "/login");
    let second = app
        .post_form(
            "/auth/setup",
            &[
                ("username", "intruder"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&second), "/login");
    assert_eq!(
        location(&app.log_in("intruder", PASSWORD).await),
        "/login?error=invalid&next=%2F"
    );
}

#[tokio::test]
async fn setup_with_a_weak_password_creates_nothing_and_says_why() {
    let app = TestApp::spawn().await;
    let response = app
        .post_form(
            "/auth/setup",
            &[
                ("username", OWNER),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/setup?error=invalid");
    assert_eq!(location(&app.get("/").await), "/setup");
    let page = app.get("/setup?error=invalid").await.text().await.unwrap();
    assert!(page.contains("breaks a rule"), "{page}");
}

#[tokio::test]
async fn the_signed_in_owner_reaches_every_section() {
    let app = TestApp::signed_in().await;
    for (path, heading) in SECTIONS {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        // `<!>` is a hydration marker the server may put after a text node.
        let page = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e:?}"))
            .replace("<!>", "");
        assert!(
            page.contains(&format!("<h1>{heading}</h1>")),
            "{path} lacks its heading"
        );
        assert!(
            page.contains(OWNER),
            "{path} does not show who is signed in"
        );
    }
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_brought_back_after() {
    let app = TestApp::spawn().await;
    app.set_up_owner().await;
    assert_eq!(
        location(&app.get("/campaigns?page=2").await),
        "/login?next=%2Fcampaigns%3Fpage%3D2"
    );
    let response = app
        .post_form(
            "/auth/login",
            &[
                ("username", OWNER),
                ("password", PASSWORD),
                ("next", "/campaigns?page=2"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/campaigns?page=2");
}

#[tokio::test]
async fn server_functions_without_a_session_are_unauthorised() {
    let app = TestApp::spawn().await;
    app.set_up_owner().await;
    assert_eq!(
        app.get("/api/system/overview").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    app.set_up_owner().await;
    let wrong_password = location(&app.log_in(OWNER, "not the password").await);
    let unknown_user = location(&app.log_in("nobody", PASSWORD).await);
    assert_eq!(wrong_password, "/login?error=invalid&next=%2F");
    assert_eq!(wrong_password, unknown_user);
    assert!(app.cookie("herald_session").is_none());
    let page = app.get(&wrong_password).await.text().await.unwrap();
    assert!(page.contains("Wrong username or password."));
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let app = TestApp::signed_in().await;
    let token = app.cookie("herald_csrf").unwrap();

    // No token at all, as a cross-site form would send.
    let forged = app.post_raw("/auth/logout", &[], &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A token that does not match the cookie.
    let wrong = app
        .post_raw(
            "/auth/logout",
            &[("csrf_token", "A".repeat(43).as_str())],
            &[],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // The session survived both attempts.
    assert_eq!(app.get("/").await.status(), StatusCode::OK);

    // Without the cookie the token proves nothing.
    app.forget_cookie("herald_csrf");
    let cookieless = app
        .post_raw(
            "/auth/login",
            &[
                ("csrf_token", &token),
                ("username", OWNER),
                ("password", PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(cookieless.status(), StatusCode::FORBIDDEN);

    // The header works as well as the form field.
    app.get("/").await;
    let fresh = app.cookie("herald_csrf").unwrap();
    let by_header = app
        .post_raw("/auth/logout", &[], &[("x-csrf-token", &fresh)])
        .await;
    assert_eq!(location(&by_header), "/login?notice=signed_out");
}

#[tokio::test]
async fn repeated_sign_in_attempts_are_throttled_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    app.set_up_owner().await;
    for _ in 0..server::http::throttle::PER_ACCOUNT_PER_MINUTE {
        assert_eq!(
            location(&app.log_in(OWNER, "guess guess guess").await),
            "/login?error=invalid&next=%2F"
        );
    }
    let throttled = location(&app.log_in(OWNER, PASSWORD).await);
    assert!(
        throttled.starts_with("/login?error=throttled&retry_after="),
        "{throttled}"
    );
    assert!(app.cookie("herald_session").is_none());
    let page = app.get(&throttled).await.text().await.unwrap();
    assert!(page.contains("Too many sign-in attempts. Wait"), "{page}");
}

#[tokio::test]
async fn one_address_is_throttled_across_many_account_names() {
    let app = TestApp::spawn().await;
    app.set_up_owner().await;
    for n in 0..server::http::throttle::PER_IP_PER_MINUTE {
        let name = format!("user{n}");
        assert!(location(&app.log_in(&name, "guess guess guess").await).contains("error=invalid"));
    }
    assert!(location(&app.log_in(OWNER, PASSWORD).await).contains("error=throttled"));
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let app = TestApp::signed_in().await;
    let app = app.restart().await;
    let response = app.get("/settings").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains(OWNER));
}

#[tokio::test]
async fn logging_out_ends_the_session_for_good() {
    let app = TestApp::signed_in().await;
    let stolen = app.cookie("herald_session").unwrap();
    let token = app.cookie("herald_csrf").unwrap();
    assert_eq!(
        location(&app.post_form("/auth/logout", &[]).await),
        "/login?notice=signed_out"
    );
    assert!(app.cookie("herald_session").is_none(), "cookie not cleared");
    let replay = app
        .get_with(
            "/",
            &[(
                "cookie",
                &format!("herald_session={stolen}; herald_csrf={token}"),
            )],
        )
        .await;
    assert!(
        location(&replay).starts_with("/login"),
        "a logged-out token still works"
    );
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure_behind_https() {
    let app = TestApp::spawn().await;
    app.set_up_owner().await;
    let token = app.cookie("herald_csrf").unwrap();
    let fields = [
        ("username", OWNER),
        ("password", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let plain = app.post_raw("/auth/login", &fields, &[]).await;
    let https = app
        .post_raw("/auth/login", &fields, &[("x-forwarded-proto", "https")])
        .await;
    let cookie = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("herald_session="))
            .expect("session cookie set")
    };
    let plain = cookie(&plain);
    assert!(
        plain.contains("HttpOnly") && plain.contains("SameSite=Lax"),
        "{plain}"
    );
    assert!(!plain.contains("Secure"), "{plain}");
    assert!(cookie(&https).contains("Secure"));
}

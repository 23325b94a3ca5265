//! Cross-site requests refused on every state-changing route, and no GET that changes
//! state (check 25).

use serde_json::json;

use super::{changed_tables, database_rows};
use crate::{
    helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp},
    hostile::form_body,
};

/// Every state-changing route of `src/routes/mod.rs`, as the route table writes it.
/// `the_cross_site_test_covers_every_state_changing_route_of_the_table` keeps this list
/// complete.
const STATE_CHANGING: &[(&str, &str)] = &[
    ("POST", "/conversations"),
    ("POST", "/conversations/{id}/messages"),
    ("POST", "/conversations/{id}/regenerate"),
    ("POST", "/conversations/{id}/stop"),
    ("POST", "/conversations/{id}/rename"),
    ("POST", "/conversations/{id}/delete"),
    ("POST", "/messages/{id}/feedback"),
    ("POST", "/messages/{id}/feedback/delete"),
    ("POST", "/messages/{id}/prefer"),
    ("POST", "/settings/data"),
    ("POST", "/settings/account/delete"),
    ("POST", "/signup"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/language"),
    ("POST", "/settings/keys"),
    ("POST", "/settings/keys/{id}/revoke"),
    ("POST", "/admin/keys/{id}/revoke"),
    ("POST", "/admin/users/{id}/disable"),
    ("POST", "/admin/users/{id}/enable"),
    ("POST", "/admin/users/{id}/reset-usage"),
    ("POST", "/admin/users/{id}/budget"),
    ("POST", "/admin/users/{id}/make-admin"),
    ("POST", "/admin/users/{id}/make-reviewer"),
    ("POST", "/admin/users/{id}/remove-reviewer"),
    ("POST", "/admin/pause"),
    ("POST", "/admin/signup-mode"),
    ("POST", "/admin/invites"),
    ("POST", "/review/{id}/accept"),
    ("POST", "/review/{id}/edit"),
    ("POST", "/review/{id}/reject"),
    ("POST", "/review/{id}/skip"),
    ("POST", "/admin/batches"),
    ("POST", "/admin/batches/{id}/pause"),
    ("POST", "/admin/batches/{id}/resume"),
    ("POST", "/admin/batches/{id}/cancel"),
    ("POST", "/api/v1/conversations"),
    ("PATCH", "/api/v1/conversations/{id}"),
    ("DELETE", "/api/v1/conversations/{id}"),
    ("POST", "/api/v1/conversations/{id}/messages"),
    ("POST", "/api/v1/conversations/{id}/stop"),
    ("PUT", "/api/v1/messages/{id}/feedback"),
    ("DELETE", "/api/v1/messages/{id}/feedback"),
    ("POST", "/apps/{name}/runs"),
    ("POST", "/api/v1/apps/{name}/runs"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/conversations/{id}/share"),
    ("POST", "/s/{token}/continue"),
    ("POST", "/settings/shares/{id}/revoke"),
    ("POST", "/admin/shares/{id}/pin"),
    ("POST", "/admin/shares/{id}/unpin"),
];

/// How browsers mark a request made by another site's page: with Fetch Metadata, without
/// it (older browsers send only `Origin`), from a sibling subdomain, and from a sandboxed
/// frame or a `data:` page (`Origin: null`).
const FORGERIES: &[&[(&str, &str)]] = &[
    &[
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ],
    &[("origin", "https://evil.example")],
    &[
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.chat.example"),
    ],
    &[("origin", "null")],
];

/// The email of the account a forged login would slip the admin into.
const ATTACKER: &str = "attacker@example.com";

/// What each `{id}` of [`STATE_CHANGING`] stands for in a test: things of the logged-in
/// admin's, or that the admin may act on, so every forged request would have had power.
struct Targets {
    /// The admin's conversation, with a question and an answer.
    conversation: String,
    /// The answer in it.
    answer: i64,
    /// A user who is enabled, not an admin, and has spent tokens today.
    user: i64,
    /// A user the admin disabled.
    disabled_user: i64,
    /// A live key of the admin's own.
    own_key: i64,
    /// A live key of `user`'s.
    their_key: i64,
    /// The admin's share of `conversation`: its id and its link's token.
    share: i64,
    token: String,
}

impl Targets {
    /// Builds them in `app`, with `admin` (same-origin requests, which must pass).
    async fn build(app: &TestApp, admin: &reqwest::Client) -> Self {
        let conversation = app.create_conversation_as(admin).await;
        let answer = app
            .send_streaming_as(admin, &conversation, "a question")
            .await;
        assert_eq!(answer.status(), 200);
        crate::helpers::read_events(answer).await;
        let created = admin
            .post(app.url("/settings/keys"))
            .form(&[("name", "laptop")])
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        app.api_key("user@example.com").await;
        app.api_key("disabled@example.com").await;
        app.sign_up(ATTACKER).await;
        // A second admin, so that a forged deletion of the admin's account would succeed.
        promptship::auth::create_admin(
            &app.db,
            &app.state.hasher,
            "second-admin@example.com",
            ADMIN_PASSWORD.into(),
        )
        .await
        .unwrap();
        let user = app.user_id("user@example.com").await;
        let disabled_user = app.user_id("disabled@example.com").await;
        let disabled = admin
            .post(app.url(&format!("/admin/users/{disabled_user}/disable")))
            .send()
            .await
            .unwrap();
        assert_eq!(disabled.status(), 303);
        app.record_usage(Some(user), 500, 100).await;
        let key_of = |owner: i64| {
            sqlx::query_scalar::<_, i64>("SELECT id FROM api_keys WHERE user_id = ?")
                .bind(owner)
                .fetch_one(&app.db)
        };
        let admin_id = app.user_id(ADMIN_EMAIL).await;
        let answer = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM messages WHERE conversation_id = ? AND role = 'assistant'",
        )
        .bind(&conversation)
        .fetch_one(&app.db)
        .await
        .unwrap();
        // Feedback to take back, so a forged delete would have had something to do.
        sqlx::query(
            "INSERT INTO feedback (message_id, rating, created_at, updated_at) VALUES (?, 1, 0, 0)",
        )
        .bind(answer)
        .execute(&app.db)
        .await
        .unwrap();
        let shared = admin
            .post(app.url(&format!("/conversations/{conversation}/share")))
            .send()
            .await
            .unwrap();
        assert_eq!(shared.status(), 303);
        let (share, token) = sqlx::query_as::<_, (i64, String)>("SELECT id, token FROM shares")
            .fetch_one(&app.db)
            .await
            .unwrap();
        Self {
            share,
            token,
            conversation,
            answer,
            user,
            disabled_user,
            own_key: key_of(admin_id).await.unwrap(),
            their_key: key_of(user).await.unwrap(),
        }
    }

    /// `template` with its `{id}`.
    fn path(&self, template: &str) -> String {
        let id = if template.starts_with("/admin/users/{id}/enable") {
            self.disabled_user.to_string()
        } else if template.starts_with("/admin/users/") {
            self.user.to_string()
        } else if template.starts_with("/settings/keys/") {
            self.own_key.to_string()
        } else if template.starts_with("/admin/keys/") {
            self.their_key.to_string()
        } else if template.starts_with("/settings/shares/")
            || template.starts_with("/admin/shares/")
        {
            self.share.to_string()
        } else if template.starts_with("/messages/")
            || template.starts_with("/api/v1/messages/")
            || template.starts_with("/review/")
        {
            self.answer.to_string()
        } else {
            self.conversation.clone()
        };
        // A shipped app: a run of it would call the model.
        template
            .replace("{id}", &id)
            .replace("{name}", "translate")
            .replace("{token}", &self.token)
    }
}

/// A body that would do the route's work if the request were let through: its content
/// type and bytes.
fn working_body(path: &str) -> (&'static str, String) {
    if path.starts_with("/v1/") {
        let body =
            json!({ "model": "gpt-4o-mini", "messages": [{ "role": "user", "content": "hi" }] });
        return ("application/json", body.to_string());
    }
    if path.starts_with("/api/") {
        let body = if path.ends_with("/feedback") {
            json!({ "rating": "down", "tags": ["unsafe"] })
        } else if path.ends_with("/messages") {
            json!({ "content": "pwned" })
        } else if path.ends_with("/runs") {
            json!({ "text": "pwned" })
        } else if path.ends_with("/stop") {
            json!({})
        } else {
            json!({ "title": "pwned" })
        };
        return ("application/json", body.to_string());
    }
    // The admin's own password, which the account deletion asks for.
    let password = if path == "/settings/account/delete" {
        ADMIN_PASSWORD
    } else {
        PASSWORD
    };
    let email = if path == "/signup" {
        "newcomer@example.com"
    } else {
        ATTACKER
    };
    let form = form_body(&[
        ("content", "pwned"),
        ("text", "pwned"),
        ("title", "pwned"),
        ("name", "pwned"),
        ("email", email),
        ("password", password),
        ("daily_token_budget", "0"),
        ("paused", "1"),
        ("mode", "closed"),
        ("reason", "wrong_facts"),
        ("rating", "down"),
        ("tags", "unsafe"),
        ("opt_out", "1"),
    ]);
    ("application/x-www-form-urlencoded", form)
}

#[tokio::test]
async fn cross_site_posts_are_refused_on_every_state_changing_route() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let targets = Targets::build(&app, &admin).await;
    let before = database_rows(&app.db).await;
    let posts = app.mock.posts();

    for (method, template) in STATE_CHANGING {
        let path = targets.path(template);
        let (content_type, body) = working_body(&path);
        for forgery in FORGERIES {
            let mut request = admin
                .request(method.parse().unwrap(), app.url(&path))
                .header("content-type", content_type)
                .body(body.clone());
            for (name, value) in *forgery {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            if path.starts_with("/v1/") {
                // Authenticated by a bearer key alone: the admin's cookie is worth nothing.
                assert_eq!(status, 401, "{method} {path} with {forgery:?}: {text}");
            } else {
                assert_eq!(status, 403, "{method} {path} with {forgery:?}: {text}");
                assert!(
                    text.contains("Cross-site requests are refused"),
                    "{method} {path} with {forgery:?} was refused for another reason: {text}"
                );
            }
        }
    }

    let after = database_rows(&app.db).await;
    assert!(
        before == after,
        "forged requests changed {:?}",
        changed_tables(&before, &after)
    );
    assert_eq!(app.mock.posts(), posts, "no model call was made");
    let page = admin.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the admin is still logged in");

    // The site's own pages pass, with the same cookie: the refusals were the check's.
    let own = admin
        .post(app.url("/admin/invites"))
        .header("origin", &app.address)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 303);
    let with_invite = database_rows(&app.db).await;
    assert_eq!(changed_tables(&after, &with_invite), ["invites"]);
}

#[tokio::test]
async fn cross_site_posts_carrying_basic_auth_change_nothing() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let targets = Targets::build(&app, &admin).await;
    let before = database_rows(&app.db).await;
    let posts = app.mock.posts();

    for (method, template) in STATE_CHANGING {
        let path = targets.path(template);
        let (content_type, body) = working_body(&path);
        // Browsers send cached basic credentials with every request to the site, a form
        // posted from another site's page included.
        let response = admin
            .request(method.parse().unwrap(), app.url(&path))
            .header("content-type", content_type)
            .header("authorization", "Basic dXNlcjpwYXNzd29yZA==")
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{method} {path}: {}",
            response.status()
        );
    }

    let after = database_rows(&app.db).await;
    assert!(
        before == after,
        "forged requests changed {:?}",
        changed_tables(&before, &after)
    );
    assert_eq!(app.mock.posts(), posts, "no model call was made");
}

/// `(method, path)` of every route in `src/routes/mod.rs` that takes a method other than
/// GET, read from its source.
fn state_changing_routes_in_the_table() -> Vec<(String, String)> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes/mod.rs")).unwrap();
    // Routes added any other way would be missed by the reading below.
    for unread in [".nest(", ".nest_service(", ".route_service(", "any(", "on("] {
        assert!(
            !calls(
                &source,
                unread.trim_start_matches('.').trim_end_matches('(')
            ),
            "src/routes/mod.rs uses `{unread}`: teach this test to read it"
        );
    }
    let mut routes = Vec::new();
    for (at, call) in source.match_indices(".route(") {
        let arguments = balanced(&source[at + call.len()..]);
        let path = arguments
            .split('"')
            .nth(1)
            .unwrap_or_else(|| panic!("no path in .route({arguments})"));
        for method in ["post", "patch", "delete", "put"] {
            if calls(arguments, method) {
                routes.push((method.to_uppercase(), path.to_string()));
            }
        }
    }
    routes
}

/// The text up to the parenthesis closing the one just opened.
fn balanced(code: &str) -> &str {
    let mut depth = 1;
    for (i, c) in code.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &code[..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses after {code:.80}")
}

/// Whether `code` calls a function or method named exactly `name`.
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(&format!("{name}(")).any(|(i, _)| {
        code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
    })
}

#[test]
fn the_cross_site_test_covers_every_state_changing_route_of_the_table() {
    let table = state_changing_routes_in_the_table();
    assert!(
        table.contains(&("POST".into(), "/conversations".into()))
            && table.contains(&("DELETE".into(), "/api/v1/conversations/{id}".into())),
        "the route table was not read: {table:?}"
    );
    let listed: Vec<(String, String)> = STATE_CHANGING
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    let missing: Vec<String> = table
        .iter()
        .filter(|route| !listed.contains(route))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "state-changing routes missing from STATE_CHANGING (add them, with a forged request \
         that would change something): {missing:?}"
    );
    let gone: Vec<String> = listed
        .iter()
        .filter(|route| !table.contains(route))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        gone.is_empty(),
        "STATE_CHANGING lists routes the table no longer has: {gone:?}"
    );
}

#[tokio::test]
async fn no_get_or_head_on_a_state_changing_path_changes_anything() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let targets = Targets::build(&app, &admin).await;
    let before = database_rows(&app.db).await;
    let posts = app.mock.posts();

    for (_, template) in STATE_CHANGING {
        let path = targets.path(template);
        for method in ["GET", "HEAD"] {
            let response = admin
                .request(method.parse().unwrap(), app.url(&path))
                .send()
                .await
                .unwrap();
            // A page or a listing where the path has one, otherwise "method not allowed".
            assert!(
                matches!(response.status().as_u16(), 200 | 405),
                "{method} {path}: {}",
                response.status()
            );
        }
    }

    let after = database_rows(&app.db).await;
    assert!(
        before == after,
        "GET or HEAD changed {:?}",
        changed_tables(&before, &after)
    );
    assert_eq!(app.mock.posts(), posts, "no model call was made");
    let page = admin.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the admin is still logged in");
}

//! The API keys settings page: only users get in, a new key is shown once and only its
//! hash is stored, and a key can be revoked by its owner or an admin, by nobody else.

use promptship::auth::api_key;

use crate::helpers::{TestApp, http_client};

async fn keys_page(app: &TestApp, client: &reqwest::Client) -> String {
    let response = client.get(app.url("/settings/keys")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The full key in a page: `ps_`, 10 hex characters, `_`, 64 hex characters.
fn full_key(html: &str) -> Option<String> {
    html.match_indices("ps_")
        .map(|(i, _)| {
            html[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .find(|token| token.len() == 3 + 10 + 1 + 64)
}

/// Creates a key from the settings page; returns the page and the key it showed.
async fn create_key(app: &TestApp, client: &reqwest::Client, name: &str) -> (String, String) {
    let response = app
        .post_form_as(client, "/settings/keys", &[("name", name)])
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    let key = full_key(&html).unwrap_or_else(|| panic!("no key in {html}"));
    (html, key)
}

/// The id of a stored key, found by the prefix in the key.
async fn key_id(app: &TestApp, key: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM api_keys WHERE prefix = ?")
        .bind(prefix(key))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

fn prefix(key: &str) -> &str {
    &key[3..13]
}

async fn is_revoked(app: &TestApp, id: i64) -> bool {
    sqlx::query_scalar::<_, Option<i64>>("SELECT revoked_at FROM api_keys WHERE id = ?")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
        .is_some()
}

/// The HTML of the table row that shows the key with this prefix.
fn row<'a>(html: &'a str, prefix: &str) -> &'a str {
    html.split("<tr>")
        .map(|tr| tr.split("</tr>").next().unwrap())
        .find(|tr| tr.contains(&format!("ps_{prefix}_…")))
        .unwrap_or_else(|| panic!("no row for {prefix} in {html}"))
}

#[tokio::test]
async fn a_guest_is_sent_to_the_login_page() {
    let app = TestApp::spawn().await;
    for response in [
        app.get("/settings/keys").await,
        app.post_form("/settings/keys", &[("name", "laptop")]).await,
        app.post_form("/settings/keys/1/revoke", &[]).await,
    ] {
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/login");
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_new_key_is_shown_once_with_an_example_and_only_its_hash_is_stored() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("user@example.com").await;
    let home = user.get(app.url("/")).send().await.unwrap();
    assert!(
        home.text()
            .await
            .unwrap()
            .contains("<a href=\"/settings/keys\">Settings</a>"),
        "the header links to the settings"
    );

    let (html, key) = create_key(&app, &user, "  laptop  ").await;
    assert!(html.contains("Copy this key now: it will not be shown again"));
    assert!(html.contains(&format!("curl {}/v1/chat/completions", app.address)));
    assert!(html.contains(&format!("Authorization: Bearer {key}")));
    assert_eq!(key.split('_').count(), 3, "{key}");

    let (name, stored_prefix, stored_hash): (String, String, String) =
        sqlx::query_as("SELECT name, prefix, key_hash FROM api_keys")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(name, "laptop", "the name is trimmed");
    assert_eq!(stored_prefix, prefix(&key));
    assert_eq!(stored_hash, api_key::hash(&key));
    assert_eq!(stored_hash.len(), 64, "a SHA-256 in hex");
    let secret = key.rsplit('_').next().unwrap();
    assert!(!stored_hash.contains(secret));

    let again = keys_page(&app, &user).await;
    assert!(!again.contains(&key), "the key was shown a second time");
    assert!(full_key(&again).is_none());
    assert!(!again.contains("Copy this key now"));
    let listed = row(&again, prefix(&key));
    assert!(listed.contains("laptop"), "{listed}");
    assert!(listed.contains("never"), "{listed}");
    assert!(listed.contains(">live<"), "{listed}");
    assert!(
        listed.contains("/revoke\""),
        "a live key has a Revoke button"
    );
}

#[tokio::test]
async fn the_example_uses_the_public_url_when_one_is_set() {
    let app = TestApp::spawn_with(&[("PUBLIC_URL", "http://chat.example.test/")]).await;
    let user = app.sign_up("user@example.com").await;
    let (html, _) = create_key(&app, &user, "laptop").await;
    assert!(
        html.contains("curl http://chat.example.test/v1/chat/completions"),
        "{html}"
    );
}

#[tokio::test]
async fn an_empty_or_too_long_key_name_is_422_with_a_reason_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("user@example.com").await;
    for name in ["", "   "] {
        let response = app
            .post_form_as(&user, "/settings/keys", &[("name", name)])
            .await;
        assert_eq!(response.status(), 422, "{name:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains("The name is empty"), "{html}");
        assert!(full_key(&html).is_none());
    }
    let long = "x".repeat(101);
    let response = app
        .post_form_as(&user, "/settings/keys", &[("name", &long)])
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("longer than 100 characters")
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_user_cannot_revoke_someone_elses_key() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let alice = app.sign_up("alice@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let (_, key) = create_key(&app, &alice, "alice's laptop").await;
    let id = key_id(&app, &key).await;

    let response = app
        .post_form_as(&bob, &format!("/settings/keys/{id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), 404);
    for path in ["/settings/keys/999999/revoke", "/settings/keys/abc/revoke"] {
        assert_eq!(
            app.post_form_as(&bob, path, &[]).await.status(),
            404,
            "{path}"
        );
    }

    assert!(!is_revoked(&app, id).await);
    assert!(row(&keys_page(&app, &alice).await, prefix(&key)).contains(">live<"));
    assert!(
        !keys_page(&app, &bob).await.contains(prefix(&key)),
        "Bob's page lists Alice's key"
    );
}

#[tokio::test]
async fn revoking_a_key_marks_it_revoked_in_the_list() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("user@example.com").await;
    let (_, key) = create_key(&app, &user, "old script").await;
    let (_, kept) = create_key(&app, &user, "new script").await;
    let id = key_id(&app, &key).await;

    let response = app
        .post_form_as(&user, &format!("/settings/keys/{id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/settings/keys");

    assert!(is_revoked(&app, id).await);
    let page = keys_page(&app, &user).await;
    let revoked = row(&page, prefix(&key));
    assert!(revoked.contains(">revoked<"), "{revoked}");
    assert!(
        !revoked.contains("/revoke\""),
        "a revoked key has no Revoke button"
    );
    assert!(row(&page, prefix(&kept)).contains(">live<"));
    assert!(!is_revoked(&app, key_id(&app, &kept).await).await);

    let again = app
        .post_form_as(&user, &format!("/settings/keys/{id}/revoke"), &[])
        .await;
    assert_eq!(again.status(), 404, "a key is revoked once");
}

#[tokio::test]
async fn only_an_admin_can_revoke_any_key_from_the_admin_page() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let (_, key) = create_key(&app, &user, "ci runner").await;
    let id = key_id(&app, &key).await;
    let path = format!("/admin/keys/{id}/revoke");

    for (who, client) in [("user", &user), ("anonymous", &http_client())] {
        let response = app.post_form_as(client, &path, &[]).await;
        assert_eq!(response.status(), 403, "{who}");
    }
    assert!(!is_revoked(&app, id).await);

    let page = admin.get(app.url("/admin")).send().await.unwrap();
    let page = page.text().await.unwrap();
    let listed = row(&page, prefix(&key));
    assert!(listed.contains("user@example.com"), "{listed}");
    assert!(listed.contains("ci runner"), "{listed}");
    assert!(listed.contains("never"), "{listed}");
    assert!(listed.contains(&format!("action=\"{path}\"")), "{listed}");
    assert!(!page.contains(&key), "the admin page shows the whole key");

    let response = app.post_form_as(&admin, &path, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin");
    assert!(is_revoked(&app, id).await);
    let page = admin.get(app.url("/admin")).send().await.unwrap();
    assert!(
        !page.text().await.unwrap().contains(prefix(&key)),
        "a revoked key is not listed as live"
    );
    assert!(row(&keys_page(&app, &user).await, prefix(&key)).contains(">revoked<"));

    for path in [path.as_str(), "/admin/keys/999999/revoke"] {
        assert_eq!(
            app.post_form_as(&admin, path, &[]).await.status(),
            404,
            "{path}"
        );
    }
}

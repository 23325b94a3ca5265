//! Share links: the owner shares a conversation or a run (and updates or revokes the
//! link on their "Shared links" page); anyone with the link reads the public page
//! `/s/{token}`, its preview image, and may continue it in their own chat; an admin pins
//! shares to the landing page's showcase.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::pages::{Layout, is_htmx};
use crate::{
    AppState,
    auth::Visitor,
    db::shares::{
        Pinned, delete_share, find_share, list_pinned_shares, list_shares, update_share_pinned,
    },
    error::{AppError, Thing},
    i18n::Lang,
    markdown,
    share::{self, Format, SharedRole, preview},
};

/// Pinned shares the landing page shows at most.
const SHOWCASE: i64 = 6;

/// How long browsers and link unfurlers keep a preview image. Its URL changes with each
/// update of the share (`?v=`), so only a revoked share's image can outlive it, as long
/// as this.
const PREVIEW_MAX_AGE: &str = "public, max-age=86400";

/// The address pages are reached at: `PUBLIC_URL`, else the request's host.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    super::keys::base_url(state, headers)
}

/// A share page and its image are nobody's to index, and leave no trace of where the
/// reader came from; on 404s too.
pub async fn private_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `YYYY-MM-DD` (UTC) of Unix milliseconds.
fn day(ms: i64) -> String {
    super::keys::utc_minute(ms).chars().take(10).collect()
}

// ---------------------------------------------------------------------------------
// Sharing

/// The link just made or updated, shown in the chat's menu (htmx).
#[derive(Template, WebTemplate)]
#[template(path = "partials/share_link.html")]
pub struct ShareLinkFragment {
    lang: Lang,
    url: String,
}

/// Shares a conversation or a run of the visitor's, or refreshes its snapshot on the
/// same link. An answer still being written is left out of it.
pub async fn share_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let share = share::share_conversation(&state, &owner, &id).await?;
    if is_htmx(&headers) {
        let url = format!("{}/s/{}", base_url(&state, &headers), share.token);
        return Ok(ShareLinkFragment {
            lang: visitor.lang,
            url,
        }
        .into_response());
    }
    Ok(Redirect::to("/settings/shares").into_response())
}

// ---------------------------------------------------------------------------------
// The public page

/// A question or an answer as the share page shows it.
pub struct SharedView {
    role: &'static str,
    /// A question's text; an image's description.
    text: String,
    /// An answer's sanitized HTML.
    html: String,
    /// `markdown` or `structured`, as the chat styles them.
    class: &'static str,
    image: Option<String>,
}

pub struct RunView {
    /// The app's title in the reader's language.
    app: String,
    icon: String,
    input: Vec<share::Field>,
}

#[derive(Template, WebTemplate)]
#[template(path = "share.html")]
pub struct SharePage {
    layout: Layout,
    id: i64,
    token: String,
    title: String,
    run: Option<RunView>,
    messages: Vec<SharedView>,
    /// The first answer as plain text (or the site's tagline): the preview's description.
    description: String,
    /// This page's absolute URL.
    url: String,
    /// The preview image's absolute URL, versioned by the snapshot.
    image: String,
    /// The day of the snapshot.
    updated: String,
    pinned: bool,
}

/// The public, read-only page of a share. An unknown token and a revoked one get the
/// same 404 after the same single lookup.
pub async fn show_share(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<SharePage, AppError> {
    let share = find_share(&state.db, &token)
        .await?
        .ok_or(AppError::NotFound(Thing::Share))?;
    let snapshot = share::read_snapshot(&share)?;
    let lang = visitor.lang;
    let messages = snapshot
        .messages
        .iter()
        .map(|message| {
            let (html, class) = match (message.role, message.format) {
                (SharedRole::User, _) | (_, Format::Image) => (String::new(), "markdown"),
                (SharedRole::Assistant, Format::Json) => (
                    share::structured(&message.content)
                        .map(|value| crate::apps::output_html(&value))
                        .unwrap_or_default(),
                    "structured",
                ),
                (SharedRole::Assistant, Format::Markdown) => {
                    (markdown::to_safe_html(&message.content), "markdown")
                }
            };
            SharedView {
                role: match message.role {
                    SharedRole::User => "user",
                    SharedRole::Assistant => "assistant",
                },
                text: message.content.clone(),
                html,
                class,
                image: message.image.clone(),
            }
        })
        .collect();
    let run = snapshot.run.map(|run| RunView {
        app: match (lang, run.title_ko) {
            (Lang::Ko, Some(korean)) => korean,
            _ => run.title,
        },
        icon: run.icon,
        input: run.input,
    });
    let base = base_url(&state, &headers);
    let description = if snapshot.excerpt.is_empty() {
        share::excerpt(&state.site.tagline)
    } else {
        snapshot.excerpt
    };
    // The site's header as usual, without the sidebar's query.
    let layout = Layout {
        user_email: visitor.user.as_ref().map(|u| u.email.clone()),
        is_admin: visitor.is_admin(),
        can_review: visitor.user.as_ref().is_some_and(|u| u.can_review()),
        page: visitor.page.clone(),
        ..Layout::bare(&state, lang)
    };
    Ok(SharePage {
        layout,
        id: share.id,
        url: format!("{base}/s/{}", share.token),
        image: format!(
            "{base}/s/{}/preview.png?v={}",
            share.token, share.updated_at
        ),
        token: share.token,
        title: share.title,
        run,
        messages,
        description,
        updated: day(share.updated_at),
        pinned: share.pinned_at.is_some(),
    })
}

/// The share's preview image, drawn once per snapshot. Revalidated by its `ETag` (the
/// snapshot's time).
pub async fn show_preview(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let share = find_share(&state.db, &token)
        .await?
        .ok_or(AppError::NotFound(Thing::Share))?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", share.updated_at))
        .expect("digits are a valid header");
    let cache = HeaderValue::from_static(PREVIEW_MAX_AGE);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value == etag)
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let site = state.site.name.clone();
    // Drawing takes milliseconds of CPU: off the async threads.
    let png = tokio::task::spawn_blocking(move || {
        preview::cached(&share.token, share.updated_at, &site, &share.title)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        Body::from(png),
    )
        .into_response())
}

/// "Continue in my own chat": the share's questions and answers copied into a new
/// conversation of the visitor's, opened next. No model call, nothing charged.
pub async fn continue_share(
    State(state): State<AppState>,
    mut visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Redirect, AppError> {
    let conversation = share::continue_share(&state, &mut visitor, &token).await?;
    Ok(Redirect::to(&format!("/conversations/{}", conversation.id)))
}

// ---------------------------------------------------------------------------------
// The owner's "Shared links" page

pub struct ShareRow {
    id: i64,
    conversation_id: String,
    title: String,
    url: String,
    created: String,
    updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "shares.html")]
pub struct SharesPage {
    layout: Layout,
    shares: Vec<ShareRow>,
}

/// The visitor's shares (a guest's too), with Update and Revoke.
pub async fn show_shares(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
) -> Result<SharesPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let shares = match visitor.owner() {
        Some(owner) => list_shares(&mut *conn, &owner).await?,
        None => Vec::new(),
    };
    let layout = Layout::load_on(&mut conn, &state, &visitor, None).await?;
    drop(conn);
    let base = base_url(&state, &headers);
    Ok(SharesPage {
        layout,
        shares: shares
            .into_iter()
            .map(|share| ShareRow {
                id: share.id,
                url: format!("{base}/s/{}", share.token),
                conversation_id: share.conversation_id,
                title: share.title,
                created: super::keys::utc_minute(share.created_at),
                updated: super::keys::utc_minute(share.updated_at),
            })
            .collect(),
    })
}

/// A share's id from its path: anything but a number is no share.
fn share_id(id: &str) -> Result<i64, AppError> {
    id.parse().map_err(|_| AppError::NotFound(Thing::Share))
}

/// Revokes a share of the visitor's: its link is a 404 from the next request on.
pub async fn revoke_share(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = share_id(&id)?;
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Share))?;
    if !delete_share(&state.db, &owner, id).await? {
        return Err(AppError::NotFound(Thing::Share));
    }
    Ok(Redirect::to("/settings/shares"))
}

// ---------------------------------------------------------------------------------
// The showcase

/// The landing page's "See it in action" cards: the pinned shares, newest pin first.
pub async fn showcase(state: &AppState) -> Result<Vec<Pinned>, AppError> {
    Ok(list_pinned_shares(&state.db, SHOWCASE).await?)
}

/// Pins a share to the showcase (an admin's choice; anyone else finds no such page).
pub async fn pin_share(
    state: State<AppState>,
    visitor: Visitor,
    id: Path<String>,
) -> Result<Redirect, AppError> {
    set_pinned(state, visitor, id, true).await
}

pub async fn unpin_share(
    state: State<AppState>,
    visitor: Visitor,
    id: Path<String>,
) -> Result<Redirect, AppError> {
    set_pinned(state, visitor, id, false).await
}

async fn set_pinned(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    pinned: bool,
) -> Result<Redirect, AppError> {
    if !visitor.is_admin() {
        return Err(AppError::NotFound(Thing::Page));
    }
    let token = update_share_pinned(&state.db, share_id(&id)?, pinned)
        .await?
        .ok_or(AppError::NotFound(Thing::Share))?;
    Ok(Redirect::to(&format!("/s/{token}")))
}

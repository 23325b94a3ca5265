//! Middleware of every request: the client's address, cross-site refusal, security
//! headers, and error rendering.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use askama::Template;
use axum::body::HttpBody;
use axum::{
    Json,
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use http_body_util::BodyExt;

use super::{
    REQUEST_ID,
    bodies::{ApiError, ApiFieldProblem, OpenAiError},
    pages,
};
use crate::{
    AppState,
    auth::{AuthSession, ClientIp, api_key, client_ip},
    db::users::UserRole,
    error::{AppError, ErrorReport},
    i18n::{Lang, Text},
};

pub async fn record_client_ip(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ip = client_ip(peer, request.headers(), &state.config.trusted_proxies);
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// Guards every request that may change something (any method but GET, HEAD and
/// OPTIONS), cheapest refusal first: one from another site (403), one past the address's
/// `WRITE_RATE_PER_MINUTE` (429), then its body read within the time and size limits
/// (`read_body`). Reads pass untouched. One layer for the three: each layer of the
/// site's router is cloned for every request, reads included.
pub async fn guard_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    if let Err(refusal) = refuse_cross_site(&state, &request) {
        return refusal.into_response();
    }
    let ip = request
        .extensions()
        .get::<ClientIp>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |ClientIp(ip)| *ip);
    if let Err(refusal) = state.limits.write(ip) {
        return refusal.into_response();
    }
    read_body(State(state), request, next).await
}

/// Refuses a state-changing request that a browser marks as coming from another site.
/// Browsers send `Sec-Fetch-Site` (and `Origin`) on every cross-site POST, so a forged
/// form or fetch elsewhere cannot act with the visitor's cookie; clients that are not
/// browsers send neither and carry no cookie to abuse.
fn refuse_cross_site(state: &AppState, request: &Request) -> Result<(), AppError> {
    // A request with a key (API clients of `/api/v1`) is authenticated by that key
    // alone, which a browser never adds by itself. (Basic credentials it does add, behind
    // a proxy that asks for them: those requests are checked like any other.)
    if api_key::bearer(request.headers()).is_some() {
        return Ok(());
    }
    let headers = request.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let cross_site = match fetch_site {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) => !is_own_origin(origin, headers, state.config.public_url.as_deref()),
            None => false,
        },
    };
    if cross_site {
        tracing::warn!(?fetch_site, "refused a cross-site request");
        return Err(AppError::Forbidden(Text::new("error-cross-site")));
    }
    Ok(())
}

fn is_own_origin(origin: &str, headers: &HeaderMap, public_url: Option<&str>) -> bool {
    if let Some(public) = public_url {
        return origin == public.trim_end_matches('/');
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|host| {
        origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            == Some(host)
    })
}

/// Reads a request's body before its handler runs: within `BODY_READ_TIMEOUT_SECS`,
/// however slowly the client sends it (408 after that: hyper's own timeout covers only
/// the headers), and within `BODY_LIMIT` (413). A form must be UTF-8 once
/// percent-decoded (400): a browser's always is, and decoding it anyway would store
/// replacement characters the user never typed.
pub async fn read_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // The new batch form carries a file of inputs, up to its own cap.
    let upload = parts.uri.path() == super::batches::UPLOAD_PATH;
    let limit = if upload {
        super::upload_limit(&state)
    } else {
        super::BODY_LIMIT
    };
    let limited = http_body_util::Limited::new(body, limit);
    let bytes = match tokio::time::timeout(state.config.body_read_timeout, limited.collect()).await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            let message = if upload {
                super::batches::too_large(state.config.batch_max_upload_bytes)
            } else {
                too_large()
            };
            return AppError::TooLarge(message).into_response();
        }
        Ok(Err(_)) => {
            return AppError::BadRequest(Text::new("error-body-unread")).into_response();
        }
        Err(_) => {
            let mut response = AppError::TimedOut(
                Text::new("error-body-slow")
                    .arg("seconds", state.config.body_read_timeout.as_secs()),
            )
            .into_response();
            // The rest of the body may still come: the connection cannot be reused.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    if is_form(&parts.headers) && !is_utf8_form(&bytes) {
        return AppError::BadRequest(Text::new("error-form-not-utf8")).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// What a client is told when its body is over `BODY_LIMIT`.
pub fn too_large() -> Text {
    Text::new("error-body-too-large").arg("kib", super::BODY_LIMIT / 1024)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Whether every name and value of a form is UTF-8 once percent-decoded.
fn is_utf8_form(body: &[u8]) -> bool {
    body.split(|&b| b == b'&' || b == b'=')
        .all(|part| percent_encoding::percent_decode(part).decode_utf8().is_ok())
}

/// The headers every response gets, errors and streams included.
pub fn security_headers(https: bool) -> Arc<[(HeaderName, HeaderValue)]> {
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            // No inline script or style anywhere, so none is allowed; images only from us.
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
             form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ));
    }
    headers
        .into_iter()
        .map(|(name, value)| (name, HeaderValue::from_static(value)))
        .collect()
}

/// Adds `headers` to a response, except those its handler set itself (the API
/// reference's own CSP).
pub fn add_headers<B>(
    mut response: http::Response<B>,
    headers: &[(HeaderName, HeaderValue)],
) -> http::Response<B> {
    let present = response.headers_mut();
    for (name, value) in headers {
        if !present.contains_key(name) {
            present.insert(name, value.clone());
        }
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: pages::Layout,
    status: u16,
    reason: Text,
    message: String,
    request_id: Option<String>,
}

/// An error page's heading.
fn reason(status: StatusCode) -> Text {
    match status.as_u16() {
        400 => Text::new("status-400"),
        401 => Text::new("status-401"),
        403 => Text::new("status-403"),
        404 => Text::new("status-404"),
        405 => Text::new("status-405"),
        408 => Text::new("status-408"),
        409 => Text::new("status-409"),
        413 => Text::new("status-413"),
        415 => Text::new("status-415"),
        422 => Text::new("status-422"),
        429 => Text::new("status-429"),
        500 => Text::new("status-500"),
        502 => Text::new("status-502"),
        503 => Text::new("status-503"),
        _ => Text::new("status-other"),
    }
}

/// An error shown inside a page by htmx.
#[derive(Template)]
#[template(source = "<p class=\"error\">{{ message }}</p>", ext = "html")]
struct ErrorNotice {
    message: String,
}

/// Turns an [`ErrorReport`] into the body its visitor understands: JSON for the API, a
/// small fragment for htmx (shown in the page's notice area), a full page otherwise.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let is_openai = request.uri().path().starts_with("/v1/");
    let is_htmx = request.headers().contains_key("hx-request");
    let lang = Lang::of(request.headers());
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let user = request
        .extensions()
        .get::<AuthSession>()
        .and_then(|auth| auth.user.clone());
    let mut response = next.run(request).await;
    let Some(ErrorReport {
        status,
        message,
        fields,
    }) = response.extensions_mut().remove::<ErrorReport>()
    else {
        return response;
    };
    let kept_headers = response.headers().clone();
    let shown_id = request_id.clone().filter(|_| status.is_server_error());
    let mut response = if is_openai {
        // Always English, whatever the client's headers: OpenAI's own API answers in
        // English, and SDKs and the programs around them match on these texts (and a
        // browser's Accept-Language, sent by a web page calling `/v1`, says nothing of
        // what the program expects).
        Json(OpenAiError::new(status, message.to_string())).into_response()
    } else if is_api {
        let fields = fields
            .iter()
            .map(|problem| ApiFieldProblem::new(&problem.field, problem.message.in_lang(lang)))
            .collect();
        Json(ApiError::new(status, message.in_lang(lang), request_id).with_fields(fields))
            .into_response()
    } else if is_htmx {
        let notice = ErrorNotice {
            message: message.in_lang(lang),
        };
        let mut response = match notice.render() {
            Ok(html) => Html(html).into_response(),
            Err(_) => notice.message.into_response(),
        };
        // Errors go to the notice area, never over the conversation.
        let headers = response.headers_mut();
        headers.insert("hx-retarget", HeaderValue::from_static("#notice"));
        headers.insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        response
    } else {
        let mut layout = pages::Layout::bare(&state, lang);
        layout.user_email = user.as_ref().map(|u| u.email.clone());
        layout.is_admin = user.as_ref().is_some_and(|u| u.role == UserRole::Admin);
        let page = ErrorPage {
            layout,
            status: status.as_u16(),
            reason: reason(status),
            message: message.in_lang(lang),
            request_id: shown_id,
        };
        match page.render() {
            Ok(html) => Html(html).into_response(),
            Err(_) => page.message.into_response(),
        }
    };
    *response.status_mut() = status;
    // Headers the error set for its client, such as Retry-After.
    for (name, value) in &kept_headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

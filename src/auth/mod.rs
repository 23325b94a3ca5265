//! Who is asking: accounts (axum-login over tower-sessions, stored in SQLite), guests (a
//! random id in their session), password rules and hashing, and login throttling with its
//! device cookies.

mod address;
pub mod api_key;
mod device;
mod password;
mod throttle;

use std::{net::IpAddr, time::Duration};

use axum::{
    extract::FromRequestParts,
    http::{Method, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use axum_login::{AuthUser, AuthnBackend, UserId};
use sqlx::SqlitePool;
use tower_sessions::{
    CachingSessionStore, Expiry, Session, SessionManagerLayer,
    cookie::{SameSite, time},
};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_sqlx_store::SqliteStore;

pub use address::{ClientIp, client_ip, network, network_label};
use api_key::ApiVisitor;
pub use device::{
    DEVICE_TRUST_DAYS, DEVICES_PER_USER, device_cookie, device_token, new_device_token,
};
pub use password::{Hasher, check_new_password};
pub use throttle::{LoginClient, LoginThrottle};

use crate::{
    AppState,
    db::{
        guests::upsert_guest_seen,
        users::{User, UserRole, find_user, find_user_by_email},
    },
    domain::Owner,
    error::{AppError, Thing},
    i18n::{Lang, Text},
};

/// The session key holding a guest's id.
const GUEST_KEY: &str = "guest_id";

/// The session key holding the day (since the Unix epoch) a guest was last seen.
const GUEST_SEEN_KEY: &str = "guest_seen";

/// Sessions end after this long without a change (a login, a guest's daily visit).
const SESSION_IDLE_DAYS: i64 = 30;

/// A guest not seen for this long has lost their session, and with it every way back
/// to their conversations: they are deleted (a day more than a session lasts).
pub const GUEST_RETENTION: Duration = Duration::from_secs((SESSION_IDLE_DAYS as u64 + 1) * 86_400);

/// The day of `now_ms`, in days since the Unix epoch.
fn day(now_ms: i64) -> i64 {
    now_ms.div_euclid(86_400_000)
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    /// Sessions are tied to the password hash: a password change ends the other sessions.
    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

/// What a login form sends.
#[derive(Clone)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// Checks credentials against the `users` table.
#[derive(Clone, Debug)]
pub struct Backend {
    pub db: SqlitePool,
    pub hasher: Hasher,
    pub users: UserCache,
}

/// Users read in the last minute, so a signed-in page view does not read its user again.
/// Every change the app makes to a user (the admin page's) calls `forget`; a change made
/// around the app (straight in the database) shows within a minute.
#[derive(Clone, Debug)]
pub struct UserCache(moka::sync::Cache<i64, User>);

impl Default for UserCache {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
        )
    }
}

impl UserCache {
    pub fn forget(&self, user_id: i64) {
        self.0.invalidate(&user_id);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Hashing(#[from] anyhow::Error),
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = BackendError;

    async fn authenticate(&self, credentials: Credentials) -> Result<Option<User>, BackendError> {
        let user = find_user_by_email(&self.db, credentials.email.trim()).await?;
        // An unknown email is checked against a dummy hash, so it takes as long as a
        // wrong password and the two cannot be told apart.
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let valid = self.hasher.verify(credentials.password, hash).await?;
        Ok(user.filter(|u| valid && !u.disabled))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, BackendError> {
        let user = match self.users.0.get(id) {
            Some(user) => Some(user),
            None => {
                let user = find_user(&self.db, *id).await?;
                if let Some(user) = &user {
                    self.users.0.insert(*id, user.clone());
                }
                user
            }
        };
        Ok(user.filter(|u| !u.disabled))
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;

/// Sessions read recently, kept in memory in front of SQLite: a page view reads none from
/// the database (writes still go to both; the user behind a session is still checked on
/// every request, so disabling them takes effect at once).
pub type SessionStore = CachingSessionStore<MokaStore, SqliteStore>;

/// Sessions held in memory at most.
const CACHED_SESSIONS: u64 = 10_000;

/// The session cookie: HttpOnly, SameSite=Lax, and `Secure` with the `__Host-` prefix
/// (no Domain, path /) when the site is served over https.
pub fn session_layer(store: SqliteStore, https: bool) -> SessionManagerLayer<SessionStore> {
    let cache = MokaStore::new(Some(CACHED_SESSIONS));
    SessionManagerLayer::new(CachingSessionStore::new(cache, store))
        .with_name(if https {
            "__Host-promptship"
        } else {
            "promptship"
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            SESSION_IDLE_DAYS,
        )))
}

/// The person behind a request: a logged-in user or a guest, and their address.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub user: Option<User>,
    pub session: Session,
    pub ip: IpAddr,
    /// The language the pages are written in for them.
    pub lang: Lang,
    /// The page asked for (path and query) when it is a GET, where switching the
    /// language comes back to; `/` otherwise.
    pub page: String,
    guest_id: Option<String>,
}

impl Visitor {
    /// Who owns what this visitor creates; `None` for a guest who has done nothing yet.
    pub fn owner(&self) -> Option<Owner> {
        match (&self.user, &self.guest_id) {
            (Some(user), _) => Some(Owner::User(user.id)),
            (None, Some(guest)) => Some(Owner::Guest(guest.clone())),
            (None, None) => None,
        }
    }

    /// The owner, creating a guest (and with it the session cookie) on first use; at
    /// most `GUESTS_PER_HOUR` a guest per address.
    pub async fn owner_or_new_guest(&mut self, state: &AppState) -> Result<Owner, AppError> {
        if let Some(owner) = self.owner() {
            return Ok(owner);
        }
        state.limits.new_guest(self.ip)?;
        let guest = uuid::Uuid::new_v4().to_string();
        let now = state.clock.now_ms();
        upsert_guest_seen(&mut *state.db.acquire().await?, &guest, now).await?;
        let session = |e: tower_sessions::session::Error| AppError::Internal(e.into());
        self.session
            .insert(GUEST_KEY, &guest)
            .await
            .map_err(session)?;
        self.session
            .insert(GUEST_SEEN_KEY, day(now))
            .await
            .map_err(session)?;
        self.guest_id = Some(guest.clone());
        Ok(Owner::Guest(guest))
    }

    pub fn is_admin(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == UserRole::Admin)
    }

    /// The guest id this session had before logging in, to hand its conversations over.
    pub fn guest_id(&self) -> Option<&str> {
        self.guest_id.as_deref()
    }

    pub async fn forget_guest(&self) -> Result<(), AppError> {
        self.session
            .remove::<String>(GUEST_KEY)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| AppError::Internal(anyhow::anyhow!(message)))?;
        let ip = parts
            .extensions
            .get::<ClientIp>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |ClientIp(ip)| *ip);
        let lang = Lang::of(&parts.headers);
        let page = match parts.method {
            Method::GET => parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string(),
            _ => "/".to_string(),
        };
        // A request that brings a key is that key's user, or nobody: it never falls back
        // to a session cookie, so a forged cross-site request cannot ride on one.
        if api_key::bearer(&parts.headers).is_some() {
            let api_visitor = ApiVisitor::from_request_parts(parts, state).await?;
            return Ok(Self {
                user: Some(api_visitor.user),
                session: auth.session,
                ip,
                lang,
                page,
                guest_id: None,
            });
        }
        let session = |e: tower_sessions::session::Error| AppError::Internal(e.into());
        let guest_id = auth
            .session
            .get::<String>(GUEST_KEY)
            .await
            .map_err(session)?;
        // A guest seen on a new day: noted, and the session (saved only when it changes)
        // extended with it. A guest not seen for longer than a session lasts is gone, and
        // swept with everything of theirs.
        let now = state.clock.now_ms();
        if let (None, Some(guest)) = (&auth.user, &guest_id)
            && auth
                .session
                .get::<i64>(GUEST_SEEN_KEY)
                .await
                .map_err(session)?
                != Some(day(now))
        {
            upsert_guest_seen(&mut *state.db.acquire().await?, guest, now).await?;
            auth.session
                .insert(GUEST_SEEN_KEY, day(now))
                .await
                .map_err(session)?;
        }
        Ok(Self {
            user: auth.user,
            session: auth.session,
            ip,
            lang,
            page,
            guest_id,
        })
    }
}

/// An extractor for admin-only routes: everyone else gets 403.
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        match visitor.user {
            Some(user) if user.role == UserRole::Admin => Ok(Admin(user)),
            Some(_) => Err(AppError::Forbidden(Text::new("error-admins-only"))),
            None => Err(AppError::Forbidden(Text::new("error-admins-only-log-in"))),
        }
    }
}

/// A visitor with a user, for pages of one's own; a guest is sent to the login page
/// instead.
pub struct SignedIn {
    pub visitor: Visitor,
    pub user: User,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let visitor = Visitor::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match visitor.user.clone() {
            Some(user) => Ok(Self { visitor, user }),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// How long to keep expired sessions before deleting them.
pub const EXPIRED_SESSION_SWEEP: Duration = Duration::from_secs(3600);

/// Creates an admin account, or makes an existing account an admin with this password
/// (`promptship create-admin`). The password rules of sign-up apply.
pub async fn create_admin(
    db: &SqlitePool,
    hasher: &Hasher,
    email: &str,
    password: String,
) -> Result<User, AppError> {
    let email = email.trim().to_lowercase();
    check_new_password(&password, &email)?;
    let hash = hasher.hash(password).await?;
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let user = match crate::db::users::insert_user(&mut tx, &email, &hash, UserRole::Admin).await {
        Ok(user) => user,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            drop(tx);
            let existing = find_user_by_email(db, &email)
                .await?
                .ok_or(AppError::NotFound(Thing::User))?;
            crate::db::users::update_user_password(db, existing.id, &hash).await?;
            crate::db::users::update_user_role(db, existing.id, UserRole::Admin).await?;
            return find_user(db, existing.id)
                .await?
                .ok_or(AppError::NotFound(Thing::User));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(user)
}

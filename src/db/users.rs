//! SQL for `users` and `invites`.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::domain::now_ms;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum UserRole {
    User,
    Admin,
}

/// A user row. It holds the password hash, so it is never serialized to a client.
#[derive(Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: UserRole,
    pub disabled: bool,
    pub daily_token_budget: Option<i64>,
    pub created_at: i64,
    /// May work through the review queue (an admin always may).
    pub reviewer: bool,
    /// Keeps their conversations out of every dataset export.
    pub data_opt_out: bool,
}

impl User {
    /// Whether the user may open `/review`: admins and reviewers.
    pub fn can_review(&self) -> bool {
        self.role == UserRole::Admin || self.reviewer
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

pub async fn insert_user(
    conn: &mut sqlx::SqliteConnection,
    email: &str,
    password_hash: &str,
    role: UserRole,
) -> sqlx::Result<User> {
    let now = now_ms();
    sqlx::query_as!(
        User,
        r#"INSERT INTO users (email, password_hash, role, created_at) VALUES (?, ?, ?, ?)
           RETURNING id, email, password_hash, role AS "role: UserRole",
                     disabled AS "disabled: bool", daily_token_budget, created_at,
                  reviewer AS "reviewer: bool", data_opt_out AS "data_opt_out: bool""#,
        email,
        password_hash,
        role,
        now
    )
    .fetch_one(conn)
    .await
}

pub async fn find_user(db: &SqlitePool, id: i64) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"SELECT id, email, password_hash, role AS "role: UserRole",
                  disabled AS "disabled: bool", daily_token_budget, created_at,
                  reviewer AS "reviewer: bool", data_opt_out AS "data_opt_out: bool"
           FROM users WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await
}

pub async fn find_user_by_email(db: &SqlitePool, email: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"SELECT id, email, password_hash, role AS "role: UserRole",
                  disabled AS "disabled: bool", daily_token_budget, created_at,
                  reviewer AS "reviewer: bool", data_opt_out AS "data_opt_out: bool"
           FROM users WHERE email = ?"#,
        email
    )
    .fetch_optional(db)
    .await
}

pub async fn list_users(db: &SqlitePool) -> sqlx::Result<Vec<User>> {
    sqlx::query_as!(
        User,
        r#"SELECT id, email, password_hash, role AS "role: UserRole",
                  disabled AS "disabled: bool", daily_token_budget, created_at,
                  reviewer AS "reviewer: bool", data_opt_out AS "data_opt_out: bool"
           FROM users ORDER BY id"#
    )
    .fetch_all(db)
    .await
}

pub async fn update_user_password(
    db: &SqlitePool,
    id: i64,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET password_hash = ? WHERE id = ?",
        password_hash,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_user_role(db: &SqlitePool, id: i64, role: UserRole) -> sqlx::Result<bool> {
    let result = sqlx::query!("UPDATE users SET role = ? WHERE id = ?", role, id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn update_user_reviewer(db: &SqlitePool, id: i64, reviewer: bool) -> sqlx::Result<bool> {
    let result = sqlx::query!("UPDATE users SET reviewer = ? WHERE id = ?", reviewer, id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The account page's switch: whether the user's conversations stay out of exports.
pub async fn update_user_data_opt_out(
    db: &SqlitePool,
    id: i64,
    opt_out: bool,
) -> sqlx::Result<bool> {
    let result = sqlx::query!(
        "UPDATE users SET data_opt_out = ? WHERE id = ?",
        opt_out,
        id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn update_user_disabled(db: &SqlitePool, id: i64, disabled: bool) -> sqlx::Result<bool> {
    let result = sqlx::query!("UPDATE users SET disabled = ? WHERE id = ?", disabled, id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn update_user_budget(
    db: &SqlitePool,
    id: i64,
    budget: Option<i64>,
) -> sqlx::Result<bool> {
    let result = sqlx::query!(
        "UPDATE users SET daily_token_budget = ? WHERE id = ?",
        budget,
        id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives a guest's conversations to the account they signed up or logged in with.
pub async fn update_conversations_owner(
    db: &SqlitePool,
    guest_id: &str,
    user_id: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "UPDATE conversations SET user_id = ?, guest_id = NULL WHERE guest_id = ? AND user_id IS NULL",
        user_id,
        guest_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

pub async fn insert_invite(db: &SqlitePool, code: &str, created_by: i64) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query!(
        "INSERT INTO invites (code, created_by, created_at) VALUES (?, ?, ?)",
        code,
        created_by,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
pub struct Invite {
    pub code: String,
    pub used_by_email: Option<String>,
    pub created_at: i64,
}

pub async fn list_invites(db: &SqlitePool) -> sqlx::Result<Vec<Invite>> {
    sqlx::query_as!(
        Invite,
        r#"SELECT invites.code AS "code!", users.email AS used_by_email, invites.created_at
           FROM invites LEFT JOIN users ON users.id = invites.used_by
           ORDER BY invites.created_at DESC LIMIT 50"#
    )
    .fetch_all(db)
    .await
}

/// Marks an unused invite as used; returns whether it was valid.
pub async fn update_invite_used(
    conn: &mut sqlx::SqliteConnection,
    code: &str,
    user_id: i64,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let result = sqlx::query!(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
        user_id,
        now,
        code
    )
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

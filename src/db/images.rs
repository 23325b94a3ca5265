//! SQL for the `images` table: pictures made by image apps, kept by content hash with
//! the answer that made it.

use sqlx::SqliteConnection;

/// A stored picture.
pub struct StoredImage {
    pub mime: String,
    pub data: Vec<u8>,
}

/// Stores an answer's picture, in the transaction that saves the answer.
pub async fn insert_image(
    conn: &mut SqliteConnection,
    hash: &str,
    message_id: i64,
    mime: &str,
    data: &[u8],
) -> sqlx::Result<()> {
    let now = crate::domain::now_ms();
    sqlx::query!(
        "INSERT OR IGNORE INTO images (hash, message_id, mime, data, created_at)
         VALUES (?, ?, ?, ?, ?)",
        hash,
        message_id,
        mime,
        data,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The picture with this hash, whichever answer made it.
pub async fn find_image(
    db: impl sqlx::SqliteExecutor<'_>,
    hash: &str,
) -> sqlx::Result<Option<StoredImage>> {
    sqlx::query_as!(
        StoredImage,
        "SELECT mime, data FROM images WHERE hash = ? LIMIT 1",
        hash
    )
    .fetch_optional(db)
    .await
}

/// Keeps a picture for another answer too (a copy of a shared conversation), so it
/// outlives the answer that made it.
pub async fn insert_image_copy(
    conn: &mut SqliteConnection,
    hash: &str,
    message_id: i64,
) -> sqlx::Result<()> {
    let now = crate::domain::now_ms();
    sqlx::query!(
        "INSERT OR IGNORE INTO images (hash, message_id, mime, data, created_at)
         SELECT hash, ?, mime, data, ? FROM images WHERE hash = ? LIMIT 1",
        message_id,
        now,
        hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

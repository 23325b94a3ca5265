//! promptship: a starter template for publishing an LLM-backed web service.
//!
//! # Map
//!
//! From the edge inwards. The bottom stays independent of the top: `domain` imports
//! nothing from the crate, `llm` only `domain`, `db` only `domain` and `config`, and
//! `auth` nothing from `routes` (`tests/layers.rs` holds them to it).
//!
//! - [`startup`] — [`AppState`] built from the settings, [`serve`] with its graceful
//!   shutdown, the accept loop and the house-keeping task.
//! - [`routes`] — every URL, the middleware, pages (Askama + htmx), the JSON API, the
//!   OpenAI-compatible `/v1`, probes.
//! - [`error`] — the one `AppError`, mapped to a status and a body.
//! - [`auth`] — who is asking (the `Visitor`): accounts, guests, API keys, passwords, login
//!   throttling, the client's address.
//! - [`limits`] — per-address request rates.
//! - [`chat`] — a turn: save the question, call the model, relay the answer, save it.
//! - [`batches`] — dataset batches: an app or the chat prompt run over many inputs
//!   (uploaded, or proposed by the model) in the background, surviving restarts.
//! - [`budget`] — cost control: whom a call is charged to (`Spender`), today's spending
//!   (`Meter`), the reservation every model call needs, and the ledger writer.
//! - [`drain`] — the open answers a shutdown waits for, then cuts off.
//! - [`share`] — share links: a conversation's or a run's read-only snapshot at
//!   `/s/{token}`, its preview image, and the copy a visitor continues in their own chat.
//! - [`markdown`] — model output to sanitized HTML.
//! - [`i18n`] — English and Korean: the visitor's language, and the sentences of
//!   `locales/` in it.
//! - [`export`] — reviewed and corrected answers as fine-tuning data (OpenAI, TRL,
//!   LLaMA-Factory formats), checked and streamed page by page.
//! - [`apps`] — prompt apps: `apps/*.prompt` files (dotprompt) parsed, checked and
//!   compiled at start, rendered into chat messages as the reference does.
//! - [`llm`] — the model client (async-openai) and the built-in demo model.
//! - [`db`] — SQLite pool, migrations, backups, and the SQL of each table.
//! - [`domain`] — the types the layers share: owners, roles, statuses, the clock.
//! - [`config`] — settings from the environment and the site file `promptship.toml`.
//! - [`telemetry`] — logs and metrics.
//! - [`doctor`] — `promptship doctor`: checks a deployment's settings.
//!
//! # A request's path
//!
//! `POST /conversations/{id}/messages` → the accept loop (`startup`) hands the connection
//! to the router → middleware (request id, trace, client address, the write guard, error
//! rendering) → `routes::pages::send_message`, whose `auth::Visitor` says who is asking →
//! `chat::start_turn` charges the visitor's `budget::Spender`: in one transaction it saves
//! the question and an empty answer and reserves the call's budget (`budget::Meter`, the
//! entry in `db::ledger`) → a task streams from the model via `llm::LlmClient` → deltas
//! are relayed to the browser as server-sent events → the answer is saved when it ends,
//! however it ends, and its reservation settled by the ledger writer.

pub mod apps;
pub mod auth;
pub mod batches;
pub mod budget;
pub mod chat;
pub mod config;
pub mod db;
pub mod doctor;
pub mod domain;
pub mod drain;
pub mod error;
pub mod export;
pub mod i18n;
pub mod limits;
pub mod llm;
pub mod markdown;
pub mod routes;
pub mod share;
pub mod startup;
pub mod telemetry;

pub use startup::{AppState, Shared, serve, shutdown_signal};

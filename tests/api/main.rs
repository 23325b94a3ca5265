//! Integration tests: the real router over HTTP, a temporary SQLite file, and a mock
//! OpenAI-compatible upstream.

mod about;
mod account_data;
mod accounts;
mod admin;
mod apps;
mod apps_templates;
mod batches;
mod budgets;
mod chat;
mod crash;
mod demo;
mod durability;
mod errors_i18n;
mod export;
mod faults;
mod feedback;
mod helpers;
mod hostile;
mod images;
mod keys;
mod language;
mod limits;
mod load;
mod logs;
mod mock_upstream;
mod openai;
mod operations;
mod pages_i18n;
mod process;
mod review;
mod runs;
mod security;
mod shares;

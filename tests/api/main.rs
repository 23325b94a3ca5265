//! Integration tests: the real router over HTTP, a temporary SQLite file, and a mock
//! OpenAI-compatible upstream.

mod accounts;
mod admin;
mod budgets;
mod chat;
mod crash;
mod faults;
mod helpers;
mod keys;
mod load;
mod mock_upstream;
mod openai;
mod operations;
mod process;
mod security;

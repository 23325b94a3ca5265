//! The `promptship` command: serve the app (the default) or run a maintenance task.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use promptship::{
    AppState,
    apps::{self, Apps},
    config::{Config, ConfigError, Site},
    db, telemetry,
};

#[derive(Parser)]
#[command(version, about = "An LLM-backed chat service: pages, API, SQLite.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Check that the server at BIND_ADDR answers /healthz (for container health checks).
    Healthcheck,
    /// Write an online, integrity-checked copy of the database to FILE.
    Backup {
        /// Where to write the copy (must not exist).
        file: std::path::PathBuf,
    },
    /// Check the configuration, the database and the model server; print the resolved
    /// settings with secrets redacted. Exits non-zero on any problem.
    Doctor,
    /// Create an admin account (or make an existing one admin). The password is read
    /// from ADMIN_PASSWORD, or else from the first line of standard input.
    CreateAdmin {
        /// The admin's email address.
        #[arg(long)]
        email: String,
    },
    /// Export reviewed and corrected answers as fine-tuning data: DIR/train.jsonl (and
    /// validation.jsonl with --split), manifest.json and LLaMA-Factory's dataset_info.json.
    /// Needs data_policy "accounts" or "all" in the site file.
    Export {
        /// openai-sft, openai-dpo, trl-sft, trl-dpo, alpaca or sharegpt.
        #[arg(long)]
        format: String,
        /// The answers to take (SFT formats), a comma list of accepted, edited, rejected,
        /// corrected, upvoted, downvoted, pending [default: accepted,edited,corrected].
        #[arg(long)]
        status: Option<String>,
        /// Only this app's runs (`chat` for chats).
        #[arg(long)]
        app: Option<String>,
        /// Only answers written on or after this day (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// The share of examples for train.jsonl (such as 0.9); the rest go to
        /// validation.jsonl, chosen by a hash of each example.
        #[arg(long)]
        split: Option<f64>,
        /// The folder to write [default: export-FORMAT-YYYY-MM-DD].
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Prompt apps (the `.prompt` files in APPS_DIR, `apps` by default).
    Apps {
        #[command(subcommand)]
        command: AppsCommand,
    },
}

#[derive(Subcommand)]
enum AppsCommand {
    /// Load and lint every app: one line per app, `NAME  ok` or its problems. Exits 1 on
    /// any problem.
    Check,
    /// Print the messages app NAME sends upstream, as one line of JSON:
    /// {"messages":[{"role":"system"|"user"|"assistant","content":"..."}]}.
    Render {
        /// The app's name.
        name: String,
        /// The input, a JSON object; without it, the app's `promptship.sample`.
        #[arg(long)]
        input: Option<String>,
    },
    /// Write a commented starter app, NAME.prompt, into the apps folder (never over an
    /// existing file).
    New {
        /// The new app's name: lowercase letters, digits and `-`.
        name: String,
    },
}

// jemalloc for every allocation, SQLite's included, in release builds (the `jemalloc`
// feature): against glibc's malloc it took 15 % off a relayed call's CPU and 28 % off
// the memory of 1,000 open streams (docs/benchmarks.md). Its settings are in
// .cargo/config.toml.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (config, site) = match load_settings() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    // No logs, runtime or database: their output is for people and scripts.
    if let Some(Command::Apps { command }) = &cli.command {
        return apps_command(command, &config, &site);
    }
    // Writes out the last log lines when main returns.
    let _logs = match telemetry::init(config.log_format) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("cannot start the log writer: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config, site).await,
            Command::Migrate => migrate(&config).await,
            Command::CreateAdmin { email } => create_admin(&config, &email).await,
            Command::Healthcheck => healthcheck(&config).await,
            Command::Backup { file } => backup(&config, &file).await,
            Command::Doctor => doctor(config, site).await,
            Command::Export {
                format,
                status,
                app,
                since,
                split,
                out,
            } => {
                let options = promptship::export::Options::parse(
                    &format,
                    status.as_deref(),
                    app.as_deref(),
                    since.as_deref(),
                    split,
                )?;
                export(&config, &site, options, out).await
            }
            Command::Apps { .. } => unreachable!("handled before the runtime starts"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the environment and the site file, reporting every problem of both at once.
fn load_settings() -> Result<(Config, Site), ConfigError> {
    let config = Config::from_env();
    // Even when the environment has problems, the site file is checked too.
    let site_path = match &config {
        Ok(config) => config.site_path.clone(),
        Err(_) => std::env::var_os("PROMPTSHIP_SITE")
            .filter(|path| !path.is_empty())
            .map(std::path::PathBuf::from),
    };
    let site = Site::load(site_path.as_deref());
    match (config, site) {
        (Ok(config), Ok(site)) => Ok((config, site)),
        (config, site) => {
            let mut problems = config.err().map(|e| e.0).unwrap_or_default();
            problems.extend(site.err().map(|e| e.0).unwrap_or_default());
            Err(ConfigError(problems))
        }
    }
}

async fn serve(config: Config, site: Site) -> anyhow::Result<()> {
    let bind_addr = config.bind_addr;
    let state = AppState::build(config, site).await?;
    let listener = tokio::net::TcpListener::bind(bind_addr)
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot listen on {bind_addr} ({e}): set BIND_ADDR to a free address")
        })?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    promptship::serve(state, listener, promptship::shutdown_signal()).await
}

async fn create_admin(config: &Config, email: &str) -> anyhow::Result<()> {
    let password = match std::env::var("ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            eprintln!("Password for {email} (8 to 128 characters), then Enter:");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let pool = db::connect(&config.database_url).await?;
    db::migrate(&pool).await?;
    let hasher = promptship::auth::Hasher::new();
    let user = promptship::auth::create_admin(&pool, &hasher, email, password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    db::close(&pool).await;
    println!("{} is an admin (user {})", user.email, user.id);
    Ok(())
}

async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let mut addr = config.bind_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?;
    let response = client.get(format!("http://{addr}/healthz")).send().await?;
    anyhow::ensure!(
        response.status().is_success(),
        "/healthz answered {}",
        response.status()
    );
    Ok(())
}

async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let pool = db::connect(&config.database_url).await?;
    let bytes = db::backup::backup(&pool, file).await?;
    pool.close().await;
    println!(
        "backup written to {} ({bytes} bytes, integrity ok)",
        file.display()
    );
    Ok(())
}

async fn export(
    config: &Config,
    site: &Site,
    options: promptship::export::Options,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let dir = out.unwrap_or_else(|| {
        let today = promptship::budget::Clock::default().today();
        format!("export-{}-{today}", options.format.as_str()).into()
    });
    let pool = db::connect(&config.database_url).await?;
    let exporter = promptship::export::Exporter::new(pool.clone(), site, options)?;
    let manifest = promptship::export::writer::write_files(exporter, &dir).await;
    pool.close().await;
    let manifest = manifest?;
    let skipped: u64 = manifest.skipped.values().sum();
    println!(
        "{} examples written to {} ({}), {skipped} skipped; see manifest.json",
        manifest.examples,
        dir.display(),
        manifest
            .files
            .iter()
            .map(|(file, n)| format!("{file}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

async fn doctor(config: Config, site: Site) -> anyhow::Result<()> {
    println!("configuration (secrets redacted):\n{config:#?}");
    println!(
        "site: {} (model {}, max_output_tokens {})",
        site.name, site.model, site.max_output_tokens
    );
    let problems = promptship::doctor::check(&config, &site).await;
    for (ok, line) in &problems {
        println!("{} {line}", if *ok { "ok  " } else { "FAIL" });
    }
    let failed = problems.iter().filter(|(ok, _)| !ok).count();
    anyhow::ensure!(failed == 0, "{failed} check(s) failed");
    println!("all checks passed");
    Ok(())
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let pool = db::connect(&config.database_url).await?;
    db::migrate(&pool).await?;
    db::close(&pool).await;
    println!("migrations applied to {}", config.database_url);
    Ok(())
}

fn apps_command(command: &AppsCommand, config: &Config, site: &Site) -> ExitCode {
    let failed = |message: &dyn std::fmt::Display| {
        eprintln!("{message}");
        ExitCode::FAILURE
    };
    match command {
        AppsCommand::Check => {
            let checked = match Apps::check(config, site) {
                Ok(checked) => checked,
                Err(error) => return failed(&error),
            };
            if checked.is_empty() {
                println!("no apps in {}", apps::dir(config).display());
            }
            let mut ok = true;
            for app in &checked {
                if app.problems.is_empty() {
                    println!("{}  ok", app.name);
                }
                for problem in &app.problems {
                    ok = false;
                    println!("{problem}");
                }
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        AppsCommand::Render { name, input } => {
            let apps = match Apps::from_config(config, site) {
                Ok(apps) => apps,
                Err(error) => return failed(&error),
            };
            let Some(app) = apps.get(name) else {
                let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
                return failed(&format!(
                    "no app is named `{name}` (apps: {})",
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ));
            };
            let input = match input {
                Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Object(input)) => input,
                    _ => {
                        return failed(
                            &"--input must be a JSON object, e.g. '{\"text\": \"...\"}'",
                        );
                    }
                },
                None => match &app.sample {
                    Some(sample) => sample.clone(),
                    None => {
                        return failed(&format!(
                            "`{name}` has no promptship.sample: pass --input '{{...}}' or add a sample"
                        ));
                    }
                },
            };
            match apps.render(name, &input) {
                Ok(messages) => {
                    println!("{}", serde_json::json!({ "messages": messages }));
                    ExitCode::SUCCESS
                }
                Err(error) => failed(&error),
            }
        }
        AppsCommand::New { name } => match apps::write_starter(&apps::dir(config), name) {
            Ok(path) => {
                println!(
                    "wrote {}: edit it, then run `promptship apps check`",
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Err(error) => failed(&error),
        },
    }
}

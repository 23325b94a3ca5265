//! Configuration: where it runs and with which secrets comes from the environment
//! ([`Config`]); what the service *is* comes from the site file ([`Site`]).

pub mod about;
mod site;

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use ipnet::IpNet;

use secrecy::SecretString;

pub use about::About;
pub use site::Site;

/// OpenAI's API, used when a key is set without a base URL.
const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Settings read once from environment variables (and `.env`) at start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address the HTTP server listens on (`BIND_ADDR`).
    pub bind_addr: SocketAddr,
    /// SQLite database URL, e.g. `sqlite://data/promptship.db` (`DATABASE_URL`).
    pub database_url: String,
    /// Which model server answers: the built-in demo model or a real provider.
    pub provider: Provider,
    /// Path of the site file (`PROMPTSHIP_SITE`); `None` means the default `promptship.toml`.
    pub site_path: Option<PathBuf>,
    /// The folder of the prompt apps' `.prompt` files (`APPS_DIR`); `None` means `apps`
    /// in the working directory, where no folder means no apps.
    pub apps_dir: Option<PathBuf>,
    /// The public https URL of the deployment, for links and cookies (`PUBLIC_URL`).
    pub public_url: Option<String>,
    /// Bearer token that opens `/metrics` on the main port (`METRICS_TOKEN`); without it
    /// (and without `METRICS_ADDR`) metrics are not served at all.
    pub metrics_token: Option<SecretString>,
    /// A separate address serving only `/metrics`, e.g. 127.0.0.1:9100 (`METRICS_ADDR`).
    pub metrics_addr: Option<SocketAddr>,
    /// Pause between the demo model's streamed words (`DEMO_WORD_DELAY_MS`).
    pub demo_word_delay: Duration,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`: IPs or CIDRs,
    /// comma-separated); from anyone else the header is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// `pretty` logs for people, `json` logs for machines (`LOG_FORMAT`).
    pub log_format: LogFormat,
    /// How long to wait for the model's first byte, and then between chunks, before
    /// giving up (`UPSTREAM_TIMEOUT_SECS`). Never a limit on a whole healthy stream.
    pub upstream_timeout: Duration,
    /// How long to wait for a TCP/TLS connection to the model server
    /// (`UPSTREAM_CONNECT_TIMEOUT_SECS`).
    pub upstream_connect_timeout: Duration,
    /// Longest a whole image generation may take, download included
    /// (`UPSTREAM_IMAGE_TIMEOUT_SECS`): image models often think for a minute first.
    pub upstream_image_timeout: Duration,
    /// Longest user message accepted, in characters (`MAX_MESSAGE_CHARS`).
    pub max_message_chars: usize,
    /// Daily allowances and the global budget.
    pub budgets: Budgets,
    /// Who may create an account by default (`SIGNUP_MODE`); an admin can change it.
    pub signup_mode: SignupMode,
    /// Tokens of conversation history sent with each turn, newest kept
    /// (`MAX_CONTEXT_TOKENS`); the system prompt is always sent.
    pub max_context_tokens: usize,
    /// Requests per minute per client address on message routes
    /// (`MESSAGE_RATE_PER_MINUTE`) and on login and sign-up (`AUTH_RATE_PER_MINUTE`).
    pub message_rate_per_minute: u32,
    pub auth_rate_per_minute: u32,
    /// Accounts one address may create per hour (`SIGNUPS_PER_HOUR`).
    pub signups_per_hour: u32,
    /// Requests that may change something (POST, PUT, PATCH, DELETE) per minute per
    /// address (`WRITE_RATE_PER_MINUTE`), whether or not they call the model.
    pub write_rate_per_minute: u32,
    /// Guests (a session and its conversations) one address may start per hour
    /// (`GUESTS_PER_HOUR`).
    pub guests_per_hour: u32,
    /// Conversations a guest may keep (`GUEST_MAX_CONVERSATIONS`); an account has no cap.
    pub guest_max_conversations: i64,
    /// How long shutdown waits for open streams to end and be saved
    /// (`SHUTDOWN_GRACE_SECS`); below Docker's 10 s so the process exits on its own.
    pub shutdown_grace: Duration,
    /// How long a client may take to send a request's headers, and a keep-alive
    /// connection may stay idle (`HEADER_READ_TIMEOUT_SECS`): slow-loris clients, which
    /// hold connections open by sending a header a byte at a time, are cut off.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body once its headers are in
    /// (`BODY_READ_TIMEOUT_SECS`): however slowly it sends, it is cut off with 408.
    pub body_read_timeout: Duration,
    /// Scheduled backups into a folder, when `BACKUP_DIR` is set.
    pub backups: Option<Backups>,
    /// How long a reviewer holds an answer they opened from the queue
    /// (`REVIEW_LEASE_SECS`); an abandoned claim returns to the queue after it.
    pub review_lease: Duration,
    /// Largest CSV or JSONL file a dataset batch accepts, in bytes
    /// (`BATCH_MAX_UPLOAD_BYTES`).
    pub batch_max_upload_bytes: usize,
    /// Most inputs one dataset batch may hold (`BATCH_MAX_ROWS`).
    pub batch_max_rows: usize,
}

/// `BACKUP_DIR`, `BACKUP_INTERVAL_HOURS` and `BACKUP_KEEP`: a checked copy of the database
/// every interval, the newest `keep` kept.
#[derive(Clone, Debug)]
pub struct Backups {
    pub dir: PathBuf,
    pub interval: Duration,
    pub keep: usize,
}

/// The model server the app talks to.
#[derive(Clone, Debug)]
pub enum Provider {
    /// No key and no base URL: the OpenAI-compatible demo model inside this binary.
    Demo,
    /// Any OpenAI-compatible server.
    OpenAi {
        /// Base URL including `/v1` (`OPENAI_BASE_URL`).
        base_url: String,
        /// Provider key (`OPENAI_API_KEY`); local servers such as Ollama need none.
        api_key: Option<SecretString>,
    },
}

impl Config {
    /// Whether the site is served over https (`PUBLIC_URL`): cookies are then `Secure`
    /// with the `__Host-` prefix, and HSTS is sent.
    pub fn serves_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

impl Provider {
    pub fn is_demo(&self) -> bool {
        matches!(self, Provider::Demo)
    }
}

/// Daily budgets; every day starts at 00:00 UTC.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    /// Model calls per guest per day, counted per session and per address
    /// (`GUEST_DAILY_MESSAGES`).
    pub guest_daily_messages: i64,
    /// Tokens per guest per day, per session and per address (`GUEST_DAILY_TOKENS`).
    pub guest_daily_tokens: i64,
    /// Tokens per user per day unless an admin set the user's own (`USER_DAILY_TOKENS`).
    pub user_daily_tokens: i64,
    /// Tokens per day over everyone (`GLOBAL_DAILY_TOKENS`).
    pub global_daily_tokens: i64,
    /// Money per day over everyone, in millionths of a dollar (`GLOBAL_DAILY_USD`).
    pub global_daily_microusd: i64,
}

/// Who may create an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignupMode {
    Open,
    /// Only with a code an admin made.
    Invite,
    Closed,
}

impl SignupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SignupMode::Open => "open",
            SignupMode::Invite => "invite",
            SignupMode::Closed => "closed",
        }
    }
}

impl FromStr for SignupMode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "open" => Ok(SignupMode::Open),
            "invite" => Ok(SignupMode::Invite),
            "closed" => Ok(SignupMode::Closed),
            _ => Err(()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Every problem found in the configuration, reported together so one restart fixes all.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        write!(f, "See .env.example for every setting and its default.")
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment (after loading `.env`, if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal in production; a malformed one is reported below.
        let dotenv_problem = match dotenvy::dotenv() {
            Err(e) if !e.not_found() => Some(format!(".env: {e}")),
            _ => None,
        };
        let mut config = Self::from_lookup(|name| std::env::var(name).ok());
        if let Some(problem) = dotenv_problem {
            match &mut config {
                Ok(_) => return Err(ConfigError(vec![problem])),
                Err(errors) => errors.0.insert(0, problem),
            }
        }
        config
    }

    /// Builds the configuration from any variable source, collecting every problem.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mut read = Reader {
            lookup: &lookup,
            problems: &mut problems,
        };

        let bind_addr = read.parse(
            "BIND_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 3000)),
            "an address and port, e.g. 127.0.0.1:3000 or 0.0.0.0:3000",
        );
        let database_url = read
            .string("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/promptship.db".into());
        if !database_url.starts_with("sqlite:") {
            read.problem(
                "DATABASE_URL",
                &database_url,
                "a SQLite URL, e.g. sqlite://data/promptship.db",
            );
        }
        let api_key = read.string("OPENAI_API_KEY");
        if let Some(key) = &api_key
            && !key.bytes().all(|b| b.is_ascii_graphic())
        {
            // Never echo the key itself, not even in an error.
            read.problems.push(
                "OPENAI_API_KEY contains spaces or non-ASCII characters: paste the key alone"
                    .to_string(),
            );
        }
        let api_key = api_key.map(SecretString::from);
        let base_url = read.url(
            "OPENAI_BASE_URL",
            "an http(s) URL including /v1, e.g. http://localhost:11434/v1",
        );
        let provider = match (base_url, api_key) {
            (None, None) => Provider::Demo,
            (base_url, api_key) => Provider::OpenAi {
                base_url: base_url
                    .unwrap_or_else(|| OPENAI_BASE_URL.into())
                    .trim_end_matches('/')
                    .to_string(),
                api_key,
            },
        };
        let public_url = read.url(
            "PUBLIC_URL",
            "the public URL, e.g. https://chat.example.com",
        );
        let metrics_token = read.string("METRICS_TOKEN").map(SecretString::from);
        let metrics_addr = read
            .string("METRICS_ADDR")
            .and_then(|raw| match raw.parse() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    read.problem(
                        "METRICS_ADDR",
                        &raw,
                        "an address and port, e.g. 127.0.0.1:9100",
                    );
                    None
                }
            });
        let demo_word_delay = Duration::from_millis(read.parse(
            "DEMO_WORD_DELAY_MS",
            30,
            "a whole number of milliseconds",
        ));
        let mut trusted_proxies = Vec::new();
        for entry in read
            .string("TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
        {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            match entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
            {
                Ok(net) => trusted_proxies.push(net),
                Err(_) => read.problem(
                    "TRUSTED_PROXIES",
                    entry,
                    "IP addresses or CIDR ranges, comma-separated, e.g. 127.0.0.1,10.0.0.0/8",
                ),
            }
        }
        let log_format = match read.string("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                read.problem("LOG_FORMAT", other, "`pretty` or `json`");
                LogFormat::Pretty
            }
        };
        let upstream_timeout = read.seconds("UPSTREAM_TIMEOUT_SECS", 60);
        let upstream_connect_timeout = read.seconds("UPSTREAM_CONNECT_TIMEOUT_SECS", 10);
        let upstream_image_timeout = read.seconds("UPSTREAM_IMAGE_TIMEOUT_SECS", 120);
        let max_message_chars: usize =
            read.parse("MAX_MESSAGE_CHARS", 16_000, "a whole number of characters");
        if max_message_chars == 0 {
            read.problem("MAX_MESSAGE_CHARS", "0", "a number above 0");
        }
        let shutdown_grace = read.seconds("SHUTDOWN_GRACE_SECS", 8);
        let header_read_timeout = read.seconds("HEADER_READ_TIMEOUT_SECS", 20);
        let body_read_timeout = read.seconds("BODY_READ_TIMEOUT_SECS", 20);
        let review_lease = read.seconds("REVIEW_LEASE_SECS", 600);
        let count = "a whole number";
        let budgets = Budgets {
            guest_daily_messages: read.parse("GUEST_DAILY_MESSAGES", 20, count),
            guest_daily_tokens: read.parse("GUEST_DAILY_TOKENS", 30_000, count),
            user_daily_tokens: read.parse("USER_DAILY_TOKENS", 200_000, count),
            global_daily_tokens: read.parse("GLOBAL_DAILY_TOKENS", 2_000_000, count),
            global_daily_microusd: {
                let usd: f64 =
                    read.parse("GLOBAL_DAILY_USD", 2.0, "an amount in dollars, e.g. 2.50");
                if !(usd.is_finite() && usd >= 0.0) {
                    read.problem(
                        "GLOBAL_DAILY_USD",
                        &usd.to_string(),
                        "an amount of 0 or more",
                    );
                }
                (usd * 1_000_000.0).round() as i64
            },
        };
        let signup_mode = read.parse(
            "SIGNUP_MODE",
            SignupMode::Open,
            "`open`, `invite` or `closed`",
        );
        let max_context_tokens = read.parse("MAX_CONTEXT_TOKENS", 8_000, count);
        let message_rate_per_minute = read.parse("MESSAGE_RATE_PER_MINUTE", 20, count);
        let auth_rate_per_minute = read.parse("AUTH_RATE_PER_MINUTE", 10, count);
        let signups_per_hour = read.parse("SIGNUPS_PER_HOUR", 5, count);
        let write_rate_per_minute = read.parse("WRITE_RATE_PER_MINUTE", 60, count);
        let guests_per_hour = read.parse("GUESTS_PER_HOUR", 30, count);
        let guest_max_conversations: u32 = read.parse("GUEST_MAX_CONVERSATIONS", 100, count);
        for (name, value) in [
            ("MESSAGE_RATE_PER_MINUTE", message_rate_per_minute),
            ("AUTH_RATE_PER_MINUTE", auth_rate_per_minute),
            ("SIGNUPS_PER_HOUR", signups_per_hour),
            ("WRITE_RATE_PER_MINUTE", write_rate_per_minute),
            ("GUESTS_PER_HOUR", guests_per_hour),
            ("GUEST_MAX_CONVERSATIONS", guest_max_conversations),
        ] {
            if value == 0 {
                read.problem(name, "0", "a number above 0");
            }
        }
        let batch_max_upload_bytes: usize = read.parse(
            "BATCH_MAX_UPLOAD_BYTES",
            5 * 1024 * 1024,
            "a number of bytes",
        );
        let batch_max_rows: usize = read.parse("BATCH_MAX_ROWS", 10_000, count);
        for (name, value) in [
            ("BATCH_MAX_UPLOAD_BYTES", batch_max_upload_bytes),
            ("BATCH_MAX_ROWS", batch_max_rows),
        ] {
            if value == 0 {
                read.problem(name, "0", "a number above 0");
            }
        }
        let site_path = read.string("PROMPTSHIP_SITE").map(PathBuf::from);
        let apps_dir = read.string("APPS_DIR").map(PathBuf::from);
        let backups = read.string("BACKUP_DIR").map(|dir| {
            let hours: u64 = read.parse("BACKUP_INTERVAL_HOURS", 24, "a whole number of hours");
            if hours == 0 {
                read.problem("BACKUP_INTERVAL_HOURS", "0", "a number of hours above 0");
            }
            let keep = read.parse("BACKUP_KEEP", 7, "how many backups to keep, e.g. 7");
            if keep == 0 {
                read.problem("BACKUP_KEEP", "0", "a number above 0");
            }
            Backups {
                dir: PathBuf::from(dir),
                interval: Duration::from_secs(hours.max(1) * 3600),
                keep,
            }
        });

        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Self {
            bind_addr,
            database_url,
            provider,
            site_path,
            apps_dir,
            public_url,
            metrics_token,
            metrics_addr,
            demo_word_delay,
            trusted_proxies,
            log_format,
            upstream_timeout,
            upstream_connect_timeout,
            upstream_image_timeout,
            max_message_chars,
            budgets,
            signup_mode,
            max_context_tokens,
            message_rate_per_minute,
            auth_rate_per_minute,
            signups_per_hour,
            write_rate_per_minute,
            guests_per_hour,
            guest_max_conversations: i64::from(guest_max_conversations),
            shutdown_grace,
            header_read_timeout,
            body_read_timeout,
            backups,
            review_lease,
            batch_max_upload_bytes,
            batch_max_rows,
        })
    }
}

struct Reader<'a, F> {
    lookup: &'a F,
    problems: &'a mut Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    /// A set, non-blank variable.
    fn string(&mut self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A set variable that must be an http(s) URL.
    fn url(&mut self, name: &str, expected: &str) -> Option<String> {
        let url = self.string(name)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            self.problem(name, &url, expected);
        }
        Some(url)
    }

    fn problem(&mut self, name: &str, value: &str, expected: &str) {
        self.problems.push(format!(
            "{name}={value:?} is not valid: expected {expected}"
        ));
    }

    /// The parsed variable, or `default` when unset (or invalid, which is also reported).
    fn parse<T: FromStr>(&mut self, name: &str, default: T, expected: &str) -> T {
        match self.string(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.problem(name, &raw, expected);
                default
            }),
        }
    }

    fn seconds(&mut self, name: &str, default: u64) -> Duration {
        let secs: u64 = self.parse(name, default, "a whole number of seconds");
        if secs == 0 {
            self.problem(name, "0", "a number of seconds above 0");
        }
        Duration::from_secs(secs)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn an_empty_environment_runs_the_demo_model_on_localhost() {
        let config = config(&[]).unwrap();
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, "sqlite://data/promptship.db");
        assert!(config.provider.is_demo());
    }

    #[test]
    fn a_key_alone_selects_openai_and_a_base_url_alone_needs_no_key() {
        let Provider::OpenAi { base_url, api_key } =
            config(&[("OPENAI_API_KEY", "sk-test")]).unwrap().provider
        else {
            panic!("expected a real provider");
        };
        assert_eq!(base_url, OPENAI_BASE_URL);
        assert!(api_key.is_some());

        let Provider::OpenAi { base_url, api_key } =
            config(&[("OPENAI_BASE_URL", "http://localhost:11434/v1/")])
                .unwrap()
                .provider
        else {
            panic!("expected a real provider");
        };
        assert_eq!(base_url, "http://localhost:11434/v1");
        assert!(api_key.is_none());
    }

    #[test]
    fn every_problem_is_reported_at_once_with_how_to_fix_it() {
        let err = config(&[
            ("BIND_ADDR", "localhost"),
            ("LOG_FORMAT", "xml"),
            ("UPSTREAM_TIMEOUT_SECS", "soon"),
            ("DATABASE_URL", "postgres://x"),
        ])
        .unwrap_err();
        assert_eq!(err.0.len(), 4, "{err}");
        let text = err.to_string();
        assert!(text.contains("BIND_ADDR=\"localhost\""));
        assert!(text.contains("`pretty` or `json`"));
        assert!(text.contains("UPSTREAM_TIMEOUT_SECS"));
        assert!(text.contains("a SQLite URL"));
    }
}

//! The about page (`/about`, public): who built the service and with what (the site
//! file's `[about]`), and live figures read from the running service. The figures are
//! read at most once per [`FIGURES_TTL`], so a busy public page costs one cheap query per
//! period.

use std::time::{Duration, Instant};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use tokio::sync::Mutex;

use super::pages::Layout;
use crate::{
    AppState,
    auth::Visitor,
    config::about::{Link, Part},
    db::figures::{MEDIAN_OVER, ServiceFigures, find_service_figures},
    error::AppError,
    i18n::{Lang, Text},
    markdown::to_safe_html,
};

/// How long the figures are shown before they are read again.
pub const FIGURES_TTL: Duration = Duration::from_secs(30);

/// The service's figures, read at most once per [`FIGURES_TTL`], and when the process
/// started (its uptime).
#[derive(Debug)]
pub struct FigureCache {
    started: Instant,
    /// The figures and when they were read. A lock held across the read, so requests
    /// arriving together wait for one query instead of each making their own.
    read: Mutex<Option<(Instant, ServiceFigures)>>,
}

impl Default for FigureCache {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            read: Mutex::new(None),
        }
    }
}

impl FigureCache {
    /// The figures, read again when the last read is older than [`FIGURES_TTL`].
    pub async fn figures(&self, state: &AppState) -> Result<ServiceFigures, AppError> {
        let mut read = self.read.lock().await;
        if let Some((at, figures)) = &*read
            && at.elapsed() < FIGURES_TTL
        {
            return Ok(figures.clone());
        }
        let figures = find_service_figures(&state.db).await?;
        *read = Some((Instant::now(), figures.clone()));
        Ok(figures)
    }

    /// Drops the figures read, so the next page reads them again (tests, which cannot
    /// wait out the period).
    pub async fn forget(&self) {
        *self.read.lock().await = None;
    }

    /// How long the process has been running.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "about.html")]
pub struct AboutPage {
    layout: Layout,
    author: String,
    /// The bio's Markdown as sanitized HTML.
    bio_html: String,
    links: Vec<LinkView>,
    stack: Vec<PartView>,
    /// Complete answers, written with thousands separators.
    answers: String,
    /// The median time to the first token, or a dash before the first answer.
    median_first_token: String,
    median_over: String,
    uptime: String,
    apps: usize,
    refresh_seconds: u64,
}

pub struct LinkView {
    label: String,
    url: String,
}

pub struct PartView {
    name: String,
    role: String,
    url: Option<String>,
}

pub async fn show_about(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<AboutPage, AppError> {
    let lang = visitor.lang;
    let figures = state.figures.figures(&state).await?;
    let about = &state.site.about;
    Ok(AboutPage {
        layout: Layout::load(&state, &visitor, None).await?,
        author: about.author(lang).to_string(),
        bio_html: to_safe_html(about.bio(lang)),
        links: about.links.iter().map(|l| LinkView::new(l, lang)).collect(),
        stack: about.stack.iter().map(|p| PartView::new(p, lang)).collect(),
        answers: thousands(figures.answers),
        median_first_token: match figures.median_first_token_ms {
            Some(ms) => lang.t1("about-milliseconds", "ms", thousands(ms.round() as i64)),
            None => "—".into(),
        },
        median_over: thousands(MEDIAN_OVER),
        uptime: uptime(state.figures.uptime(), lang),
        apps: state.apps.current().len(),
        refresh_seconds: FIGURES_TTL.as_secs(),
    })
}

impl LinkView {
    fn new(link: &Link, lang: Lang) -> Self {
        Self {
            label: link.label(lang).to_string(),
            url: link.url.clone(),
        }
    }
}

impl PartView {
    fn new(part: &Part, lang: Lang) -> Self {
        Self {
            name: part.name.clone(),
            role: part.role(lang).to_string(),
            url: part.url.clone(),
        }
    }
}

/// `1234567` as `1,234,567` (both languages group by thousands with a comma).
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How long, in the two largest units that matter: days and hours, hours and minutes,
/// or minutes.
fn uptime(elapsed: Duration, lang: Lang) -> String {
    let minutes = elapsed.as_secs() / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days > 0 {
        Text::new("about-uptime-days")
            .arg("days", days)
            .arg("hours", hours)
            .in_lang(lang)
    } else if hours > 0 {
        Text::new("about-uptime-hours")
            .arg("hours", hours)
            .arg("minutes", minutes)
            .in_lang(lang)
    } else {
        lang.t1("about-uptime-minutes", "minutes", minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-12_345), "-12,345");
    }

    #[test]
    fn uptime_shows_its_two_largest_units() {
        let at = |s: u64| uptime(Duration::from_secs(s), Lang::En);
        assert_eq!(at(59), "0 minutes");
        assert_eq!(at(61), "1 minute");
        assert_eq!(at(3 * 3600 + 5 * 60), "3 hours 5 minutes");
        assert_eq!(at(2 * 86_400 + 3600 + 60), "2 days 1 hour");
        assert_eq!(
            uptime(Duration::from_secs(2 * 86_400 + 3600), Lang::Ko),
            "2일 1시간"
        );
    }
}

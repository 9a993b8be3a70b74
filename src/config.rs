//! `content/site.yaml`: site settings and the document kinds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum System {
    #[default]
    Party,
    State,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mottos {
    #[serde(default = "default_party_motto")]
    pub party: Vec<String>,
    #[serde(default = "default_state_motto")]
    pub state: Vec<String>,
}

impl Default for Mottos {
    fn default() -> Self {
        Mottos {
            party: default_party_motto(),
            state: default_state_motto(),
        }
    }
}

fn default_party_motto() -> Vec<String> {
    vec!["ĐẢNG CỘNG SẢN VIỆT NAM".into()]
}

fn default_state_motto() -> Vec<String> {
    vec![
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
        "Độc lập - Tự do - Hạnh phúc".into(),
    ]
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Kind {
    pub slug: String,
    pub name: String,
    pub abbr: String,
    /// A letter (công văn) shows "V/v" and "Kính gửi" at its head.
    #[serde(default)]
    pub letter: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub base_url: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub system: System,
    #[serde(default)]
    pub mottos: Mottos,
    pub kinds: Vec<Kind>,
    /// A theme under `themes/` whose files override the default theme's.
    #[serde(default)]
    pub theme: Option<String>,
}

fn default_language() -> String {
    "vi".into()
}

impl SiteConfig {
    pub fn kind(&self, slug: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.slug == slug)
    }

    pub fn motto(&self, system: System) -> &[String] {
        match system {
            System::Party => &self.mottos.party,
            System::State => &self.mottos.state,
        }
    }

    /// The base URL with exactly one trailing slash, or empty.
    pub fn base_url_normalized(&self) -> String {
        let trimmed = self.base_url.trim_end_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("{trimmed}/")
        }
    }
}

//! `banhanh check` in its three formats on a broken fixture: every format
//! reports the same diagnostics, compared field by field, and the exit code
//! follows errors (and warnings only with `--deny-warnings`).

mod common;

use common::{fixture, run};

/// One diagnostic as every format must report it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    file: &'static str,
    line: usize,
    column: usize,
    severity: &'static str,
    code: &'static str,
    /// A part of the message that must be there.
    message_has: &'static str,
    suggestion: Option<&'static str>,
    source_line: &'static str,
}

fn broken_expected() -> Vec<Expected> {
    vec![
        Expected {
            file: "content/directives/2023/abc.md",
            line: 2,
            column: 1,
            severity: "error",
            code: "bad-number",
            message_has: "`ABC` is not a document number",
            suggestion: None,
            source_line: "number: \"ABC\"",
        },
        Expected {
            file: "content/directives/2024/10-cv-btgtu.md",
            line: 3,
            column: 1,
            severity: "error",
            code: "unknown-kind",
            message_has: "unknown kind `cong-vn`",
            suggestion: Some("cong-van"),
            source_line: "kind: cong-vn",
        },
        Expected {
            file: "content/directives/2024/10-cv-btgtu.md",
            line: 5,
            column: 1,
            severity: "error",
            code: "bad-date",
            message_has: "`2024-02-30` is not a real date",
            suggestion: None,
            source_line: "date: 2024-02-30",
        },
        Expected {
            file: "content/directives/2024/10-cv-btgtu.md",
            line: 8,
            column: 5,
            severity: "error",
            code: "unknown-recipient",
            message_has: "unknown recipient `hoi-nha-bao`",
            suggestion: Some("hoi-nha-bao-tinh"),
            source_line: "  - hoi-nha-bao",
        },
    ]
}

/// What a format printed, as fields.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Got {
    file: String,
    line: usize,
    column: usize,
    severity: String,
    code: Option<String>,
    message: String,
    suggestion: Option<String>,
    source_line: Option<String>,
}

fn assert_matches(got: &[Got], expected: &[Expected], format: &str) {
    assert_eq!(got.len(), expected.len(), "{format}: {got:#?}");
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g.file, e.file, "{format}: file");
        assert_eq!(g.line, e.line, "{format}: line of {}", e.code);
        assert_eq!(g.column, e.column, "{format}: column of {}", e.code);
        assert_eq!(g.severity, e.severity, "{format}: severity of {}", e.code);
        if let Some(code) = &g.code {
            assert_eq!(code, e.code, "{format}: code");
        }
        assert!(
            g.message.contains(e.message_has),
            "{format}: message {:?} lacks {:?}",
            g.message,
            e.message_has
        );
        assert_eq!(
            g.suggestion.as_deref(),
            e.suggestion,
            "{format}: suggestion of {}",
            e.code
        );
        if let Some(src) = &g.source_line {
            assert_eq!(src, e.source_line, "{format}: source line of {}", e.code);
        }
    }
}

fn parse_json(stdout: &str) -> Vec<Got> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON object per line: {l:?}: {e}"));
            let obj = v.as_object().expect("an object");
            let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "code",
                    "column",
                    "file",
                    "line",
                    "message",
                    "severity",
                    "suggestion"
                ],
                "exactly the documented fields"
            );
            Got {
                file: v["file"].as_str().unwrap().into(),
                line: v["line"].as_u64().unwrap() as usize,
                column: v["column"].as_u64().unwrap() as usize,
                severity: v["severity"].as_str().unwrap().into(),
                code: Some(v["code"].as_str().unwrap().into()),
                message: v["message"].as_str().unwrap().into(),
                suggestion: v["suggestion"].as_str().map(String::from),
                source_line: None,
            }
        })
        .collect()
}

fn parse_github(stdout: &str) -> Vec<Got> {
    stdout
        .lines()
        .map(|l| {
            let rest = l
                .strip_prefix("::")
                .unwrap_or_else(|| panic!("not a workflow command: {l:?}"));
            let (level, rest) = rest.split_once(' ').unwrap();
            let (props, message) = rest.split_once("::").unwrap();
            let prop = |name: &str| {
                props
                    .split(',')
                    .find_map(|p| p.strip_prefix(&format!("{name}=")))
                    .unwrap_or_else(|| panic!("no {name}= in {l:?}"))
                    .to_string()
            };
            let (message, suggestion) = match message.rsplit_once(" (did you mean `") {
                Some((m, s)) => (m.to_string(), Some(s.trim_end_matches("`?)").to_string())),
                None => (message.to_string(), None),
            };
            Got {
                file: prop("file"),
                line: prop("line").parse().unwrap(),
                column: prop("col").parse().unwrap(),
                severity: level.into(),
                code: None,
                message,
                suggestion,
                source_line: None,
            }
        })
        .collect()
}

/// `file:line:col: severity[code]: message`, then `N | source`, a caret
/// line, and `= help: did you mean `x`?`.
fn parse_human(stderr: &str) -> Vec<Got> {
    let mut out: Vec<Got> = Vec::new();
    for l in stderr.lines() {
        if let Some(s) = l.trim().strip_prefix("= help: did you mean `") {
            out.last_mut().unwrap().suggestion = Some(s.trim_end_matches("`?").into());
        } else if let Some((gutter, src)) = l.split_once(" | ") {
            if gutter.trim().parse::<usize>().is_ok() {
                out.last_mut().unwrap().source_line = Some(src.into());
            }
        } else if let Some((head, message)) = l.split_once("]: ") {
            let (loc, sev_code) = head.rsplit_once(": ").unwrap();
            let (severity, code) = sev_code.split_once('[').unwrap();
            let mut parts = loc.rsplitn(3, ':');
            let column = parts.next().unwrap().parse().unwrap();
            let line = parts.next().unwrap().parse().unwrap();
            let file = parts.next().unwrap().to_string();
            out.push(Got {
                file,
                line,
                column,
                severity: severity.into(),
                code: Some(code.into()),
                message: message.into(),
                suggestion: None,
                source_line: None,
            });
        }
    }
    out
}

#[test]
fn json_prints_one_object_per_diagnostic() {
    let out = run(&fixture("broken"), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "errors fail the check");
    let got = parse_json(&String::from_utf8_lossy(&out.stdout));
    assert_matches(&got, &broken_expected(), "json");
}

#[test]
fn github_prints_workflow_commands() {
    let out = run(&fixture("broken"), &["check", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for l in stdout.lines() {
        assert!(l.starts_with("::error file=content/directives/"), "{l}");
    }
    let got = parse_github(&stdout);
    assert_matches(&got, &broken_expected(), "github");
}

#[test]
fn human_shows_location_source_line_and_hint() {
    let out = run(&fixture("broken"), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("\x1b["),
        "no colour when NO_COLOR is set or piped"
    );
    let got = parse_human(&stderr);
    assert_matches(&got, &broken_expected(), "human");
    assert!(
        stderr.contains("checked: 4 error(s), 0 warning(s)"),
        "{stderr}"
    );
}

#[test]
fn the_three_formats_agree_on_every_field() {
    let root = fixture("broken");
    let json = parse_json(&String::from_utf8_lossy(
        &run(&root, &["check", "--format", "json"]).stdout,
    ));
    let github = parse_github(&String::from_utf8_lossy(
        &run(&root, &["check", "--format", "github"]).stdout,
    ));
    let human = parse_human(&String::from_utf8_lossy(&run(&root, &["check"]).stderr));
    let strip = |g: &Got| {
        (
            g.file.clone(),
            g.line,
            g.column,
            g.severity.clone(),
            g.message.clone(),
            g.suggestion.clone(),
        )
    };
    let j: Vec<_> = json.iter().map(strip).collect();
    assert_eq!(j, github.iter().map(strip).collect::<Vec<_>>());
    assert_eq!(j, human.iter().map(strip).collect::<Vec<_>>());
    assert_eq!(
        json.iter().map(|g| g.code.clone()).collect::<Vec<_>>(),
        human.iter().map(|g| g.code.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn warnings_fail_only_when_denied() {
    let root = fixture("warnings");
    let out = run(&root, &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "warnings alone pass");
    let got = parse_json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].severity, "warning");
    assert_eq!(got[0].code.as_deref(), Some("ambiguous-citation"));
    assert_eq!((got[0].line, got[0].column), (8, 22));
    let gh = run(&root, &["check", "--format", "github"]);
    assert_eq!(gh.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&gh.stdout)
            .starts_with("::warning file=content/directives/2024/11-cv-btgtu.md,line=8,col=22::")
    );
    let denied = run(&root, &["check", "--deny-warnings"]);
    assert_eq!(
        denied.status.code(),
        Some(1),
        "--deny-warnings fails on a warning"
    );
}

#[test]
fn a_clean_site_passes_silently_in_machine_formats() {
    for format in ["json", "github"] {
        let out = run(&fixture("preview"), &["check", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(out.stdout.is_empty(), "{format}: nothing to report");
    }
}

//! Human output: a one-line summary after a build, nothing but errors with
//! `--quiet`, more with `--verbose`, and colours only on a terminal and
//! never with `NO_COLOR` (a terminal is given by util-linux `script`).

mod common;

use common::{BIN, copy_fixture, fixture, run};
use std::process::Command;

#[test]
fn build_prints_one_summary_line_when_piped() {
    let site = copy_fixture("preview");
    let out_dir = site.path().join("public");
    let out = Command::new(BIN)
        .arg("--root")
        .arg(site.path())
        .args(["build", "--out"])
        .arg(&out_dir)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    let line = lines[0];
    assert!(line.starts_with("built 2 directives: "), "{line}");
    for part in ["written", "unchanged", "0 warnings", " s"] {
        assert!(line.contains(part), "{line} lacks {part}");
    }
    assert!(
        !err.contains('\x1b') && !err.contains('\r'),
        "no colour or spinner when piped: {err:?}"
    );

    let again = run(site.path(), &["build", "--out", out_dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("(0 written,"),
        "a second build writes nothing new: {err}"
    );

    let quiet = run(
        site.path(),
        &["--quiet", "build", "--out", out_dir.to_str().unwrap()],
    );
    assert!(quiet.status.success());
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );

    let verbose = run(
        site.path(),
        &["--verbose", "build", "--out", out_dir.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&verbose.stderr);
    assert!(err.contains("building ") && err.contains(" into "), "{err}");
}

/// Runs `banhanh ARGS` under a pseudo-terminal; None where `script` is missing.
fn on_a_terminal(args: &str, no_color: bool) -> Option<String> {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("note: no /usr/bin/script; terminal colour test skipped");
        return None;
    }
    let mut cmd = Command::new("/usr/bin/script");
    cmd.args(["-qec", &format!("{BIN} {args}"), "/dev/null"]);
    cmd.env_remove("CI");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colours_only_on_a_terminal_and_never_with_no_color() {
    let root = fixture("broken");
    let args = format!("--root {} check", root.display());
    let Some(tty) = on_a_terminal(&args, false) else {
        return;
    };
    assert!(
        tty.contains("\x1b[31m"),
        "errors in red on a terminal: {tty:?}"
    );
    assert!(tty.contains("error[unknown-kind]"));
    let plain = on_a_terminal(&args, true).unwrap();
    assert!(plain.contains("error[unknown-kind]"), "{plain:?}");
    assert!(!plain.contains("\x1b["), "NO_COLOR: {plain:?}");
}

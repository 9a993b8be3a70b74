//! `banhanh new`: the file it writes passes `check` and builds; it refuses
//! to overwrite, refuses a number already used that year, and suggests the
//! kind, issuer or number meant.

mod common;

use common::{copy_fixture, run};

fn new(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["new"];
    all.extend_from_slice(args);
    run(root, &all)
}

#[test]
fn creates_a_file_that_check_accepts_and_build_renders() {
    let site = copy_fixture("preview");
    let out = new(
        site.path(),
        &[
            "--kind",
            "cong-van",
            "--number",
            "1383-CV/BTGTU",
            "--issuer",
            "ban-tuyen-giao-tinh-uy",
            "--date",
            "2024-05-22",
            "Tiếp tục đẩy mạnh công tác tuyên truyền: \"PCTNTC\"",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "content/directives/2024/1383-cv-btgtu.md"
    );
    let path = site.path().join("content/directives/2024/1383-cv-btgtu.md");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("---\nnumber: \"1383-CV/BTGTU\"\nkind: cong-van\n"),
        "{text}"
    );
    assert!(text.contains("date: 2024-05-22\n"));
    assert!(text.contains("## 1. "), "a letter gets numbered points");

    let check = run(site.path(), &["check", "--format", "json"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(
        check.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    let public = site.path().join("public");
    let build = run(site.path(), &["build", "--out", public.to_str().unwrap()]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let page =
        std::fs::read_to_string(public.join("van-ban/2024/1383-cv-btgtu/index.html")).unwrap();
    assert!(page.contains("Tiếp tục đẩy mạnh công tác tuyên truyền"));
}

#[test]
fn other_kinds_get_parts_and_the_date_defaults_to_today() {
    let site = copy_fixture("preview");
    let out = new(
        site.path(),
        &[
            "--kind",
            "ke-hoach",
            "--number",
            "7-KH/TU",
            "--issuer",
            "tinh-uy-binh-phuoc",
            "Kế hoạch thử",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("warning"),
        "the number fits kind and issuer: {err}"
    );
    let text = std::fs::read_to_string(site.path().join(&file)).unwrap();
    let today = chrono::Local::now().date_naive();
    assert!(text.contains(&format!("date: {today}\n")), "{text}");
    assert!(
        file.ends_with(&format!("/{}/7-kh-tu.md", chrono::Datelike::year(&today))),
        "{file}"
    );
    assert!(text.contains("## I. MỤC ĐÍCH, YÊU CẦU"));
    assert!(run(site.path(), &["check"]).status.success());
}

#[test]
fn warns_when_the_number_disagrees_with_kind_or_issuer() {
    let site = copy_fixture("preview");
    let out = new(
        site.path(),
        &[
            "--kind",
            "ke-hoach",
            "--number",
            "8-CV/TU",
            "--issuer",
            "ban-tuyen-giao-tinh-uy",
            "--date",
            "2024-03-01",
            "Số không khớp",
        ],
    );
    assert!(out.status.success(), "a hint, not an error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: the number says CV, but the kind `ke-hoach` is abbreviated KH"),
        "{err}"
    );
    assert!(err.contains("signs as BTGTU"), "{err}");
}

#[test]
fn refuses_to_overwrite_and_refuses_a_used_number() {
    let site = copy_fixture("preview");
    let args = [
        "--kind",
        "cong-van",
        "--number",
        "20-CV/BTGTU",
        "--issuer",
        "ban-tuyen-giao-tinh-uy",
        "--date",
        "2024-06-01",
        "Lần một",
    ];
    assert!(new(site.path(), &args).status.success());
    let path = site.path().join("content/directives/2024/20-cv-btgtu.md");
    let before = std::fs::read(&path).unwrap();

    // The same number again in that year: refused, the file untouched.
    let again = new(site.path(), &args);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("error[duplicate-number]"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // The fixture's own 10-CV/BTGTU of 2024, by another issuer and spelled with spaces.
    let used = new(
        site.path(),
        &[
            "--kind",
            "cong-van",
            "--number",
            "10 - CV/BTGTU",
            "--issuer",
            "tinh-uy-binh-phuoc",
            "--date",
            "2024-12-01",
            "Trùng số",
        ],
    );
    assert_eq!(used.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&used.stderr).contains("already used in 2024"));

    // Another year is another numbering: accepted.
    let next_year = new(
        site.path(),
        &[
            "--kind",
            "cong-van",
            "--number",
            "10-CV/BTGTU",
            "--issuer",
            "ban-tuyen-giao-tinh-uy",
            "--date",
            "2025-01-05",
            "Năm sau",
        ],
    );
    assert!(
        next_year.status.success(),
        "{}",
        String::from_utf8_lossy(&next_year.stderr)
    );

    // A file already at the address (not a directive check knows of): not overwritten.
    let dir = site.path().join("content/directives/2026");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("1-cv-btgtu.md"), "hand-written").unwrap();
    let exists = new(
        site.path(),
        &[
            "--kind",
            "cong-van",
            "--number",
            "1-CV/BTGTU",
            "--issuer",
            "ban-tuyen-giao-tinh-uy",
            "--date",
            "2026-01-05",
            "Ghi đè",
        ],
    );
    assert_eq!(exists.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&exists.stderr).contains("error[file-exists]"));
    assert_eq!(
        std::fs::read_to_string(dir.join("1-cv-btgtu.md")).unwrap(),
        "hand-written"
    );
}

#[test]
fn suggests_what_was_meant() {
    let site = copy_fixture("preview");
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &[
                "--kind",
                "cong-vn",
                "--number",
                "1-CV/BTGTU",
                "--issuer",
                "ban-tuyen-giao-tinh-uy",
            ],
            "error[unknown-kind]",
            "did you mean `cong-van`?",
        ),
        (
            &[
                "--kind",
                "cong-van",
                "--number",
                "1-CV/BTGTU",
                "--issuer",
                "ban-tuyen-giao",
            ],
            "error[unknown-issuer]",
            "did you mean `ban-tuyen-giao-tinh-uy`?",
        ),
        (
            &[
                "--kind",
                "cong-van",
                "--number",
                "1383",
                "--issuer",
                "ban-tuyen-giao-tinh-uy",
            ],
            "error[bad-number]",
            "did you mean `1383-CV/BTGTU`?",
        ),
        (
            &[
                "--kind",
                "cong-van",
                "--number",
                "1-CV/BTGTU",
                "--issuer",
                "ban-tuyen-giao-tinh-uy",
                "--date",
                "2024-02-30",
            ],
            "error[bad-date]",
            "YYYY-MM-DD",
        ),
    ];
    for (args, code, hint) in cases {
        let mut all = args.to_vec();
        all.push("Chủ đề");
        let out = new(site.path(), &all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(code) && err.contains(hint), "{args:?}: {err}");
    }
    // Nothing was written by any of them.
    let files = walk(&site.path().join("content/directives"));
    assert_eq!(files.len(), 2, "{files:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

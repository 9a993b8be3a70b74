//! Bad input: each case breaks one thing in a valid site that was already
//! built once. The build must exit 1, name the file and line (with a "did
//! you mean" where one is close), and leave the previous `public/` exactly
//! as it was: same files, same bytes, same modification times.

mod support;

use std::fs;
use std::path::Path;
use support::*;

const DOC: &str = "content/directives/2024/10-cv-btgtu.md";
const OTHER: &str = "content/directives/2023/05-ct-tu.md";

struct Case {
    name: &'static str,
    /// Changes the site.
    apply: fn(&Path),
    /// `file:line:` expected in the message.
    at: &'static str,
    /// Further text expected in the message.
    says: &'static [&'static str],
}

fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "fixture lacks {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

fn write(root: &Path, file: &str, bytes: &[u8]) {
    let path = root.join(file);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

const CASES: &[Case] = &[
    Case {
        name: "malformed yaml",
        apply: |r| edit(r, DOC, "subject: Tăng", "subject: \"Tăng"),
        at: "10-cv-btgtu.md:6:10:",
        says: &["yaml-syntax", "quoted scalar"],
    },
    Case {
        name: "unclosed front matter",
        apply: |r| edit(r, DOC, "topics: [pctntc]\n---\n", "topics: [pctntc]\n"),
        at: "10-cv-btgtu.md:1:",
        says: &["never closed"],
    },
    Case {
        name: "no front matter",
        apply: |r| write(r, DOC, "Chỉ có nội dung.\n".as_bytes()),
        at: "10-cv-btgtu.md:1:",
        says: &["`---`"],
    },
    Case {
        name: "empty file",
        apply: |r| write(r, DOC, b""),
        at: "10-cv-btgtu.md:1:",
        says: &["empty"],
    },
    Case {
        name: "empty front matter",
        apply: |r| write(r, DOC, b"---\n---\nBody\n"),
        at: "10-cv-btgtu.md:1:",
        says: &["empty"],
    },
    Case {
        name: "front matter is a list",
        apply: |r| {
            write(
                r,
                DOC,
                "---\n- number: 1\n- kind: x\n---\nBody\n".as_bytes(),
            )
        },
        at: "10-cv-btgtu.md:2:",
        says: &["not a list"],
    },
    Case {
        name: "missing key",
        apply: |r| edit(r, DOC, "number: \"10-CV/BTGTU\"\n", ""),
        at: "10-cv-btgtu.md:",
        says: &["missing field `number`"],
    },
    Case {
        name: "unknown key",
        apply: |r| edit(r, DOC, "recipients:", "recipents:"),
        at: "10-cv-btgtu.md:7:",
        says: &["unknown field `recipents`", "did you mean `recipients`"],
    },
    Case {
        name: "impossible date",
        apply: |r| edit(r, DOC, "2024-05-22", "2024-02-30"),
        at: "10-cv-btgtu.md:5:",
        says: &["not a real date"],
    },
    Case {
        name: "date in another form",
        apply: |r| edit(r, DOC, "2024-05-22", "22/05/2024"),
        at: "10-cv-btgtu.md:5:",
        says: &["YYYY-MM-DD"],
    },
    Case {
        name: "unknown recipient close to a known one",
        apply: |r| edit(r, DOC, "  - hoi-nha-bao-tinh", "  - hoi-nha-bao"),
        at: "10-cv-btgtu.md:8:5:",
        says: &[
            "unknown recipient `hoi-nha-bao`",
            "did you mean `hoi-nha-bao-tinh`",
        ],
    },
    Case {
        name: "unknown topic",
        apply: |r| edit(r, DOC, "topics: [pctntc]", "topics: [pctnt]"),
        at: "10-cv-btgtu.md:10:10:",
        says: &["did you mean `pctntc`"],
    },
    Case {
        name: "unknown kind",
        apply: |r| edit(r, DOC, "kind: cong-van", "kind: cong-vn"),
        at: "10-cv-btgtu.md:3:",
        says: &["did you mean `cong-van`"],
    },
    Case {
        name: "unknown issuer",
        apply: |r| {
            edit(
                r,
                DOC,
                "issuer: ban-tuyen-giao-tinh-uy",
                "issuer: ban-tuyen-giao",
            )
        },
        at: "10-cv-btgtu.md:4:",
        says: &["unknown issuer", "did you mean `ban-tuyen-giao-tinh-uy`"],
    },
    Case {
        name: "unknown status",
        apply: |r| {
            edit(
                r,
                DOC,
                "topics: [pctntc]",
                "topics: [pctntc]\nstatus: inforce",
            )
        },
        at: "10-cv-btgtu.md:11:",
        says: &["did you mean `in-force`"],
    },
    Case {
        name: "number of no known shape",
        apply: |r| edit(r, DOC, "\"10-CV/BTGTU\"", "\"ABC\""),
        at: "10-cv-btgtu.md:2:",
        says: &["not a document number"],
    },
    Case {
        name: "bad slug",
        apply: |r| {
            edit(
                r,
                DOC,
                "topics: [pctntc]",
                "topics: [pctntc]\nslug: Bad Slug",
            )
        },
        at: "10-cv-btgtu.md:11:",
        says: &["bad-slug"],
    },
    Case {
        name: "number, issuer and year used twice",
        apply: |r| {
            let text = fs::read(r.join(DOC)).expect("read");
            write(r, "content/directives/2024/copy.md", &text);
        },
        at: "copy.md:2:",
        says: &["already used"],
    },
    Case {
        name: "two addresses clash",
        apply: |r| {
            let text = fs::read_to_string(r.join(DOC)).expect("read").replace(
                "issuer: ban-tuyen-giao-tinh-uy",
                "issuer: tinh-uy-binh-phuoc",
            );
            write(r, "content/directives/2024/khac.md", text.as_bytes());
        },
        at: "khac.md:2:",
        says: &["set `slug:`"],
    },
    Case {
        name: "invalid utf-8",
        apply: |r| {
            write(
                r,
                DOC,
                b"---\nnumber: \"10-CV/BTGTU\"\nsubject: \xFF\xFE\n---\n",
            )
        },
        at: "10-cv-btgtu.md:3:10:",
        says: &["not valid UTF-8"],
    },
    Case {
        name: "unknown heading recipient",
        apply: |r| {
            edit(
                r,
                DOC,
                "recipients=bao-binh-phuoc",
                "recipients=bao-binh-phuc",
            )
        },
        at: "10-cv-btgtu.md:18:",
        says: &["did you mean `bao-binh-phuoc`"],
    },
    Case {
        name: "malformed organizations.yaml",
        apply: |r| {
            edit(
                r,
                "content/organizations.yaml",
                "  short: TU\n",
                "  short: [TU\n",
            )
        },
        at: "organizations.yaml:",
        says: &["organizations.yaml"],
    },
    Case {
        name: "unknown parent organization",
        apply: |r| {
            edit(
                r,
                "content/organizations.yaml",
                "parent: tinh-uy-binh-phuoc",
                "parent: tinh-uy-binh-phuo",
            )
        },
        at: "organizations.yaml:8:",
        says: &["did you mean `tinh-uy-binh-phuoc`"],
    },
    Case {
        name: "unknown group member",
        apply: |r| {
            edit(
                r,
                "content/organizations.yaml",
                "members: [bao-binh-phuoc]",
                "members: [bao-binh]",
            )
        },
        at: "organizations.yaml:",
        says: &["did you mean `bao-binh-phuoc`"],
    },
    Case {
        name: "unknown key in site.yaml",
        apply: |r| edit(r, "content/site.yaml", "language: vi", "langauge: vi"),
        at: "site.yaml:3:",
        says: &["did you mean `language`"],
    },
    Case {
        name: "missing topics.yaml",
        apply: |r| fs::remove_file(r.join("content/topics.yaml")).expect("rm"),
        at: "content/topics.yaml:",
        says: &["required"],
    },
    Case {
        name: "implements itself",
        apply: |r| {
            edit(
                r,
                DOC,
                "topics: [pctntc]",
                "topics: [pctntc]\nimplements: [\"10-CV/BTGTU\"]",
            )
        },
        at: "10-cv-btgtu.md:11:",
        says: &["cannot implement itself"],
    },
    Case {
        name: "supersedes cycle",
        apply: |r| {
            edit(
                r,
                DOC,
                "topics: [pctntc]",
                "topics: [pctntc]\nsupersedes: [\"05-CT/TU\"]",
            );
            edit(
                r,
                OTHER,
                "topics: [bao-chi]",
                "topics: [bao-chi]\nsupersedes: [\"10-CV/BTGTU\"]",
            );
        },
        at: "directives/",
        says: &["cannot go in a circle"],
    },
    Case {
        name: "duplicate recipient",
        apply: |r| {
            edit(
                r,
                DOC,
                "  - cac-co-quan-bao-chi-tinh",
                "  - hoi-nha-bao-tinh",
            )
        },
        at: "10-cv-btgtu.md:",
        says: &["listed twice"],
    },
    Case {
        // A directive page renders as the search index asks for its text:
        // its error is still the template's, and nothing is written.
        name: "directive template fails at render",
        apply: |r| {
            write(
                r,
                "themes/hong/templates/directive.html",
                b"{% extends \"base.html\" %}{% block content %}{{ khong_co.x }}{% endblock content %}",
            );
            let site = r.join("content/site.yaml");
            let text = fs::read_to_string(&site).expect("read");
            fs::write(site, format!("{text}theme: hong\n")).expect("write");
        },
        at: "directive.html:1:",
        says: &["error[template]", "`khong_co` is not defined"],
    },
];

#[test]
fn every_bad_input_fails_cleanly_and_keeps_the_previous_site() {
    assert!(CASES.len() >= 20);
    let mut failures = Vec::new();
    for case in CASES {
        let site = fixture("minimal");
        let first = build(site.path());
        assert!(
            first.status.success(),
            "fixture must build: {}",
            stderr(&first)
        );
        let public = site.path().join("public");
        let before = snapshot(&public);
        (case.apply)(site.path());
        let out = build(site.path());
        let err = stderr(&out);
        let mut problems = Vec::new();
        if out.status.code() != Some(1) {
            problems.push(format!("exit status {:?}", out.status.code()));
        }
        if !err.contains(case.at) {
            problems.push(format!("no `{}` in the message", case.at));
        }
        for s in case.says {
            if !err.contains(s) {
                problems.push(format!("no `{s}` in the message"));
            }
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        if snapshot(&public) != before {
            problems.push("public/ changed".into());
        }
        let leftovers: Vec<_> = fs::read_dir(site.path())
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("staging"))
            .collect();
        if !leftovers.is_empty() {
            problems.push("staging folder left behind".into());
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{err}", case.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn check_writes_nothing() {
    let site = fixture("minimal");
    let out = banhanh(site.path(), &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!site.path().join("public").exists());
    edit(site.path(), DOC, "kind: cong-van", "kind: cong-vn");
    let out = banhanh(site.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!site.path().join("public").exists());
}

#[test]
fn every_problem_of_a_run_is_reported_at_once() {
    let site = fixture("minimal");
    edit(site.path(), DOC, "kind: cong-van", "kind: cong-vn");
    edit(
        site.path(),
        OTHER,
        "topics: [bao-chi]",
        "topics: [bao-chii]",
    );
    let err = stderr(&build(site.path()));
    assert!(err.contains("10-cv-btgtu.md:3:"), "{err}");
    assert!(err.contains("05-ct-tu.md:"), "{err}");
}

/// Odd but valid input builds: CRLF line ends, a BOM, NFD text, a 5 MB body.
#[test]
fn odd_but_valid_input_builds() {
    let site = fixture("minimal");
    let path = site.path().join(DOC);
    let text = fs::read_to_string(&path).expect("read");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(text.replace('\n', "\r\n").into_bytes());
    fs::write(&path, bytes).expect("write");
    // NFD: "Về công tác báo chí" decomposed.
    use unicode_normalization::UnicodeNormalization;
    let other = site.path().join(OTHER);
    let nfd: String = fs::read_to_string(&other).expect("read").nfd().collect();
    fs::write(&other, nfd).expect("write");
    let big = "Đoạn văn dài để thử sức chịu của trình dựng trang. ".repeat(100_000);
    assert!(big.len() > 5_000_000);
    let big_doc = format!(
        "---\nnumber: \"11-CV/BTGTU\"\nkind: cong-van\nissuer: ban-tuyen-giao-tinh-uy\ndate: 2024-06-01\nsubject: Văn bản rất dài\n---\n{big}\n"
    );
    write(
        site.path(),
        "content/directives/2024/11-cv-btgtu.md",
        big_doc.as_bytes(),
    );
    let out = build(site.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let html = read(
        site.path()
            .join("public/van-ban/2024/10-cv-btgtu/index.html"),
    );
    assert!(html.contains("Tăng cường công tác tuyên truyền"));
    assert!(
        html.contains("id=\"muc-1\""),
        "CRLF front matter and headings parse"
    );
    let ct = read(site.path().join("public/van-ban/2023/05-ct-tu/index.html"));
    assert!(
        ct.contains("Về công tác báo chí"),
        "NFD text is composed to NFC"
    );
    assert!(
        site.path()
            .join("public/van-ban/2024/11-cv-btgtu/index.html")
            .is_file()
    );
}

//! One-file rebuilds as serve mode does them: builds a site once, then
//! edits one directive again and again and times each incremental rebuild
//! (from the change to the end of the write), printing the median.
//!
//!     cargo bench --bench incremental -- /tmp/banhanh-bench/site10000 [RUNS]
//!
//! The site folder must hold content/ (benches/bench.py generates one).

use banhanh::BuildOptions;
use banhanh::incremental::Builder;
use std::path::PathBuf;
use std::time::Instant;

// The same allocator as the `banhanh` binary, so the figures are serve's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let Some(root) = args.next().map(PathBuf::from) else {
        eprintln!("usage: cargo bench --bench incremental -- SITE_FOLDER [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let out = std::env::temp_dir().join(format!("banhanh-incremental-{}", std::process::id()));
    let opts = BuildOptions {
        root: root.clone(),
        out: out.clone(),
        drafts: false,
        base_url: None,
        inject: String::new(),
    };
    let mut builder = Builder::new();
    let t = Instant::now();
    let first = builder
        .build(&opts)
        .unwrap_or_else(|f| panic!("{:?}", f.diagnostics.first()));
    println!(
        "first build: {} pages in {:.2} s",
        first.pages,
        t.elapsed().as_secs_f64()
    );

    let file = walkdir::WalkDir::new(root.join("content/directives"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_type().is_file())
        .expect("a directive")
        .into_path();
    let original = std::fs::read_to_string(&file).expect("read");
    let mut times = Vec::new();
    for i in 0..runs {
        std::fs::write(
            &file,
            original.replacen("subject: ", &format!("subject: Sửa {i} - "), 1),
        )
        .expect("write");
        let t = Instant::now();
        // As serve does, told by its file watcher which file changed.
        let r = builder
            .build_after(&opts, std::slice::from_ref(&file))
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics.first()));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let stages: Vec<String> = r
            .timings
            .iter()
            .map(|(s, t)| format!("{s} {:.0}", t.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "edit {i}: {} pages rendered, {} written, {:.0} ms ({} ms)",
            r.pages,
            r.written,
            times[i],
            stages.join(", ")
        );
    }
    std::fs::write(&file, original).expect("restore");
    let _ = std::fs::remove_dir_all(&out);
    times.sort_by(f64::total_cmp);
    println!(
        "one-file rebuild: median {:.0} ms over {runs} runs",
        times[runs / 2]
    );
}

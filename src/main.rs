//! The command line: parses arguments, calls the library, prints, exits.

use banhanh::diagnostics::{Diagnostic, Severity};
use banhanh::new::{NewOptions, new_directive};
use banhanh::report::{Terminal, Verbosity};
use banhanh::serve::{ServeOptions, serve};
use banhanh::{BuildOptions, build, check};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

// Rendering allocates and frees many short strings on every thread; glibc's
// allocator spends a quarter of a build in malloc/free, mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of mimalloc.h (the same in its v2 and v3): how
/// long freed memory is kept before it goes back to the OS (1 s in v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// `build` and `check` are batch jobs: the memory they free is soon
/// needed again for pages and index parts. Returned to the OS, it came
/// back as fresh pages the kernel zeroes (13% of a 100,000-directive
/// build's CPU in `perf`). Kept, the 100k build's peak is 1.5 GiB (it
/// holds no directive text past parsing), and it takes 21-22 s instead of
/// 22.5 s on a RAM disk. `serve` keeps the default: it lives long.
fn keep_freed_memory() {
    // SAFETY: sets one of mimalloc's options, which it reads at each purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

#[derive(Parser)]
#[command(
    name = "banhanh",
    version,
    about = "Publish official directives as a static site"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The site folder (holding content/).
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', global = true)]
    jobs: Option<usize>,
    /// Print only errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more: where output goes, what triggered a rebuild.
    #[arg(long, short, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder.
    Build {
        /// Output folder (default: public/ under the root).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Include directives marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// Base URL for feeds, sitemap and canonical links.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Validate the content without writing anything.
    Check {
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[arg(long)]
        drafts: bool,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Preview the site: build, serve on loopback, rebuild and reload the
    /// browser on every change to content/ or themes/.
    Serve {
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// Address to listen on; anything but loopback exposes the preview.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Include directives marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// Open the site in the default browser.
        #[arg(long)]
        open: bool,
    },
    /// Start a new directive file with front matter and the usual sections.
    New {
        /// A kind slug from site.yaml (cong-van, ke-hoach, ...).
        #[arg(long)]
        kind: String,
        /// "Số và ký hiệu", e.g. 1383-CV/BTGTU.
        #[arg(long)]
        number: String,
        /// The issuing organization's slug.
        #[arg(long)]
        issuer: String,
        /// Date of issue, YYYY-MM-DD (default: today).
        #[arg(long)]
        date: Option<String>,
        /// The subject (trích yếu).
        subject: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
    Github,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.jobs {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let term = Terminal::detect(verbosity);
    if matches!(cli.command, Command::Build { .. } | Command::Check { .. }) {
        keep_freed_memory();
    }
    match cli.command {
        Command::Build {
            out,
            drafts,
            base_url,
        } => {
            let out = out.unwrap_or_else(|| cli.root.join("public"));
            if term.verbose() {
                eprintln!("building {} into {}", cli.root.display(), out.display());
            }
            let opts = BuildOptions {
                root: cli.root.clone(),
                out,
                drafts,
                base_url,
                inject: String::new(),
            };
            let progress = term.progress("building");
            let result = build(&opts);
            progress.finish();
            match result {
                Ok(report) => {
                    term.print_diagnostics(&report.diagnostics);
                    if std::env::var_os("BANHANH_TIMINGS").is_some() {
                        for (stage, t) in &report.timings {
                            eprintln!("  {stage}: {:.3} s", t.as_secs_f64());
                        }
                    }
                    if !term.quiet() {
                        eprintln!("{}", term.summary(&report));
                    }
                    ExitCode::SUCCESS
                }
                Err(failure) => {
                    term.print_diagnostics(&failure.diagnostics);
                    eprintln!(
                        "build failed with {} error(s); nothing was written",
                        count_errors(&failure.diagnostics)
                    );
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check {
            format,
            drafts,
            deny_warnings,
        } => {
            let diags = check(&cli.root, drafts);
            for d in &diags {
                if term.quiet() && d.severity != Severity::Error {
                    continue;
                }
                match format {
                    Format::Human => eprint!("{}", term.diagnostic(d)),
                    Format::Json => println!("{}", d.render_json()),
                    Format::Github => println!("{}", d.render_github()),
                }
            }
            let errors = count_errors(&diags);
            let warnings = diags.len() - errors;
            if matches!(format, Format::Human) && !term.quiet() {
                eprintln!("checked: {errors} error(s), {warnings} warning(s)");
            }
            if errors > 0 || (deny_warnings && warnings > 0) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Serve {
            port,
            bind,
            drafts,
            open,
        } => {
            let opts = ServeOptions {
                root: cli.root,
                bind,
                port,
                drafts,
                open,
                debounce: Duration::from_millis(100),
            };
            match serve(&opts, term) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::New {
            kind,
            number,
            issuer,
            date,
            subject,
        } => {
            let opts = NewOptions {
                root: cli.root,
                kind,
                number,
                issuer,
                date,
                subject,
            };
            match new_directive(&opts) {
                Ok(created) => {
                    // The path alone on stdout, for scripts and editors.
                    println!("{}", created.file);
                    if !term.quiet() {
                        for w in &created.warnings {
                            eprintln!("warning: {w}");
                        }
                        eprintln!("created {} (page: /{})", created.file, created.url);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", e.render_human());
                    eprintln!("nothing was written");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn count_errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_mimalloc_documents() {
        // Its default (1,000 ms) tells it from its neighbours (1 and 0),
        // should mimalloc's list of options change.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads an option.
            let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
            assert_eq!(delay, 1000);
        }
    }
}

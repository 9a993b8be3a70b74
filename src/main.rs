//! The command line: parses arguments, calls the library, prints, exits.

use banhanh::diagnostics::{Diagnostic, Severity};
use banhanh::{BuildOptions, build, check};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

// Rendering allocates and frees many short strings on every thread; glibc's
// allocator spends a quarter of a build in malloc/free, mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    #[arg(long, short, global = true)]
    quiet: bool,
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
    match cli.command {
        Command::Build {
            out,
            drafts,
            base_url,
        } => {
            let out = out.unwrap_or_else(|| cli.root.join("public"));
            let opts = BuildOptions {
                root: cli.root.clone(),
                out,
                drafts,
                base_url,
                inject: String::new(),
            };
            match build(&opts) {
                Ok(report) => {
                    print_diagnostics(&report.diagnostics, Format::Human, cli.quiet);
                    if std::env::var_os("BANHANH_TIMINGS").is_some() {
                        for (stage, t) in &report.timings {
                            eprintln!("  {stage}: {:.3} s", t.as_secs_f64());
                        }
                    }
                    if !cli.quiet {
                        eprintln!(
                            "built {} directives: {} files ({} written, {} unchanged), {} warnings, in {:.2} s",
                            report.directives,
                            report.pages,
                            report.written,
                            report.unchanged,
                            report.diagnostics.len(),
                            report.elapsed.as_secs_f64()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(failure) => {
                    print_diagnostics(&failure.diagnostics, Format::Human, false);
                    let errors = failure
                        .diagnostics
                        .iter()
                        .filter(|d| d.severity == Severity::Error)
                        .count();
                    eprintln!("build failed with {errors} error(s); nothing was written");
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
            print_diagnostics(&diags, format, cli.quiet);
            let errors = diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let warnings = diags.len() - errors;
            if matches!(format, Format::Human) && !cli.quiet {
                eprintln!("checked: {errors} error(s), {warnings} warning(s)");
            }
            if errors > 0 || (deny_warnings && warnings > 0) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

fn print_diagnostics(diags: &[Diagnostic], format: Format, quiet: bool) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in diags {
        if quiet && d.severity != Severity::Error {
            continue;
        }
        match format {
            Format::Human => {
                let text = d.render_human();
                if color {
                    let code = if d.severity == Severity::Error {
                        "31"
                    } else {
                        "33"
                    };
                    eprint!("\x1b[{code}m{text}\x1b[0m");
                } else {
                    eprint!("{text}");
                }
            }
            Format::Json => println!("{}", serde_json::to_string(d).unwrap_or_default()),
            Format::Github => {
                let level = if d.severity == Severity::Error {
                    "error"
                } else {
                    "warning"
                };
                let mut msg = d.message.clone();
                if let Some(s) = &d.suggestion {
                    msg.push_str(&format!(" (did you mean `{s}`?)"));
                }
                println!(
                    "::{level} file={},line={},col={}::{}",
                    d.file,
                    d.line,
                    d.column,
                    escape_github(&msg)
                );
            }
        }
    }
}

/// GitHub workflow commands need `%`, CR and LF escaped.
fn escape_github(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

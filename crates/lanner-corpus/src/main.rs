//! `lanner-corpus`: write a realistic, seeded Kubernetes audit log (JSON lines).
//!
//! ```text
//! lanner-corpus --events 200000 --seed 1 -o corpus.json
//! lanner-corpus --events 20000 --match-heavy --gzip -o risky.json.gz
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use flate2::Compression;
use flate2::write::GzEncoder;
use lanner_corpus::{Config, Generator};

/// Write a realistic Kubernetes audit log, the same for the same seed.
#[derive(Parser, Debug)]
#[command(name = "lanner-corpus", version)]
struct Args {
    /// How many events.
    #[arg(long, default_value_t = 10_000)]
    events: u64,
    /// The seed: the same seed gives the same corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The share of risky requests, from 0 to 1.
    #[arg(long, default_value_t = 0.01)]
    risky_rate: f64,
    /// Make most requests risky (overrides --risky-rate).
    #[arg(long)]
    match_heavy: bool,
    /// Compress the output with gzip.
    #[arg(long)]
    gzip: bool,
    /// Write here instead of to stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print no summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.risky_rate) {
        eprintln!("lanner-corpus: --risky-rate must be between 0 and 1");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lanner-corpus: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> io::Result<()> {
    let config = Config {
        events: args.events,
        seed: args.seed,
        risky_rate: args.risky_rate,
        match_heavy: args.match_heavy,
    };
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(File::create(path)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut generator = Generator::new(&config);
    let out = BufWriter::with_capacity(1 << 16, sink);
    if args.gzip {
        let gz = write_corpus(&mut generator, GzEncoder::new(out, Compression::fast()))?;
        gz.finish()?.flush()?;
    } else {
        write_corpus(&mut generator, out)?.flush()?;
    }
    if !args.quiet {
        let stats = generator.stats();
        #[allow(clippy::cast_precision_loss)]
        let average = if stats.events > 0 {
            stats.bytes as f64 / stats.events as f64
        } else {
            0.0
        };
        eprintln!(
            "lanner-corpus: {} events, {} bytes ({average:.0} B/event), {} risky (seed {}, risky rate {})",
            stats.events,
            stats.bytes,
            stats.risky,
            config.seed,
            config.effective_risky_rate()
        );
    }
    Ok(())
}

fn write_corpus<W: Write>(generator: &mut Generator, mut out: W) -> io::Result<W> {
    let mut line = String::with_capacity(4096);
    while generator.next_into(&mut line) {
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(out)
}

//! `lanner run`: evaluate rules against audit log files or stdin.
//!
//! Streams: input is read in batches of lines (up to 128 KiB), never a whole
//! file, so memory stays flat whatever the input size. With one worker the
//! batches are processed inline; with more, each worker thread reads its next
//! batch (in turn, under a lock), decodes and evaluates it, and a writer puts
//! their output back in input order, so alerts and line errors come out
//! exactly as with one worker.
//! Alerts go to stdout; problems with input lines go to stderr as
//! `file:line: reason` and the run goes on; the summary goes to stderr.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use lanner_audit::{Decoder, LineError, LineReader, open_input};
use lanner_engine::{Alert, Engine, Options, RuleMatching};

use crate::cli::{FollowFrom, Format, Matching, RunArgs};
use crate::cmd::rules;

/// More worker threads than this is a mistake, not a speed-up.
const MAX_WORKERS: usize = 1024;

/// Lines per batch, and bytes per batch, whichever comes first. A batch is decoded right
/// after it is read, so it should still be in the core's L2 cache (512 KiB here): batches of
/// 1 MiB took 10% more wall time with one worker and 8% more with two, and 25% more memory.
/// (docs/performance.md, fourth session.)
const BATCH_LINES: usize = 256;
const BATCH_BYTES: usize = 1 << 17;

/// Lines read from one input, handed to a worker.
struct Batch {
    seq: u64,
    input: Arc<str>,
    /// Number of lines read before this batch (across all inputs), for `evt.num`.
    first_num: u64,
    data: Vec<u8>,
    /// The number and place in `data` of each line.
    lines: Vec<(u64, Range<usize>)>,
    /// Lines the reader could not read (too long), already formatted.
    notes: Vec<(u64, String)>,
}

/// What a worker made of a batch.
#[derive(Default)]
struct Done {
    seq: u64,
    out: Vec<u8>,
    err: String,
    events: u64,
    bytes: u64,
    rejected: u64,
    alerts: BTreeMap<usize, u64>,
}

/// Counts for the end-of-run summary.
#[derive(Default)]
struct Summary {
    events: u64,
    bytes: u64,
    rejected: u64,
    alerts_by_rule: BTreeMap<usize, u64>,
    unreadable_inputs: u64,
}

impl Summary {
    fn add(&mut self, done: &Done) {
        self.events += done.events;
        self.bytes += done.bytes;
        self.rejected += done.rejected;
        for (rule, count) in &done.alerts {
            *self.alerts_by_rule.entry(*rule).or_default() += count;
        }
    }
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let file = lanner_server::config::Config::load(args.config.as_deref(), &args.set)?.rules;
    let loaded = crate::cmd::serve::load_rules(if args.rules.is_empty() {
        &file.paths
    } else {
        &args.rules
    });
    rules::print_diagnostics(&loaded, Format::Text, false)?;
    if loaded.diagnostics.has_errors() {
        eprintln!(
            "lanner: rules failed to load ({} errors); run `lanner validate` for details",
            loaded.diagnostics.error_count()
        );
        return Ok(ExitCode::from(1));
    }
    let options = Options {
        rule_matching: match args.rule_matching {
            Matching::First => RuleMatching::First,
            Matching::All => RuleMatching::All,
        },
        min_priority: args.min_priority,
        disabled_rules: args.disable_rule.clone(),
        disabled_tags: args.disable_tag.clone(),
        enabled_tags: args.enable_tag.clone(),
        included_tags: args.include_tag.clone(),
        include_disabled: false,
        prefilter: true,
    };
    let engine = Engine::new(&loaded.ruleset, &with_config(options, &file))?;
    if let Some(path) = &args.follow {
        return match run_follow(path, args.follow_from, &engine, args.format, args.quiet) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        };
    }
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .max(1);
    if workers > MAX_WORKERS {
        anyhow::bail!("--workers can be at most {MAX_WORKERS}");
    }
    let started = Instant::now();
    let progress = progress_bar(&inputs, args.quiet);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = if workers == 1 {
        run_inline(&inputs, &engine, args.format, &mut out, progress.as_ref())
    } else {
        run_parallel(
            &inputs,
            &engine,
            args.format,
            workers,
            &mut out,
            progress.as_ref(),
        )
    };
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let summary = match result {
        Ok(summary) => summary,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e.into()),
    };
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    if !args.quiet {
        print_summary(&engine, &summary, started.elapsed().as_secs_f64());
    }
    Ok(if summary.unreadable_inputs > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Adds the config file's `rules:` settings to the options from flags; a
/// flag left at its default takes the file's value, lists are joined.
fn with_config(mut options: Options, file: &lanner_server::config::RulesConfig) -> Options {
    let from_file = file.engine_options();
    if options.rule_matching == RuleMatching::First {
        options.rule_matching = from_file.rule_matching;
    }
    if options.min_priority == lanner_rules::Priority::Debug {
        options.min_priority = from_file.min_priority;
    }
    options.disabled_rules.extend(from_file.disabled_rules);
    options.disabled_tags.extend(from_file.disabled_tags);
    options.enabled_tags.extend(from_file.enabled_tags);
    options.included_tags.extend(from_file.included_tags);
    options
}

/// `--follow FILE`: evaluates lines as they are appended, across rotations,
/// flushing alerts whenever no complete line is waiting. Returns only on error.
fn run_follow(
    path: &Path,
    from: FollowFrom,
    engine: &Engine,
    format: Format,
    quiet: bool,
) -> io::Result<()> {
    use lanner_server::follow::{FollowReader, Start};
    let start = match from {
        FollowFrom::Beginning => Start::Beginning,
        FollowFrom::End => Start::End,
    };
    let mut reader = FollowReader::open(path, start)?;
    if !quiet {
        match from {
            FollowFrom::Beginning => eprintln!("lanner: following {}", path.display()),
            FollowFrom::End => eprintln!(
                "lanner: following {} from byte {} (its end)",
                path.display(),
                reader.offset()
            ),
        }
    }
    let input: Arc<str> = Arc::from(display(path));
    let mut out = io::stdout().lock();
    let mut summary = Summary::default();
    let mut lines_before = 0;
    loop {
        let mut batch = Batch {
            seq: 0,
            input: Arc::clone(&input),
            first_num: lines_before,
            data: Vec::new(),
            lines: Vec::new(),
            notes: Vec::new(),
        };
        while batch.lines.len() < BATCH_LINES && batch.data.len() < BATCH_BYTES {
            match reader.poll_line() {
                None => break,
                Some(Ok((number, bytes))) => {
                    let start = batch.data.len();
                    batch.data.extend_from_slice(bytes);
                    batch.lines.push((number, start..batch.data.len()));
                }
                Some(Err(LineError::Io { source, .. })) => return Err(source),
                Some(Err(e)) => batch.notes.push((e.line(), e.to_string())),
            }
        }
        if batch.lines.is_empty() && batch.notes.is_empty() {
            reader.wait();
            continue;
        }
        lines_before += batch.lines.len() as u64;
        emit(
            &process_batch(engine, format, &batch),
            &mut out,
            &mut summary,
            None,
        )?;
        out.flush()?;
    }
}

fn display(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// The inputs, read batch by batch in order, by whoever processes the batches: the one
/// thread with one worker, else each worker in turn, under a lock. A worker thus decodes
/// the batch it has just read, in a buffer it reuses, and no thread only reads: one thread
/// and one channel fewer than a reader thread handing batches out, 1 MB less peak memory,
/// the same speed (docs/performance.md, fifth session). Unreadable inputs are reported and
/// counted, and reading goes on with the next.
struct Batches<'a> {
    inputs: std::slice::Iter<'a, PathBuf>,
    /// The input being read, and its name for messages.
    current: Option<(Arc<str>, LineReader)>,
    /// The sequence number of the next batch.
    seq: u64,
    /// Lines read before the next batch (across all inputs), for `evt.num`.
    lines_before: u64,
    unreadable_inputs: u64,
}

/// A batch buffer that grew past this (a very long line) is not kept for the next batch.
const KEEP_BATCH_BYTES: usize = 4 * BATCH_BYTES;

impl<'a> Batches<'a> {
    fn new(inputs: &'a [PathBuf]) -> Batches<'a> {
        Batches {
            inputs: inputs.iter(),
            current: None,
            seq: 0,
            lines_before: 0,
            unreadable_inputs: 0,
        }
    }

    /// The next batch, read into `data` (the buffer of an earlier batch, for reuse); `None`
    /// once every input is read.
    fn next(&mut self, data: Vec<u8>) -> Option<Batch> {
        let mut data = if data.capacity() > KEEP_BATCH_BYTES {
            Vec::new()
        } else {
            data
        };
        loop {
            let Some((name, reader)) = &mut self.current else {
                let input = self.inputs.next()?;
                let name: Arc<str> = Arc::from(display(input));
                match open_input(input) {
                    Ok(reader) => self.current = Some((name, reader)),
                    Err(e) => {
                        eprintln!("lanner: {name}: {e}");
                        self.unreadable_inputs += 1;
                    }
                }
                continue;
            };
            data.clear();
            let mut batch = Batch {
                seq: self.seq,
                input: Arc::clone(name),
                first_num: self.lines_before,
                data,
                lines: Vec::with_capacity(BATCH_LINES),
                notes: Vec::new(),
            };
            let mut errors = Vec::new();
            let more = reader.fill(
                &mut batch.data,
                &mut batch.lines,
                &mut errors,
                BATCH_LINES,
                BATCH_BYTES,
            );
            for error in errors {
                match error {
                    LineError::Io { source, .. } => {
                        eprintln!("lanner: {name}: {source}");
                        self.unreadable_inputs += 1;
                    }
                    e @ LineError::TooLong { .. } => batch.notes.push((e.line(), e.to_string())),
                }
            }
            if !more {
                self.current = None;
            }
            if !batch.lines.is_empty() || !batch.notes.is_empty() {
                self.lines_before += batch.lines.len() as u64;
                self.seq += 1;
                return Some(batch);
            }
            data = batch.data;
        }
    }
}

/// Decodes and evaluates one batch; pure, so any thread can run it.
fn process_batch(engine: &Engine, format: Format, batch: &Batch) -> Done {
    use std::fmt::Write as _;
    let mut done = Done {
        seq: batch.seq,
        rejected: batch.notes.len() as u64,
        ..Done::default()
    };
    let mut notes = batch.notes.iter().peekable();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut scratch = engine.scratch();
    // Each line's events are dropped before the next line is decoded, so the decoder reuses
    // one text and tape buffer for the whole batch.
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    let mut num = batch.first_num;
    for (number, range) in &batch.lines {
        let number = *number;
        while let Some((line, note)) = notes.next_if(|(line, _)| *line < number) {
            let _ = writeln!(done.err, "{}:{line}: {note}", batch.input);
        }
        let bytes = batch.data.get(range.clone()).unwrap_or_default();
        done.bytes += bytes.len() as u64 + 1;
        if let Err(e) = decoder.decode(bytes, num + 1, &mut events) {
            let _ = writeln!(done.err, "{}:{number}: {e}", batch.input);
            done.rejected += 1;
            continue;
        }
        for event in events.drain(..) {
            let event = match event {
                Ok(event) => event,
                Err(e) => {
                    let _ = writeln!(done.err, "{}:{number}: {e}", batch.input);
                    done.rejected += 1;
                    continue;
                }
            };
            num = num.max(event.num());
            done.events += 1;
            alerts.clear();
            engine.process_with(&event, &mut scratch, &mut alerts);
            for alert in &alerts {
                *done.alerts.entry(alert.rule).or_default() += 1;
                let line = match format {
                    Format::Text => engine.render_text(alert),
                    Format::Json => engine.render_json(alert),
                };
                done.out.extend_from_slice(line.as_bytes());
                done.out.push(b'\n');
            }
        }
    }
    for (line, note) in notes {
        let _ = writeln!(done.err, "{}:{line}: {note}", batch.input);
    }
    done
}

fn emit(
    done: &Done,
    out: &mut impl Write,
    summary: &mut Summary,
    progress: Option<&indicatif::ProgressBar>,
) -> io::Result<()> {
    if !done.err.is_empty() {
        out.flush()?;
        eprint!("{}", done.err);
    }
    out.write_all(&done.out)?;
    summary.add(done);
    if let Some(bar) = progress {
        bar.inc(done.bytes);
    }
    Ok(())
}

fn run_inline(
    inputs: &[PathBuf],
    engine: &Engine,
    format: Format,
    out: &mut impl Write,
    progress: Option<&indicatif::ProgressBar>,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut batches = Batches::new(inputs);
    let mut data = Vec::new();
    while let Some(batch) = batches.next(data) {
        emit(
            &process_batch(engine, format, &batch),
            out,
            &mut summary,
            progress,
        )?;
        data = batch.data;
    }
    summary.unreadable_inputs += batches.unreadable_inputs;
    Ok(summary)
}

fn run_parallel(
    inputs: &[PathBuf],
    engine: &Engine,
    format: Format,
    workers: usize,
    out: &mut impl Write,
    progress: Option<&indicatif::ProgressBar>,
) -> io::Result<Summary> {
    let batches = Mutex::new(Batches::new(inputs));
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Done>(workers * 2);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let batches = &batches;
            scope.spawn(move || {
                let mut data = Vec::new();
                loop {
                    let batch = batches
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .next(data);
                    let Some(batch) = batch else { return };
                    if done_tx.send(process_batch(engine, format, &batch)).is_err() {
                        // The writer stopped (output closed).
                        return;
                    }
                    data = batch.data;
                }
            });
        }
        drop(done_tx);
        // The writer runs here: stdout's lock stays on this thread.
        let mut summary = Summary::default();
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0;
        for done in &done_rx {
            pending.insert(done.seq, done);
            while let Some(done) = pending.remove(&next) {
                if let Err(e) = emit(&done, out, &mut summary, progress) {
                    // Unblock the workers and the reader, then report.
                    drop(done_rx);
                    return Err(e);
                }
                next += 1;
            }
        }
        summary.unreadable_inputs += batches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unreadable_inputs;
        Ok(summary)
    })
}

/// A progress bar on stderr for large inputs read from files, when stderr is
/// a terminal.
fn progress_bar(inputs: &[PathBuf], quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .filter(|p| p.as_path() != Path::new("-"))
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    if total < 64 << 20 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

#[allow(clippy::cast_precision_loss)] // rates for people: f64 precision is plenty
fn print_summary(engine: &Engine, summary: &Summary, seconds: f64) {
    let total: u64 = summary.alerts_by_rule.values().sum();
    let rate = if seconds > 0.0 {
        summary.events as f64 / seconds
    } else {
        0.0
    };
    let mb = summary.bytes as f64 / 1e6;
    eprintln!(
        "lanner: {} events, {} rejected lines, {total} alerts in {seconds:.3}s ({rate:.0} events/s, {:.1} MB/s)",
        summary.events,
        summary.rejected,
        if seconds > 0.0 { mb / seconds } else { 0.0 }
    );
    let mut by_priority: BTreeMap<lanner_rules::Priority, u64> = BTreeMap::new();
    for (&rule, &count) in &summary.alerts_by_rule {
        let rule = &engine.rules()[rule].rule;
        *by_priority.entry(rule.priority).or_default() += count;
        eprintln!("  {count:>8}  {}", rule.name);
    }
    if !by_priority.is_empty() {
        let parts: Vec<String> = by_priority
            .iter()
            .map(|(p, c)| format!("{p}: {c}"))
            .collect();
        eprintln!("  by priority: {}", parts.join(", "));
    }
}

//! Command-line arguments, parsed with clap into one place.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// A Falco-compatible detection engine for Kubernetes audit logs.
#[derive(Debug, Parser)]
#[command(name = "lanner", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of a command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// For programs.
    Json,
}

/// `rule_matching`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Matching {
    /// At most one alert per event: the first matching rule in load order.
    #[default]
    First,
    /// Every matching rule alerts.
    All,
}

/// Where `--follow` starts reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum FollowFrom {
    /// Every line already in the file, then new ones (`tail -n +1 -F`).
    #[default]
    Beginning,
    /// Only lines written after the start (`tail -n 0 -F`); a line being written at the
    /// start is skipped whole.
    End,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate rules against audit events from files or stdin.
    Run(RunArgs),
    /// Receive audit events from the API server's webhook backend and send alerts on.
    Serve(crate::cmd::serve::ServeArgs),
    /// Show why a rule does or does not fire on an event: the condition as a
    /// tree with each field's value and each part's result.
    Explain {
        /// Rules files (repeatable; default: the built-in rules).
        #[arg(short = 'r', long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
        /// The rule to explain.
        #[arg(long, value_name = "NAME")]
        rule: String,
        /// A file with the event (JSON lines; `-` for stdin).
        #[arg(value_name = "EVENT", default_value = "-")]
        event: PathBuf,
        /// Which event of the file (1 = the first).
        #[arg(long = "event-number", value_name = "N", default_value_t = 1)]
        event_number: u64,
    },
    /// Run rule test files: events that must fire a rule and near misses that must not.
    Test {
        /// Rules to test (repeatable; default: the rules files in each
        /// directory given, else the built-in rules).
        #[arg(short = 'r', long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
        /// Test files, or directories searched for `*.test.yaml`.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        /// Print every case, not only failures.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Check rules files and print every problem found.
    Validate {
        /// A rules file or directory (repeatable; loaded in order).
        #[arg(short = 'r', long = "rules", value_name = "PATH", required = true)]
        rules: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List the rules that the rules files define.
    List {
        /// A rules file or directory (repeatable; default: the built-in rules).
        #[arg(short = 'r', long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List the fields conditions and outputs can use.
    Fields {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Arguments of `lanner run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A rules file or directory (repeatable; default: the built-in rules).
    #[arg(short = 'r', long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Audit log files (JSON lines, plain or gzip); `-` or nothing reads stdin.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Alert format: Falco's text line or its JSON object.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// At most one alert per event (first), or one per matching rule (all).
    #[arg(long, value_enum, default_value_t)]
    pub rule_matching: Matching,
    /// Skip rules less severe than this priority.
    #[arg(long, value_name = "PRIORITY", value_parser = parse_priority, default_value = "debug")]
    pub min_priority: lanner_rules::Priority,
    /// Disable a rule by name (`*` matches any text; repeatable).
    #[arg(short = 'D', long = "disable-rule", value_name = "NAME")]
    pub disable_rule: Vec<String>,
    /// Disable the rules with this tag (repeatable).
    #[arg(short = 'T', long = "disable-tag", value_name = "TAG")]
    pub disable_tag: Vec<String>,
    /// Run only the rules with this tag, even if disabled in the files (repeatable).
    #[arg(short = 't', long = "enable-tag", value_name = "TAG")]
    pub enable_tag: Vec<String>,
    /// Also run the rules with this tag, even if disabled in the files
    /// (e.g. `--include-tag activity`; repeatable).
    #[arg(long = "include-tag", value_name = "TAG")]
    pub include_tag: Vec<String>,
    /// Worker threads that decode and evaluate (default: one per core);
    /// output order is the input order whatever the number.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Follow an audit log as the API server writes it, across rotations
    /// (rename-and-create and copytruncate), reading it from the start;
    /// runs until stopped. Takes no other INPUT.
    #[arg(long, value_name = "FILE", conflicts_with = "inputs")]
    pub follow: Option<PathBuf>,
    /// Where `--follow` starts: at the beginning of the file, or at its end (only new
    /// lines; line numbers in messages then count from there).
    #[arg(
        long,
        value_enum,
        value_name = "WHERE",
        default_value_t,
        requires = "follow"
    )]
    pub follow_from: FollowFrom,
    /// Read the `rules:` settings of this configuration file (the one
    /// `lanner serve` reads); flags given here win over it.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Set a configuration key, e.g. `-o rules.min_priority=warning` (repeatable).
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print no summary or progress bar on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_priority(text: &str) -> Result<lanner_rules::Priority, String> {
    lanner_rules::Priority::parse(text).ok_or_else(|| {
        format!("unknown priority `{text}`: use emergency, alert, critical, error, warning, notice, informational or debug")
    })
}

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

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
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

//! Diagnostics as data: stable codes, spans, context chains and help.
//!
//! Loading collects every independent problem as a [`Diagnostic`] instead of
//! stopping at the first. A diagnostic is rendered either for a terminal
//! (with `file:line:column`, the source line and a caret, via
//! codespan-reporting) or as JSON. Codes never change meaning once released:
//! add new ones at the end of their range.

use std::fmt::Write as _;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::term;

use crate::source::{Sources, Span};

macro_rules! codes {
    ($($code:ident => $title:literal,)*) => {
        /// A stable diagnostic code: `E1xx` YAML and schema, `E2xx` condition
        /// syntax, `E3xx` binding and semantics, `E4xx` output templates,
        /// `W1xx` warnings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $(#[doc = concat!("`", $title, "`")] $code,)* }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as printed, e.g. `E301`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            /// A short title for the code.
            #[must_use]
            pub fn title(self) -> &'static str {
                match self { $(Code::$code => $title,)* }
            }
        }
    };
}

codes! {
    E101 => "invalid YAML",
    E102 => "rules content has the wrong shape",
    E103 => "required key missing",
    E104 => "invalid value for key",
    E105 => "invalid priority",
    E106 => "invalid override",
    E107 => "nothing to append to or override",
    E108 => "incompatible engine version",
    E109 => "invalid or unsatisfied plugin requirement",
    E110 => "invalid exception",
    E111 => "cannot read rules file",
    E112 => "rule redefined with a different source",
    E201 => "condition syntax error",
    E202 => "unterminated string",
    E203 => "invalid escape in string",
    E204 => "condition nested too deeply",
    E205 => "empty condition",
    E301 => "unknown field",
    E302 => "undefined macro",
    E303 => "macro reference loop",
    E304 => "operator not supported for this field",
    E305 => "invalid field argument",
    E306 => "invalid pattern",
    E307 => "invalid value for field type",
    E308 => "invalid transformer use",
    E309 => "incompatible field comparison",
    E310 => "unsupported exception comparison",
    E311 => "list used where a single value is expected",
    E312 => "too large after expansion",
    E401 => "unknown field in output",
    E402 => "invalid output template",
    W101 => "rules for another event source skipped",
    W102 => "unused macro",
    W103 => "unused list",
    W104 => "unknown key",
    W105 => "unknown top-level item",
    W106 => "deprecated",
    W107 => "invalid name",
    W108 => "unsafe <NA> comparison",
    W109 => "field name used as a string value",
    W110 => "duplicate exception name",
    W111 => "exception appended without values",
    W112 => "rule skipped: unknown field",
    W113 => "string operator on a list-valued field",
}

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Loading failed.
    Error,
    /// Loading succeeded, but something deserves a look.
    Warning,
}

impl Code {
    /// Warnings are the `W` codes; everything else is an error.
    #[must_use]
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

/// One problem found while loading rules.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is wrong, if it has a place in a file.
    pub span: Option<Span>,
    /// A short label shown under the caret.
    pub label: Option<String>,
    /// Further places, each with its own label.
    pub secondary: Vec<(Span, String)>,
    /// Where the place sits, outermost last: "in macro `m`", "used by rule `R`".
    pub context: Vec<String>,
    /// How to fix it, e.g. "did you mean `ka.user.name`?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a code and message and nothing else.
    #[must_use]
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span: None,
            label: None,
            secondary: Vec::new(),
            context: Vec::new(),
            help: None,
        }
    }

    /// Sets the primary place.
    #[must_use]
    pub fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    /// Sets the label under the caret.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a secondary place.
    #[must_use]
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    /// Adds one step of context ("in rule `R`").
    #[must_use]
    pub fn context(mut self, step: impl Into<String>) -> Diagnostic {
        self.context.push(step.into());
        self
    }

    /// Sets the help line.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Error or warning, from the code.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    fn to_codespan(&self) -> cs::Diagnostic<crate::source::FileId> {
        let base = match self.severity() {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        };
        let mut labels = Vec::new();
        if let Some(span) = self.span {
            labels.push(
                cs::Label::primary(span.file, span.range())
                    .with_message(self.label.clone().unwrap_or_default()),
            );
        }
        for (span, message) in &self.secondary {
            labels.push(cs::Label::secondary(span.file, span.range()).with_message(message));
        }
        let mut notes = Vec::new();
        if !self.context.is_empty() {
            notes.push(self.context.join(", "));
        }
        if let Some(help) = &self.help {
            notes.push(format!("help: {help}"));
        }
        base.with_code(self.code.as_str())
            .with_message(&self.message)
            .with_labels(labels)
            .with_notes(notes)
    }

    /// Renders for a terminal, without colour.
    #[must_use]
    pub fn render(&self, sources: &Sources) -> String {
        let config = term::Config::default();
        let mut out = String::new();
        if term::emit_to_string(&mut out, &config, sources, &self.to_codespan()).is_err() {
            let _ = writeln!(
                out,
                "{}[{}]: {}",
                self.severity_word(),
                self.code.as_str(),
                self.message
            );
        }
        out
    }

    /// Renders for a terminal, with colour when `color` says so.
    pub fn render_to(
        &self,
        sources: &Sources,
        writer: &mut dyn term::WriteStyle,
    ) -> Result<(), codespan_reporting::files::Error> {
        term::emit_to_write_style(
            writer,
            &term::Config::default(),
            sources,
            &self.to_codespan(),
        )
    }

    fn severity_word(&self) -> &'static str {
        match self.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The diagnostic as a JSON value: severity, code, message, location
    /// (file, 1-based line and column, byte offsets), context, help.
    #[must_use]
    pub fn to_json(&self, sources: &Sources) -> serde_json::Value {
        let location = self.span.map(|span| {
            let file = sources.get(span.file);
            let start = file.line_col(span.start as usize);
            let end = file.line_col(span.end as usize);
            serde_json::json!({
                "file": file.name,
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
                "offset": span.start,
                "end_offset": span.end,
            })
        });
        serde_json::json!({
            "severity": self.severity(),
            "code": self.code.as_str(),
            "title": self.code.title(),
            "message": self.message,
            "location": location,
            "label": self.label,
            "context": self.context,
            "help": self.help,
        })
    }

    /// One line: `file:line:col: error[E301]: message`.
    #[must_use]
    pub fn short(&self, sources: &Sources) -> String {
        let place = self.span.map_or_else(String::new, |span| {
            let file = sources.get(span.file);
            let at = file.line_col(span.start as usize);
            format!("{}:{}:{}: ", file.name, at.line, at.column)
        });
        format!(
            "{place}{}[{}]: {}",
            self.severity_word(),
            self.code.as_str(),
            self.message
        )
    }
}

/// All diagnostics of one load, in the order they were found.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Every diagnostic, in order.
    #[must_use]
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Whether any diagnostic is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity() == Severity::Error)
    }

    /// Number of errors.
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count()
    }

    /// Number of warnings.
    #[must_use]
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Sorts by file and position, keeping the order of equal positions.
    pub fn sort(&mut self) {
        self.items
            .sort_by_key(|d| d.span.map_or((u32::MAX, 0), |s| (s.file.0, s.start)));
    }
}

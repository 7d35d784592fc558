//! The field reference for users (`docs/fields.md`), rendered from the catalog so that it
//! cannot drift from what the code does. A test compares it with the checked-in file.

use std::fmt::Write as _;

use crate::catalog::{ArgKind, FieldDef, FieldType, fields};

/// The Markdown field reference: one table row per catalog field.
#[must_use]
pub fn fields_markdown() -> String {
    let mut out = String::from(
        "# Fields\n\n\
         <!-- Generated from the catalog in crates/lanner-audit; do not edit by hand.\n     \
         Regenerate with: LANNER_BLESS=1 cargo test -p lanner-audit -->\n\n\
         Every field a `source: k8s_audit` rule can use. All `ka.*`, `json.*` and `jevt.*`\n\
         fields are text, numbers and booleans included (`ka.response.code` is `\"201\"`).\n\
         A field whose data is missing is *not available*: every comparison on it is false\n\
         and outputs print `<NA>`. List fields allow only `in`, `intersects` and `exists`;\n\
         an empty list is not available. Every `ka.*` field is unavailable on an event\n\
         without `auditID`. Differences from Falco are listed in\n\
         [compatibility.md](compatibility.md#fields).\n\n\
         Arguments: `[N]` is an optional index selecting element N of the arrays marked\n\
         `[*]`; `[key]` and `[/pointer]` are required.\n\n\
         | Field | Type | List | Argument | Reads | Description |\n\
         |---|---|---|---|---|---|\n",
    );
    for f in fields() {
        row(&mut out, f);
    }
    out
}

fn row(out: &mut String, f: &FieldDef) {
    let ty = match f.ty {
        FieldType::String => "string",
        FieldType::Uint64 => "uint64",
        FieldType::AbsTime => "abstime",
        FieldType::Bool => "bool",
    };
    let arg = match f.arg {
        ArgKind::None => "",
        ArgKind::Index => "`[N]` optional",
        ArgKind::Key => "`[key]` required",
        ArgKind::JsonPointer => "`[/pointer]` required",
    };
    let list = if f.list { "yes" } else { "" };
    let deprecated = if f.deprecated && !f.desc.starts_with("Deprecated") {
        " (deprecated)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "| `{}` | {ty} | {list} | {arg} | {} | {}{deprecated} |",
        f.name,
        cell(f.reads),
        cell(f.desc).replace('*', "\\*"),
    );
}

/// Table-safe text: pipes escaped, pointers in code spans.
fn cell(text: &str) -> String {
    let text = text.replace('|', "\\|");
    if text.starts_with('/') {
        // Code-format each pointer of a "a, else b" list.
        text.split(", else ")
            .map(|part| match part.split_once(" (") {
                Some((ptr, rest)) if ptr.starts_with('/') => format!("`{ptr}` ({rest}"),
                _ if part.starts_with('/') => format!("`{part}`"),
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", else ")
    } else {
        text
    }
}

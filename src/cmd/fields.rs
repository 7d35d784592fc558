//! `lanner fields`: the field catalog.

use std::io::Write as _;
use std::process::ExitCode;

use lanner_audit::{ArgKind, fields};

use crate::cli::Format;

pub fn run(format: Format) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let items: Vec<_> = fields()
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "name": f.name,
                        "type": format!("{:?}", f.ty).to_lowercase(),
                        "list": f.list,
                        "arg": arg_name(f.arg),
                        "desc": f.desc,
                        "reads": f.reads,
                        "deprecated": f.deprecated,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &items)?;
            writeln!(out)?;
        }
        Format::Text => {
            for f in fields() {
                let arg = match f.arg {
                    ArgKind::None => "",
                    ArgKind::Index => "[N]",
                    ArgKind::Key => "[key]",
                    ArgKind::JsonPointer => "[/json/pointer]",
                };
                let list = if f.list { " (list)" } else { "" };
                writeln!(out, "{}{arg}{list}\n    {}", f.name, f.desc)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn arg_name(arg: ArgKind) -> Option<&'static str> {
    match arg {
        ArgKind::None => None,
        ArgKind::Index => Some("index"),
        ArgKind::Key => Some("key"),
        ArgKind::JsonPointer => Some("json_pointer"),
    }
}

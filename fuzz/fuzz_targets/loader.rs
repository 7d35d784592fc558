//! The rules loader: any text is read as a rules file, compiled, and every
//! diagnostic rendered (text and JSON), which maps spans back through YAML
//! scalars and condition texts. Nothing may panic.

#![no_main]

use std::sync::Once;

use lanner_rules::Loader;
use libfuzzer_sys::fuzz_target;

static HOOK: Once = Once::new();

/// libfuzzer-sys aborts on every panic, even one that is caught. The YAML
/// parser (libyaml-safer 0.3) panics on some malformed input
/// (simonask/libyaml-safer#6, #7); Lanner catches those and reports E101,
/// so let them unwind. Any other panic is a crash.
fn let_yaml_panics_unwind() {
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info
                .location()
                .is_some_and(|l| l.file().contains("libyaml-safer"))
            {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_yaml_panics_unwind();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut loader = Loader::new();
    loader.add_source("fuzz.yaml", text);
    let loaded = loader.finish();
    for d in loaded.diagnostics.items() {
        let _ = d.render(&loaded.sources);
        let _ = d.to_json(&loaded.sources);
        let _ = d.short(&loaded.sources);
    }
});

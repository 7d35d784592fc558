#!/usr/bin/env bash
# Reference points: serde_json, simd-json and sonic-rs reading the benchmark corpus, next to
# Lanner's decoder and a full `lanner run --workers 1`, rounds interleaved, so that
# Lanner's throughput can be read as a multiple of "a plain serde_json parse" (the yardstick
# of issue #6) on whatever machine this runs on.
#
# Usage: scripts/json-baselines.sh CORPUS [ROUNDS]
#   CORPUS: a JSON-lines audit log (scripts/bench-run.sh generates one); ROUNDS default 5.
#   RULES=PATH as for scripts/bench-run.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="$1"
rounds="${2:-5}"
rules="${RULES:-$("$root/scripts/default-rules.sh")}"
cargo build --quiet --release --manifest-path "$root/Cargo.toml"
cargo build --quiet --release --manifest-path "$root/benches/json-baselines/Cargo.toml"
"$root/benches/json-baselines/target/release/json-baselines" "$corpus" "$rounds" \
    "$root/target/release/lanner" "$rules"

#!/usr/bin/env bash
# End-to-end throughput of `lanner run --format json` over a large generated corpus.
#
# Builds release, generates (or reuses) a ~200 MB corpus with lanner-corpus, runs
#   lanner run --format json -r RULES CORPUS > /dev/null
# under /usr/bin/time -v (or bash `time`, with peak RSS read from /proc), and prints
# events/s, MB/s and peak RSS.
#
# Usage: scripts/bench-run.sh [extra `lanner run` options, e.g. --workers 1]
# Environment:
#   EVENTS=200000      events in the corpus (about 1 KB each)
#   SEED=1             corpus seed
#   RISKY_RATE=0.01    share of risky requests
#   MATCH_HEAVY=1      make most requests risky (overrides RISKY_RATE)
#   CORPUS_DIR=DIR     where corpora are kept for reuse (default: $TMPDIR/lanner-bench)
#   RULES=PATH         rules file or directory (default: Falco's k8s_audit_rules.yaml
#                      from ../shared/falco, else Lanner's rules/)
#   SKIP_BUILD=1       use the binaries in target/release as they are
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

events="${EVENTS:-200000}"
seed="${SEED:-1}"
risky="${RISKY_RATE:-0.01}"
corpus_dir="${CORPUS_DIR:-${TMPDIR:-/tmp}/lanner-bench}"

rules="${RULES:-$("$root/scripts/default-rules.sh")}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    echo "bench-run: building release binaries" >&2
    cargo build --release --quiet -p lanner -p lanner-corpus --bins
fi
lanner="$root/target/release/lanner"
generator="$root/target/release/lanner-corpus"

# The corpus depends on the generator's sources: name it after them, reuse it if present.
mode_args=(--risky-rate "$risky")
mode="r$risky"
if [[ -n "${MATCH_HEAVY:-}" ]]; then
    mode_args=(--match-heavy)
    mode="match-heavy"
fi
source_hash="$(cat crates/lanner-corpus/src/*.rs | sha256sum | cut -c1-12)"
mkdir -p "$corpus_dir"
corpus="$corpus_dir/corpus-$events-seed$seed-$mode-$source_hash.json"
if [[ -s "$corpus" ]]; then
    echo "bench-run: reusing $corpus" >&2
else
    echo "bench-run: generating $corpus" >&2
    "$generator" --events "$events" --seed "$seed" "${mode_args[@]}" -o "$corpus.tmp"
    mv "$corpus.tmp" "$corpus"
fi
bytes="$(stat -c %s "$corpus")"
lines="$(wc -l < "$corpus")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmd=("$lanner" run --format json -r "$rules" "$@" "$corpus")
echo "bench-run: ${cmd[*]} > /dev/null" >&2

if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$work/time" "${cmd[@]}" > /dev/null 2> "$work/stderr"
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:03.21"
    wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time")"
    rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")"
    user="$(awk -F': ' '/User time/ {print $2}' "$work/time")"
    sys="$(awk -F': ' '/System time/ {print $2}' "$work/time")"
else
    echo "bench-run: /usr/bin/time is missing: timing with bash, peak RSS from /proc" >&2
    rss_kb=0
    start="$(date +%s.%N)"
    "${cmd[@]}" > /dev/null 2> "$work/stderr" &
    pid=$!
    # VmHWM is the peak RSS so far: the last reading before exit is close to the peak.
    while kill -0 "$pid" 2> /dev/null; do
        hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2> /dev/null || true)"
        [[ -n "$hwm" && "$hwm" -gt "$rss_kb" ]] && rss_kb="$hwm"
        sleep 0.05
    done
    wait "$pid"
    wall="$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')"
    user="?"
    sys="?"
fi

cat "$work/stderr" >&2
awk -v ev="$lines" -v b="$bytes" -v w="$wall" -v rss="$rss_kb" -v u="$user" -v s="$sys" 'BEGIN {
    printf "corpus:    %d events, %.1f MB (%.0f B/event)\n", ev, b / 1e6, b / ev
    printf "wall:      %.2f s (user %s s, sys %s s)\n", w, u, s
    printf "events/s:  %.0f\n", ev / w
    printf "MB/s:      %.1f\n", b / 1e6 / w
    printf "peak RSS:  %.1f MB\n", rss / 1024
}'

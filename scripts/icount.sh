#!/usr/bin/env bash
# Instructions executed by `lanner run --format json --workers 1` over a corpus, counted by
# valgrind's cachegrind: a measure that does not move with the machine's load, for comparing
# two builds of the same change (wall time on a shared machine moves by +-30%).
#
# Usage: scripts/icount.sh LANNER_BINARY CORPUS [RULES]
#   RULES defaults to Falco's k8s_audit_rules.yaml from ../shared/falco, else Lanner's rules/.
# Prints the total and the instructions per event after subtracting a one-event run (rule
# loading and start-up). Keep the corpus small (20,000 events take about 30 s under valgrind).
# Needs valgrind (`apt-get install valgrind`).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 LANNER_BINARY CORPUS [RULES]" >&2
    exit 2
fi
bin="$1"
corpus="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rules="${3:-$("$root/scripts/default-rules.sh")}"
command -v valgrind > /dev/null || { echo "icount: valgrind is not installed" >&2; exit 1; }

count() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$bin" run --format json --workers 1 -q -r "$rules" "$1" 2>&1 > /dev/null \
        | sed -n 's/.*I *refs: *//p' | tr -d ,
}

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
head -n 1 "$corpus" > "$tmp"
base="$(count "$tmp")"
total="$(count "$corpus")"
events="$(wc -l < "$corpus")"
echo "instructions: $total total, $base start-up, $(( (total - base) / events )) per event over $events events"

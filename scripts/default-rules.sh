#!/usr/bin/env bash
# Prints the rules the measurement scripts use by default: Falco's k8s_audit_rules.yaml from
# ../shared/falco when it is there (the issue's setting), else Lanner's own rules/ (with a
# note on stderr). Used as `rules="${RULES:-$("$root/scripts/default-rules.sh")}"`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
falco="$root/../shared/falco/rules/k8s_audit_rules.yaml"
if [[ -f "$falco" ]]; then
    echo "$falco"
else
    echo "$(basename "$0"): $falco is absent: using Lanner's rules/" >&2
    echo "$root/rules"
fi

#!/usr/bin/env bash
# Every pixmeans command on one photo, with one or more builds taking turns
# (so that a busy machine slows them alike), as whole processes.
#
#   bench/compare/commands.sh ROUNDS PHOTO BINARY...
#
# Prints one line per run: command, build (the binary's path), wall seconds,
# user CPU seconds and peak RSS in kB (GNU time), then per command and build
# the range and median of the wall times. Outputs go to a temporary folder.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
rounds=$1 photo=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
commands=(
  "quantize-16|quantize $photo -k 16 -o $out/q.png -f"
  "quantize-256|quantize $photo -k 256 -o $out/q.png -f"
  "quantize-auto|quantize $photo -k auto -o $out/q.png -f"
  "quantize-de2|quantize $photo -k auto --max-delta-e 2 -o $out/q.png -f"
  "palette|palette $photo -k 8"
  "scatter|scatter $photo -k 8 -o $out/s.png -f"
  "elbow|elbow $photo -o $out/e.png -f"
  "grid|grid $photo -o $out/g.png -f"
  "segment-8|segment $photo -k 8 -o $out/seg -f"
)
for _ in $(seq "$rounds"); do
  for bin in "$@"; do
    for c in "${commands[@]}"; do
      # shellcheck disable=SC2086 # the arguments are split on purpose
      /usr/bin/time -f "${c%%|*} $bin %e %U %M" "$bin" ${c#*|} >/dev/null 2>"$out/err" ||
        { echo "failed: ${c#*|} ($bin)" >&2; cat "$out/err" >&2; exit 1; }
      tail -n 1 "$out/err"
    done
  done
done | tee "$out/runs"
echo
echo "command build: wall seconds, min-max (median)"
sort -k1,1 -k2,2 -k3,3n "$out/runs" | awk '
  { key = $1 " " $2; n[key]++; t[key, n[key]] = $3; if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
  END { for (i = 1; i <= k; i++) { key = order[i]; m = n[key];
        printf "%s: %.2f-%.2f (%.2f)\n", key, t[key, 1], t[key, m], t[key, int((m + 1) / 2)] } }'

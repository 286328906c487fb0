#!/usr/bin/env bash
# Builds what the comparison needs, then runs compare.py with the arguments
# given, e.g.:
#   bench/compare/run.sh --images ../shared/images/coffee.png --ks 16,64 --runs 1
#
# Environment:
#   PYTHON            interpreter for the venv (default: python3.11, else python3)
#   PEERS_TARGET_DIR  cargo target dir for the peers (default: bench/compare/peers/target)
#   SKIP_BUILD=1      use the binaries already built
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

python="${PYTHON:-}"
if [ -z "$python" ]; then
    if command -v python3.11 >/dev/null 2>&1; then python=python3.11; else python=python3; fi
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "run.sh: creating $venv with $python" >&2
    "$python" -m venv "$venv"
fi
# Install (again) only when requirements.txt changed.
stamp="$venv/.requirements.txt"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
    echo "run.sh: installing requirements" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

peers_target="${PEERS_TARGET_DIR:-$here/peers/target}"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "run.sh: building pixmeans (release)" >&2
    (cd "$repo" && cargo build --release --quiet)
    echo "run.sh: building the peers (release, $peers_target)" >&2
    CARGO_TARGET_DIR="$peers_target" cargo build --release --quiet --locked \
        --manifest-path "$here/peers/Cargo.toml"
fi

export PEERS_BIN="$peers_target/release/peers"
exec "$venv/bin/python" "$here/compare.py" --pixmeans "$repo/target/release/pixmeans" "$@"

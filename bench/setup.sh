#!/usr/bin/env bash
# Build the benchmark environments (idempotent: a venv whose pinned set is unchanged is kept).
#
#   bench/.venv             Python 3.11: offerlab (editable, from the repo root) + xlogit.
#                           Runs the bench scripts and offerlab's side.
#   bench/.venv-biogeme     Python 3.11: biogeme 3.3.2, the newest biogeme for Python 3.11.
#   bench/.venv-choicedesign Python 3.11: choicedesign 0.1.6, the newest for Python 3.11
#                           (it pins numpy<2, pandas<2 and pulls biogeme 3.2.13).
#   bench/.venv-hb          Python 3.11: the Python hierarchical-Bayes peers for bench_hb.py,
#                           NumPyro (JAX, NUTS) and PyMC (PyTensor, NUTS); ArviZ comes with PyMC.
#   bench/.venv-maxdiff     Python 3.11: the PyPI package maxdiff (MaxDiff HB by NumPyro NUTS)
#                           for bench_maxdiff.py; it needs pandas < 3, so not in .venv-hb.
#   bench/.venv-py312       Python 3.12, only if a python3.12 is found: choicedesign 1.1.0
#                           (the version DESIGN_BOUNDS.md measured) and biogeme 3.3.5, the
#                           newest releases, both Python >= 3.12 only.
#
# The peers cannot share one venv with offerlab: offerlab needs numpy>=2.4 and pandas>=3,
# biogeme 3.3.x needs pandas<3, choicedesign 0.1.6 needs numpy<2 and pandas<2. Every peer
# runs in its own subprocess anyway (that is how peak memory is measured), so each gets the
# interpreter it supports. See bench/README.md.
#
# Usage: bash bench/setup.sh          (PYTHON=python3.11 PYTHON312=python3.12 to override)
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"

# Versions verified on this machine (see README: why these and not the newest on PyPI).
BIOGEME_PY311=3.3.2
CHOICEDESIGN_PY311=0.1.6
CHOICEDESIGN_PY312=1.1.0
BIOGEME_PY312=3.3.5
XLOGIT=0.2.7
THREADPOOLCTL=3.8.0
# Hierarchical Bayes peers (bench_hb.py). `partworth` is not on this machine's index;
# these are the newest releases pip resolves for Python 3.11 here.
NUMPYRO=0.22.0
JAX=0.10.2
PYMC=5.28.5
MAXDIFF=3.0.3

PY311="${PYTHON:-python3}"
if ! "$PY311" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "setup.sh: $PY311 is not Python 3.11 ($("$PY311" --version 2>&1)); set PYTHON=" >&2
    exit 1
fi

find_py312() {
    local root p
    root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    for p in ${PYTHON312:-} "$root"/versions/3.12*/bin/python3.12 python3.12; do
        # (a pyenv shim on PATH may exist yet fail: run each candidate to be sure)
        if "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

# make_venv DIR PYTHON STAMP PIP-ARGS...: (re)create DIR unless its stamp matches, then install.
make_venv() {
    local dir="$1" py="$2" stamp="$3"
    shift 3
    if [ -x "$dir/bin/python" ] && [ -f "$dir/.bench-stamp" ] \
        && [ "$(cat "$dir/.bench-stamp")" = "$stamp" ] && "$dir/bin/python" -c 'pass' 2>/dev/null; then
        echo "== $(basename "$dir"): up to date"
        return
    fi
    echo "== $(basename "$dir"): creating with $("$py" --version 2>&1)"
    "$py" -m venv --clear "$dir"
    # (this machine's pip config names local indexes that may be absent: drop those warnings)
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
        | { grep -v "is neither a file nor a directory" || true; }
    echo "$stamp" >"$dir/.bench-stamp"
}

# 1. Driver: offerlab + xlogit (xlogit needs only numpy and scipy, so it shares offerlab's
#    numpy/OpenBLAS: the fairest footing for the two numpy implementations).
pyproject_sum="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
make_venv "$BENCH/.venv" "$PY311" "offerlab@$pyproject_sum xlogit==$XLOGIT threadpoolctl==$THREADPOOLCTL" \
    -e "$ROOT" "xlogit==$XLOGIT" "threadpoolctl==$THREADPOOLCTL"
NUMPY="$("$BENCH/.venv/bin/python" -c 'import numpy; print(numpy.__version__)')"

# 2. biogeme (JAX backend since 3.3), with the driver's numpy so both link the same OpenBLAS.
#    tomlkit < 0.15: with 0.15, biogeme 3.3.2 fails writing its default biogeme.toml
#    ("Comment cannot contain line breaks"); biogeme 3.3.5 (Python >= 3.12) asks for 0.15.
make_venv "$BENCH/.venv-biogeme" "$PY311" "biogeme==$BIOGEME_PY311 numpy==$NUMPY tomlkit==0.14.0" \
    "biogeme==$BIOGEME_PY311" "numpy==$NUMPY" "tomlkit==0.14.0" "threadpoolctl==$THREADPOOLCTL"

# 3. choicedesign for Python 3.11 (computes D-error through biogeme 3.2.13's C++ core).
make_venv "$BENCH/.venv-choicedesign" "$PY311" "choicedesign==$CHOICEDESIGN_PY311 biogeme==3.2.13" \
    "choicedesign==$CHOICEDESIGN_PY311" "biogeme==3.2.13" "numpy==1.26.4" "pandas==1.5.3" \
    "threadpoolctl==$THREADPOOLCTL"

# 4. Hierarchical Bayes peers: NumPyro (JAX) and PyMC, with the driver's numpy.
make_venv "$BENCH/.venv-hb" "$PY311" "numpyro==$NUMPYRO jax==$JAX pymc==$PYMC numpy==$NUMPY" \
    "numpyro==$NUMPYRO" "jax==$JAX" "jaxlib==$JAX" "pymc==$PYMC" "numpy==$NUMPY" \
    "threadpoolctl==$THREADPOOLCTL"

# 5. The PyPI MaxDiff package's HB (NumPyro NUTS), with the driver's numpy and the same JAX.
make_venv "$BENCH/.venv-maxdiff" "$PY311" "maxdiff==$MAXDIFF numpyro==$NUMPYRO jax==$JAX numpy==$NUMPY" \
    "maxdiff[hb]==$MAXDIFF" "numpyro==$NUMPYRO" "jax==$JAX" "jaxlib==$JAX" "numpy==$NUMPY" \
    "pandas<3" "threadpoolctl==$THREADPOOLCTL"

# 6. The newest peers need Python >= 3.12: built only where a python3.12 exists.
#    biogeme 3.3.5 also fixes 3.3.2's per-observation Python loop in the BHHH matrix
#    computed after every estimation, which makes 3.3.2 crawl on large data.
PY312="$(find_py312 || true)"
if [ -n "$PY312" ]; then
    make_venv "$BENCH/.venv-py312" "$PY312" \
        "choicedesign==$CHOICEDESIGN_PY312 biogeme==$BIOGEME_PY312 numpy==$NUMPY" \
        "choicedesign==$CHOICEDESIGN_PY312" "biogeme==$BIOGEME_PY312" "numpy==$NUMPY" \
        "threadpoolctl==$THREADPOOLCTL"
else
    echo "== .venv-py312: skipped (no python3.12 found; set PYTHON312=): choicedesign 1.1.0 not benched"
fi

echo "== installed:"
for v in .venv .venv-biogeme .venv-choicedesign .venv-hb .venv-maxdiff .venv-py312; do
    [ -x "$BENCH/$v/bin/python" ] || continue
    printf '  %-20s %s: ' "$v" "$("$BENCH/$v/bin/python" --version 2>&1)"
    "$BENCH/$v/bin/python" - <<'EOF'
from importlib.metadata import PackageNotFoundError, version
out = []
for name in ("offerlab", "xlogit", "biogeme", "choicedesign", "numpyro", "pymc", "maxdiff", "numpy", "pandas",
             "scipy", "jax"):
    try:
        out.append(f"{name} {version(name)}")
    except PackageNotFoundError:
        pass
print(", ".join(out))
EOF
done

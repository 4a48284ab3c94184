"""Market simulator: 1,000,000 respondent-draws × 10 offers, share of preference and RFC.

The bar (issue 5): under 1 s on 2 cores. offerlab's kernel (offerlab.decide.grouped_shares:
chunks of 65,536 rows on a pool of threads; numpy releases the GIL in the matrix product,
exp and the random draws) runs against a plain numpy one-liner on the whole array (the
obvious implementation, one thread of exp, a 1,000,000 × 10 temporary per step) so the
ratio shows what the chunking and threads buy. Both see the same B (1e6 × 20 coded
coefficients: HB-like draws), X (10 offers × 20 columns) and weights; the shares agree
to 1e-12 (checked before timing). Times are the best of ``--repeat`` runs, in-process
(no peer to isolate), with the load average printed: the machine is shared.

RFC here: attribute error σ_a = 0.5 on every level (each distinct value of a column is a
level here, ≤ 60 levels: 6e7 Gumbel draws), shared by the offers with that level, and
product error σ_p = 0.5, integrated out analytically (see grouped_shares).

Run:  .venv/bin/python bench/bench_simulator.py [--rows 1000000] [--offers 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from offerlab.decide._kernels import EULER_GAMMA, grouped_shares, level_ids, level_matrix


def naive_logit(B: np.ndarray, w: np.ndarray, X: np.ndarray) -> np.ndarray:
    V = B @ X.T
    V -= V.max(axis=1, keepdims=True)
    E = np.exp(V)
    return w @ (E / E.sum(axis=1, keepdims=True))


def naive_rfc(B: np.ndarray, w: np.ndarray, X: np.ndarray, sa: float, sp: float, seed: int):
    rng = np.random.default_rng(seed)
    Z = level_matrix(level_ids(X, None)).astype(float)  # (J, L) levels of each offer
    E = sa * (rng.gumbel(size=(B.shape[0], Z.shape[1])) - EULER_GAMMA)
    V = (B @ X.T + E @ Z.T) / sp
    V -= V.max(axis=1, keepdims=True)
    P = np.exp(V)
    return w @ (P / P.sum(axis=1, keepdims=True))


def best_of(fn, repeat: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--offers", type=int, default=10)
    ap.add_argument("--columns", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rng = np.random.default_rng(20261128)
    B = rng.normal(0.0, 1.0, size=(args.rows, args.columns))
    X = rng.choice([-1.0, 0.0, 1.0], size=(args.offers, args.columns))
    w = np.full(args.rows, 1.0 / args.rows)
    th = args.threads

    ours = grouped_shares(B, w, X, threads=th)[0]
    assert np.abs(ours - naive_logit(B, w, X)).max() < 1e-12
    assert abs(ours.sum() - 1) < 1e-12

    cases = [
        ("share of preference", lambda: grouped_shares(B, w, X, threads=th),
         lambda: naive_logit(B, w, X)),
        ("first choice", lambda: grouped_shares(B, w, X, rule="first_choice", threads=th), None),
        ("randomized first choice",
         lambda: grouped_shares(B, w, X, rule="rfc", attribute_error=0.5, product_error=0.5,
                                seed=1, threads=th),
         lambda: naive_rfc(B, w, X, 0.5, 0.5, 1)),
    ]  # fmt: skip
    print(
        f"{args.rows:,} respondent-draws × {args.offers} offers × {args.columns} columns, "
        f"{th} threads, {os.cpu_count()} CPUs, load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(f"{'rule':<26}{'offerlab (s)':>14}{'naive numpy (s)':>17}{'ratio':>8}{'bar 1 s':>9}")
    for name, fast, naive in cases:
        t_fast, shares = best_of(fast, args.repeat)
        assert abs(shares.sum() - 1) < 1e-12
        if naive is not None:
            t_naive, _ = best_of(naive, max(1, args.repeat // 2))
            ratio = f"{t_naive / t_fast:7.1f}x"
            naive_s = f"{t_naive:17.3f}"
        else:
            ratio, naive_s = f"{'—':>8}", f"{'—':>17}"
        ok = "ok" if t_fast < 1.0 else "MISSED"
        print(f"{name:<26}{t_fast:14.3f}{naive_s}{ratio}{ok:>9}")
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

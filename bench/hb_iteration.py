"""One HB chain's iteration on the MaxDiff bench: the design's likelihood against the items'.

The MaxDiff bench's problem (``bench_maxdiff.make_problem``: 1,000 respondents × 12 tasks
× 5 of 20 items), one chain in this process with the library's default moves (the
respondents' HMC, 4 leapfrog steps; the shift's HMC, 2; the interweaving move, 6), run
once with ``item_likelihood=False`` (the utilities of every alternative and stage) and
once with the items' exp(±β) (``numerics/_hb_items.py``), alternating ``--rounds`` times.
Printed per side: milliseconds an iteration (median of the rounds), of which the
likelihood-and-gradient evaluations, and their number an iteration.

Run:  PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python bench/hb_iteration.py [--iterations 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def chain_for(layout, item_likelihood: bool):
    from offerlab.numerics import HBChain, HBChainSetup, HBPrior, HBSettings, respondent_information

    R, _, _, K = layout.Xd.shape
    settings = HBSettings(
        burn_in=1, draws=1, interweave=True, individual_leapfrog=4, shift_leapfrog=2,
        item_likelihood=item_likelihood,
    )  # fmt: skip
    info = respondent_information(np.zeros(K), layout)
    setup = HBChainSetup(layout, HBPrior(np.eye(K), K + 5.0), settings, info, None)
    return HBChain(setup, np.zeros((R, K)), np.zeros(K), np.random.default_rng(1))


def timed_iterations(chain, n: int) -> tuple[float, float, float]:
    """(ms an iteration, of which in the likelihood, evaluations an iteration)."""
    spent, calls = [0.0], [0]
    evaluate = chain._loglike_gradient

    def counted(theta, V):
        t = time.perf_counter()
        out = evaluate(theta, V)
        spent[0] += time.perf_counter() - t
        calls[0] += 1
        return out

    chain._loglike_gradient = counted
    t = time.perf_counter()
    chain.burn(n)
    total = time.perf_counter() - t
    chain._loglike_gradient = evaluate
    return 1e3 * total / n, 1e3 * spent[0] / n, calls[0] / n


def main() -> None:
    import bench_maxdiff

    from offerlab.models._maxdiff import _stacked_choices
    from offerlab.numerics import hb_layout

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "problem.npz"
        bench_maxdiff.make_problem(path, 1000)
        problem = bench_maxdiff.load(str(path))
    layout = hb_layout(*_stacked_choices(bench_maxdiff._answers(problem)))
    sides = {"design's likelihood": False, "items' likelihood": True}
    chains = {name: chain_for(layout, items) for name, items in sides.items()}
    for chain in chains.values():
        chain.burn(50)  # past the first adaptation steps
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, chain in chains.items():
            results[name].append(timed_iterations(chain, args.iterations))
    print(f"{'side':<22} {'ms/iteration':>13} {'likelihood ms':>14} {'evaluations':>12}")
    medians = {}
    for name, rows in results.items():
        per_it, like, calls = np.median(np.array(rows), axis=0)
        medians[name] = per_it
        print(f"{name:<22} {per_it:13.2f} {like:14.2f} {calls:12.1f}")
    ratio = medians["design's likelihood"] / medians["items' likelihood"]
    print(f"ratio (design / items): {ratio:.2f}")


if __name__ == "__main__":
    main()

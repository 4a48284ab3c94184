"""Draws until the demo's hierarchical Bayes converges, on the demo's own answers.

Simulates the demo's answers (``offerlab demo --no-decide --respondents N --seed S``
into a temporary folder), fits ``demo_model(S)`` as the demo does, with the interweaving
move's coordinates and the draw cap optionally changed, and prints one JSON line: draws
per chain at the stop, why it stopped, CPU seconds of this process and its chain
processes, worst R-hat and bulk ESS over the population, and the bulk/tail ESS of the
three population variances that mixed worst.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python bench/demo_hb_stop.py SEED \
        [--respondents 500] [--coordinates row-ratios|entries] [--max-draws N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_seconds_with_children

from offerlab.cli.demo import demo_model
from offerlab.cli.main import app
from offerlab.data import ChoiceData
from offerlab.study import example_path, load_study


def demo_answers(seed: int, respondents: int, folder: Path) -> Path:
    args = ["demo", "--no-decide", "--out", str(folder)]
    app([*args, "--respondents", str(respondents), "--seed", str(seed)], standalone_mode=False)
    return folder / "answers.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=int)
    parser.add_argument("--respondents", type=int, default=500)
    parser.add_argument("--coordinates", choices=("row-ratios", "entries"), default=None)
    parser.add_argument("--max-draws", type=int, default=None)
    args = parser.parse_args()
    study = load_study(example_path("car_subscription"))
    model = demo_model(args.seed)
    if args.coordinates is not None:
        model.interweave_coordinates = args.coordinates
    if args.max_draws is not None:
        model.max_draws = args.max_draws
    with tempfile.TemporaryDirectory() as folder:
        data = ChoiceData.read(demo_answers(args.seed, args.respondents, Path(folder)), study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hb = model.fit(data, study=study)
    cpu = cpu_seconds_with_children()
    conv = hb.convergence
    variances = [f"cov[{name},{name}]" for name in hb.names]
    worst = conv.loc[variances, "ess_bulk"].nsmallest(3).index
    print(json.dumps({
        "seed": args.seed, "respondents": args.respondents,
        "coordinates": model.interweave_coordinates, "stop": hb.stop.reason,
        "draws_per_chain": hb.stop.draws_per_chain,
        "cpu_s": round(cpu, 1),
        "max_rhat": round(float(conv["rhat"].max()), 4),
        "min_ess_bulk": round(float(conv["ess_bulk"].min())),
        "worst_variances_ess_bulk_tail": {
            entry: [round(float(conv.loc[entry, c])) for c in ("ess_bulk", "ess_tail")]
            for entry in worst
        },
    }))  # fmt: skip


if __name__ == "__main__":
    main()

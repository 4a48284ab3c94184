"""MaxDiff counts and the paired best–worst logit against a public analysis of real answers.

Source: GitHub repository pratheesh3780/BestWorstScalling (a best–worst survey of 150
farmers: questionnaire, data, R scripts and their printed outputs; no licence stated).
Answers ``smija.csv`` (commit 9049835a77dd6e793136cd2de5e4c2405840b366) and the design
``bibd.csv`` (12 questions of 6 of 9 items; commit eeaae923be7a437d944ea5c668439e289fdd687b)
are copied to ``tests/data/bws_smija_answers.csv`` and ``bws_smija_design.csv``; see
tests/data/README.md. The printed outputs compared here:

* ``countmethod.csv`` (commit 6431ea7d1234f92b5e8bf75a37b2f0cfd81642f1), written by
  ``summary(bws.count(...))`` of R support.BWS from ``bws3.R``, which reads each answer as
  the number of the item picked (``response.type = 2``);
* ``resultcoef.csv`` (commit d066ce80796609121984f46019dfcc5965f8579d), the coefficient
  table of ``survival::clogit`` on ``support.BWS3::bws3.dataset(model = "maxdiff")`` from
  ``smija.R`` (the paired best–worst model: the (best, worst) pair among all ordered pairs
  shown). That script reads each answer as the *position* of the item in the question, and
  answers are item numbers (up to 9 in questions of 6), so its clogit rests only on the 494
  questions whose two answers are distinct positions 1–6; the test rebuilds exactly those
  choices. It therefore checks the estimator against clogit on real choice data, not the
  survey's substantive result. The 9 items are the 9 profiles of an orthogonal array of
  four 3-level attributes (``oa_table.csv``); clogit's eight attribute dummies are a
  saturated recoding of the items, so its coefficients are a linear map of item utilities.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offerlab.exceptions import OfferlabError
from offerlab.models import MaxDiffLogit, maxdiff_answers, maxdiff_counts

DATA = Path(__file__).resolve().parents[1] / "data"
ITEMS = [str(k) for k in range(1, 10)]
TASKS = 12
#: how often each item appears in the design for one respondent (support.BWS's ``fitem``)
PER_PERSON = 8

#: countmethod.csv, as printed: B, W, BW, Rank, meanB, meanW, meanBW, mean.stdBW, sqrtBW,
#: std.sqrtBW (per item X1 … X9)
COUNTS = """
52,415,-363,9,0.346666666666667,2.76666666666667,-2.42,-0.3025,0.353979102235255,0.104451573900697
133,202,-69,6,0.886666666666667,1.34666666666667,-0.46,-0.0575,0.811428272605878,0.239434926090297
167,258,-91,7,1.11333333333333,1.72,-0.606666666666667,-0.0758333333333333,0.804541373519986,0.237402751184281
379,33,346,1,2.52666666666667,0.22,2.30666666666667,0.288333333333333,3.38893028621842,1
133,192,-59,5,0.886666666666667,1.28,-0.393333333333333,-0.0491666666666667,0.832291014809924,0.245591069900303
78,178,-100,8,0.52,1.18666666666667,-0.666666666666667,-0.0833333333333333,0.661968463894626,0.195332570453461
255,169,86,4,1.7,1.12666666666667,0.573333333333333,0.0716666666666667,1.22836303251318,0.362463352376558
262,143,119,3,1.74666666666667,0.953333333333333,0.793333333333333,0.0991666666666667,1.3535759425196,0.399410972844179
333,202,131,2,2.22,1.34666666666667,0.873333333333333,0.109166666666667,1.28394503444857,0.378864398500589
"""

#: resultcoef.csv, as printed: coef and se(coef) for high, medium (organic farming; base
#: less), less1, high1 (grafting; base medium1), high2, medium2 (landraces; base less2),
#: high3, medium3 (intercropping; base less3)
CLOGIT = {
    "high": ("0.148431066690001", "0.0815478916878793"),
    "medium": ("0.793006076477793", "0.0783817297821348"),
    "less1": ("-0.654294018590651", "0.0793908734071784"),
    "high1": ("-0.406591505906553", "0.0802140427915151"),
    "high2": ("0.421582315902121", "0.0810534717452321"),
    "medium2": ("1.05081367619404", "0.0845995830667817"),
    "high3": ("0.0765289335835761", "0.0783631975734126"),
    "medium3": ("0.414205891643285", "0.0813135541459155"),
}
#: oa_table.csv: the levels (1 less, 2 medium, 3 high) of the four attributes of items 1 … 9
PROFILES = np.array(
    [[1, 1, 1, 1], [1, 2, 3, 2], [1, 3, 2, 3], [2, 1, 3, 3], [2, 2, 2, 1],
     [2, 3, 1, 2], [3, 1, 2, 2], [3, 2, 1, 3], [3, 3, 3, 1]]
)  # fmt: skip


def _long_answers(read_as_position: bool) -> pd.DataFrame:
    """One row per item shown. ``read_as_position``: an answer k is the k-th item of the
    question (as smija.R's clogit reads it); else the item numbered k (as bws3.R's counts
    do). Questions whose answers name no two distinct items shown are left out, as
    support.BWS's data set leaves them without a chosen best–worst pair."""
    answers = pd.read_csv(DATA / "bws_smija_answers.csv")
    design = pd.read_csv(DATA / "bws_smija_design.csv").to_numpy()
    rows = []
    for person in answers.itertuples(index=False):
        for task in range(1, TASKS + 1):
            shown = design[task - 1]
            best, worst = getattr(person, f"B{task}"), getattr(person, f"W{task}")
            if read_as_position:
                valid = best != worst and max(best, worst) <= len(shown)
                best, worst = (shown[best - 1], shown[worst - 1]) if valid else (0, 0)
            if best == worst or best not in shown or worst not in shown:
                continue
            rows += [
                (person.id, task, str(item), int(item == best), int(item == worst))
                for item in shown
            ]
    return pd.DataFrame(rows, columns=["respondent", "task", "item", "best", "worst"])


def _assert_printed(value: float, printed: str) -> None:
    """``value`` equals the printed number to its printed precision: R writes 15
    significant digits (dropping trailing zeros), so half a unit in the 15th digit."""
    exact = Decimal(printed)
    digits = 15 - 1 - (exact.adjusted() if exact else 0)
    assert abs(Decimal(repr(float(value))) - exact) <= Decimal(5).scaleb(-digits - 1), (
        value,
        printed,
    )


def test_counts_reproduce_support_bws_on_the_farmer_survey() -> None:
    frame = _long_answers(read_as_position=False)
    # 8 of the 1,800 answered questions name an item that the question did not show
    assert frame.groupby(["respondent", "task"]).ngroups == 150 * TASKS - 8
    counts = maxdiff_counts(maxdiff_answers(frame, ITEMS))
    people = frame["respondent"].nunique()
    best, worst = counts["best"].to_numpy(), counts["worst"].to_numpy()
    bw = best - worst
    rank = pd.Series(-bw).rank(method="min").to_numpy()
    ours = np.column_stack(
        [best, worst, bw, rank, best / people, worst / people, bw / people,
         bw / (people * PER_PERSON), np.sqrt(best / worst), counts["sqrt_bw"]]
    )  # fmt: skip
    printed = [line.split(",") for line in COUNTS.split()]
    assert people == 150 and len(printed) == len(ITEMS)
    for row, texts in zip(ours, printed, strict=True):
        for value, text in zip(row, texts, strict=True):
            _assert_printed(value, text)


def test_paired_logit_reproduces_clogit_on_the_same_survey() -> None:
    answers = maxdiff_answers(_long_answers(read_as_position=True), ITEMS)
    assert len(answers.shown) == 494
    result = MaxDiffLogit(model="paired").fit(answers)
    # clogit's dummies (in the order of CLOGIT) plus a constant map the 9 item utilities
    # one to one: solve for the coefficients and carry the covariance along
    level = PROFILES.T
    coding = np.column_stack(
        [level[0] == 3, level[0] == 2, level[1] == 1, level[1] == 3,
         level[2] == 3, level[2] == 2, level[3] == 3, level[3] == 2, np.ones(9)]
    ).astype(float)  # fmt: skip
    back = np.linalg.inv(coding)
    coefficients = (back @ result.utilities)[:8]
    errors = np.sqrt(np.diag(back @ result.classic_covariance @ back.T))[:8]
    printed_coef = np.array([float(c) for c, _ in CLOGIT.values()])
    printed_se = np.array([float(s) for _, s in CLOGIT.values()])
    # survival's coxph stops when the log-likelihood changes by < 1e-9 (relative), so the
    # printed estimates are exact to about 10 decimals, the standard errors to 12
    assert coefficients == pytest.approx(printed_coef, rel=0, abs=1e-10)
    assert errors == pytest.approx(printed_se, rel=0, abs=1e-12)
    # the robust errors are the offerlab default; on these repeated answers they differ
    assert not np.allclose(result.std_errors, result.classic_std_errors)


def test_the_model_is_named_and_the_paired_form_takes_no_anchor() -> None:
    with pytest.raises(OfferlabError, match="sequential or paired"):
        MaxDiffLogit(model="maxdiff")
    frame = _long_answers(read_as_position=False)
    frame["anchor"] = "some"
    with pytest.raises(OfferlabError, match="no anchor"):
        MaxDiffLogit(model="paired").fit(maxdiff_answers(frame, ITEMS))

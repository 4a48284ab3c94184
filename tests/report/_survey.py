"""Simulated answers to the example survey's other questions, in the fielding export's form.

The choice tasks come from offerlab.simulate; the price questions and obstacles here are
made from the same respondents' true part-worths, so they tell a consistent story: each
respondent's reservation price for the compact offer the price questions describe is the
price at which its utility falls to the utility of "none".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The offer the price questions describe (see the study's price_sensitivity page).
PRICED = {
    "term": 12,
    "km_per_month": 1500,
    "car_class": "compact",
    "insurance": "included",
    "maintenance": "included",
    "delivery": "dealer",
    "notice_period": "monthly",
}
LADDER = (390, 490, 590, 690, 790)


def reservation_prices(truth: pd.DataFrame) -> pd.Series:
    """Price at which the priced offer is as good as none, per respondent."""
    u = np.zeros(len(truth))
    for attr, level in PRICED.items():
        col = f"{attr}={level}"
        u += truth[col] if col in truth.columns else truth[attr] * float(level)
    p = (u - truth["none"]) / -truth["monthly_price"]
    return pd.Series(np.clip(p, 150, 3000).to_numpy(), index=truth["respondent"].to_numpy())


def export_answers(truth: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Rows (respondent, page, item, value, seconds) as ``answers_table`` writes them."""
    rng = np.random.default_rng(seed)
    rows = []
    for rid, p in reservation_prices(truth).items():
        rid = int(rid)
        noise = rng.uniform(0.9, 1.1, 4)
        vw = np.round(np.array([0.45, 0.75, 1.0, 1.3]) * p * noise / 10) * 10
        vw = np.maximum.accumulate(vw + np.arange(4))  # strictly increasing
        for item, value in zip(
            ("too_cheap", "cheap", "expensive", "too_expensive"), vw, strict=True
        ):
            rows.append((rid, "price_sensitivity", item, str(int(value)), 20.0))
        rows += [
            (rid, "price_sensitivity.nms", "at_cheap", str(int(rng.choice([4, 5]))), 8.0),
            (rid, "price_sensitivity.nms", "at_expensive", str(int(rng.choice([2, 3]))), 8.0),
            (rid, "price_sensitivity.nms", "cheap", str(int(vw[1])), 8.0),
            (rid, "price_sensitivity.nms", "expensive", str(int(vw[2])), 8.0),
        ]
        for price in sorted(LADDER, reverse=True):  # from the top down, stop at a yes
            ratio = price / (p * rng.uniform(0.85, 1.15))
            answer = 5 if ratio < 0.7 else 4 if ratio < 1.0 else 3 if ratio < 1.2 else 1
            rows.append((rid, f"price_ladder.{price}", "price", str(price), 5.0))
            rows.append((rid, f"price_ladder.{price}", "", str(answer), 5.0))
            if answer >= 4:
                break
        chosen = ["price"] if p < 650 else []
        if rng.random() < 0.4:
            chosen.append("ownership")
        if rng.random() < 0.2:
            chosen.append("km_limit")
        for option in chosen or ["nothing"]:
            rows.append((rid, "obstacles", option, "1", 12.0))
        rows.append((rid, "age_band", "", str(rng.choice(["age_18_34", "age_35_54"])), 3.0))
    return pd.DataFrame(rows, columns=["respondent", "page", "item", "value", "seconds"])


def export_respondents(truth: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A respondents table with status and quality flags, as ``respondents_table`` has."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    frame = pd.DataFrame({"respondent": truth["respondent"].to_numpy(), "status": "complete"})
    for flag, rate in (
        ("speeding", 0.03),
        ("speeding_tasks", 0.02),
        ("straightlining", 0.05),
        ("attention_failed", 0.04),
        ("duplicate", 0.0),
        ("random_choices", 0.06),
    ):
        frame[flag] = rng.random(n) < rate
    extra = pd.DataFrame({"respondent": [10_001, 10_002], "status": ["screenout", "started"]})
    return pd.concat([frame, extra], ignore_index=True).fillna(False)

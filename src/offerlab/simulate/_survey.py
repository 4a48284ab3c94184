"""Simulated answers to a study's other questions — screeners, needs and motives,
obstacles, Van Westendorp and Gabor–Granger — from the same respondents' true part-worths.

The choice tasks come from :func:`~offerlab.simulate.simulate_answers`; the answers here
tell a consistent story with them: each respondent's reservation price for the offer the
price questions describe is the price at which its utility falls to the utility of
"none" (or of an average offer without a none option), their Van Westendorp and
Gabor–Granger answers are scattered around it, and "too expensive" is among their
obstacles when it lies below the offer's price. Needs and motives are ratings around a
level per item, with a spread per respondent. The result has the fielding export's
form (``respondent, page, item, value``), which ``offerlab report --survey-answers``
and :func:`offerlab.report._html.tidy_answers` read.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from offerlab.exceptions import OfferlabError
from offerlab.study import (
    GaborGrangerPage,
    MultiPage,
    NumberPage,
    ScalePage,
    SinglePage,
    Study,
    VanWestendorpPage,
)

__all__ = ["reservation_prices", "simulate_survey_answers"]

#: Van Westendorp's four prices as multiples of the reservation price.
VW_MULTIPLES = (0.45, 0.75, 1.0, 1.3)


def reservation_prices(truth: pd.DataFrame, study: Study, offer: Mapping[str, object]) -> pd.Series:
    """Per respondent, the price at which ``offer`` is as good as none (≥ 1 currency unit).

    ``truth`` is :attr:`SimulatedAnswers.truth` (``attribute=level`` columns for
    categorical levels, one coefficient per unit for numeric attributes and the price).
    """
    price = study.price_attribute
    if price is None or price.name not in truth.columns:
        raise OfferlabError("reservation prices need a price attribute in the truth")
    u = np.zeros(len(truth))
    for attr, level in offer.items():
        if attr == price.name or attr not in study.attribute_names:
            continue
        column = f"{attr}={level}"
        if column in truth.columns:
            u += truth[column].to_numpy(float)
        elif attr in truth.columns:
            u += truth[attr].to_numpy(float) * float(level)  # type: ignore[arg-type]
    none = truth["none"].to_numpy(float) if "none" in truth.columns else 0.0
    beta = truth[price.name].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(beta < 0, (u - none) / -beta, np.inf)
    top = 3 * max(float(v) for v in price.values)
    return pd.Series(np.clip(p, 1.0, top), index=truth["respondent"].to_numpy())


def simulate_survey_answers(
    study: Study,
    truth: pd.DataFrame,
    offer: Mapping[str, object],
    *,
    rng: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Answers to every non-choice question of the study, one row per answer.

    Parameters
    ----------
    study : Study
        Its questionnaire says which questions there are.
    truth : DataFrame
        The simulated respondents' true part-worths.
    offer : mapping
        The offer the price questions describe (the market file's ``pricing_offer``),
        ``{attribute: level}``; its price is the one obstacles are judged against.
    rng : Generator or int, optional
    """
    if study.questionnaire is None:
        raise OfferlabError("the study has no questionnaire: no other questions to answer")
    rng = np.random.default_rng(rng)
    reservation = reservation_prices(truth, study, offer)
    price = study.price_attribute
    offer_price = float(offer[price.name]) if price is not None and price.name in offer else None  # type: ignore[arg-type]
    rows: list[tuple[int, str, str, str]] = []
    pages = study.questionnaire.pages
    # Needs: a level per item (the same for everyone) and a lean per respondent.
    item_level = {
        p.id: rng.uniform(2.0, p.points - 0.5, len(p.items))
        for p in pages
        if isinstance(p, ScalePage)
    }
    for rid, r in reservation.items():
        rid = int(rid)
        lean = rng.normal(0, 0.5)
        for page in pages:
            if isinstance(page, SinglePage):
                rows += _single(rid, page, rng)
            elif isinstance(page, MultiPage):
                rows += _multi(rid, page, r, offer_price, rng)
            elif isinstance(page, ScalePage):
                ratings = item_level[page.id] + lean + rng.normal(0, 0.8, len(page.items))
                for item, rating in zip(page.items, ratings, strict=True):
                    value = int(np.clip(np.rint(rating), 1, page.points))
                    rows.append((rid, page.id, item.name, str(value)))
            elif isinstance(page, NumberPage):
                rows.append((rid, page.id, "", str(int(rng.integers(page.min, page.max + 1)))))
            elif isinstance(page, VanWestendorpPage):
                rows += _van_westendorp(rid, page, r, rng)
            elif isinstance(page, GaborGrangerPage):
                rows += _gabor_granger(rid, page, r, rng)
    return pd.DataFrame(rows, columns=["respondent", "page", "item", "value"])


def _single(
    rid: int, page: SinglePage, rng: np.random.Generator
) -> list[tuple[int, str, str, str]]:
    if page.attention_check is not None:
        return [(rid, page.id, "", page.attention_check.correct)]
    allowed = [
        o.name
        for o in page.options
        if not o.screen_out and (page.qualify is None or o.name in page.qualify)
    ]
    return [(rid, page.id, "", str(rng.choice(allowed)))]


def _multi(
    rid: int, page: MultiPage, reservation: float, price: float | None, rng: np.random.Generator
) -> list[tuple[int, str, str, str]]:
    """Each ordinary option with a chance of its own; "price"-like first options follow
    the reservation price; nothing chosen → the exclusive option ("none of these")."""
    chosen = []
    for k, option in enumerate(o for o in page.options if not o.exclusive and not o.open):
        if option.name == "price" and price is not None:
            if reservation < price:
                chosen.append(option.name)
        elif rng.random() < 0.35 / (1 + k):
            chosen.append(option.name)
    if page.max_choices is not None:
        chosen = chosen[: page.max_choices]
    exclusive = next((o.name for o in page.options if o.exclusive), None)
    if not chosen and exclusive is not None:
        chosen = [exclusive]
    return [(rid, page.id, name, "1") for name in chosen]


def _van_westendorp(
    rid: int, page: VanWestendorpPage, reservation: float, rng: np.random.Generator
) -> list[tuple[int, str, str, str]]:
    noise = rng.uniform(0.9, 1.1, 4)
    prices = np.round(np.asarray(VW_MULTIPLES) * reservation * noise / 10) * 10
    prices = np.maximum.accumulate(np.clip(prices, page.min, page.max - 3) + np.arange(4))
    rows = [
        (rid, page.id, item, str(int(value)))
        for item, value in zip(
            ("too_cheap", "cheap", "expensive", "too_expensive"), prices, strict=True
        )
    ]
    if page.purchase_likelihood is not None:
        rows += [
            (rid, f"{page.id}.nms", "at_cheap", str(int(rng.choice([4, 5])))),
            (rid, f"{page.id}.nms", "at_expensive", str(int(rng.choice([2, 3])))),
            (rid, f"{page.id}.nms", "cheap", str(int(prices[1]))),
            (rid, f"{page.id}.nms", "expensive", str(int(prices[2]))),
        ]
    return rows


def _gabor_granger(
    rid: int, page: GaborGrangerPage, reservation: float, rng: np.random.Generator
) -> list[tuple[int, str, str, str]]:
    """From the highest price down, stopping at the first "probably" or "definitely"."""
    rows = []
    for price in sorted(page.prices, reverse=True):
        ratio = price / (reservation * rng.uniform(0.85, 1.15))
        answer = 5 if ratio < 0.7 else 4 if ratio < 1.0 else 3 if ratio < 1.2 else 1
        rows.append((rid, f"{page.id}.{price}", "price", str(price)))
        rows.append((rid, f"{page.id}.{price}", "", str(answer)))
        if answer >= 4:
            break
    return rows

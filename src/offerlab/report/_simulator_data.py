"""The in-browser (and Excel) simulator's data: per population row, the utility of every
level with the fit's own coding, the fixed alternatives, the uncertainty draws.

For every population row r (the MNL point estimate, the latent classes, or HB posterior
draws) and attribute a it holds u[r][a][l] = β_r · x(a, l) with x the fit's own coding of
that level (so effects or dummy coding cannot be mis-applied); a number between two
levels gets the linear interpolation of their utilities, which is what
:meth:`ConjointCoding.code_offer` does; shares are Σ_r w_r exp(λV_rj) / Σ_k exp(λV_rk).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from offerlab.decide import Costs, Market, MarketSimulator, ProfileFilter
from offerlab.models import ConjointCoding
from offerlab.report._texts import report_catalogue
from offerlab.study import CategoricalAttribute, PriceAttribute

__all__ = ["SIMULATOR_LOCALES", "page_draws", "profile_filter_data", "simulator_data"]

#: The simulator script's number formats per language (the report's and the console's).
SIMULATOR_LOCALES = {"de": "de-CH", "fr": "fr-CH", "it": "it-CH", "en": "en-GB"}
#: The fewest uncertainty draws the page keeps of every person before it keeps fewer
#: people: quantiles of 20 draws give a 95% interval that holds 87% on average.
MIN_PAGE_DRAWS = 20


def page_draws(S: int, R_u: int, max_rows: int) -> tuple[int, int]:
    """How many uncertainty draws, and rows in each, the page keeps of S draws of R_u rows.

    Every draw of every row when they fit in ``max_rows``. Otherwise every row (so each
    kept draw is one of the library's, whole) and as many of the first draws as fit, at
    least :data:`MIN_PAGE_DRAWS`; only when that many draws of every row do not fit,
    an even subsample of the rows."""
    if S * R_u <= max_rows:
        return S, R_u
    S_kept = min(S, max(MIN_PAGE_DRAWS, max_rows // R_u))
    return S_kept, max(1, min(R_u, max_rows // S_kept))


def simulator_data(
    sim: MarketSimulator,
    market: Market,
    coding: ConjointCoding,
    language: str = "en",
    max_rows: int = 10_000,
    max_draw_rows: int = 20_000,
    costs: Costs | None = None,
) -> dict[str, Any]:
    """The in-browser simulator's data: levels, per-row level utilities, fixed alternatives.

    Besides the population rows (at most ``max_rows``, evenly picked) it carries the
    simulator's uncertainty draws for the intervals: every draw when S draws × R_u rows
    fit in ``max_draw_rows`` (MNL: R_u = 1; latent classes: one row per class), so the
    page's intervals are the library's; otherwise (HB: a posterior draw of every
    respondent per draw) fewer draws or rows, as :func:`page_draws` picks them, which the
    page says. The population rows keep full precision (the Excel
    simulator sheet reproduces the library's shares from them); the draws' utilities are
    rounded to 7 significant digits to keep the page small (intervals to about 1e-6).
    """
    study = coding.study
    pop = sim.population
    B, w = _even_rows(pop.B, pop.w, max_rows)
    draws = _draw_rows(sim, max_draw_rows)
    base = {a: study.level_value(a, 0) for a in study.attribute_names}
    attributes = []
    for block in coding.blocks:
        attr = study.attribute(block.attribute)
        n = len(attr.level_names)
        values = [study.level_value(attr.name, i) for i in range(n)]
        X = np.array([coding.code_offer({**base, attr.name: v}) for v in values])
        cols = slice(block.start, block.stop)
        U = B[:, cols] @ X[:, cols].T  # (R, L)
        draw_u = None if draws is None else draws["B"][:, cols] @ X[:, cols].T
        order = (
            list(range(n))
            if isinstance(attr, CategoricalAttribute)
            else list(np.argsort(np.asarray(values, dtype=float)))
        )
        attributes.append(
            {
                "name": attr.name,
                "label": study.text(attr.label, language),
                "kind": "categorical"
                if isinstance(attr, CategoricalAttribute)
                else ("price" if isinstance(attr, PriceAttribute) else "numeric"),
                "levels": [
                    v if isinstance(v, str) else float(v) for v in (values[i] for i in order)
                ],
                "labels": [study.level_label(attr.name, i, language) for i in order],
                "utilities": U[:, order].tolist(),
                **({} if draw_u is None else {"draw_utilities": _rounded(draw_u[:, order])}),
            }
        )
    offers, fixed = [], []
    for j, name in enumerate(market.names):
        if market.kinds[j] == "offer" and market.offers[j] is not None:
            levels = {
                a: (v if isinstance(v, str) else float(v))  # type: ignore[arg-type]
                for a, v in market.offers[j].items()  # type: ignore[union-attr]
            }
            offers.append({"name": name, "ours": bool(market.ours[j]), "levels": levels})
        else:
            V = B @ market.X[j] + market.offset[j]
            label = name
            if market.kinds[j] == "none" and study.tasks.none is not None:
                label = study.text(study.tasks.none.label, language)
            entry: dict[str, Any] = {"name": name, "label": label, "utilities": V.tolist()}
            if draws is not None:
                entry["draw_utilities"] = _rounded(draws["B"] @ market.X[j] + market.offset[j])
            price = float(market.prices[j])
            entry["price"] = price if np.isfinite(price) else None
            fixed.append(entry)
    prohibitions = [
        {k: (v if isinstance(v, str) else float(v)) for k, v in p.items()}
        for p in (getattr(study, "prohibitions", None) or [])
    ]
    return {
        "scale": sim.scale,
        "weights": w.tolist(),
        "attributes": attributes,
        "offers": offers,
        "fixed": fixed,
        "prohibitions": prohibitions,
        "currency": study.price_attribute.currency if study.price_attribute else "",
        "costs": None if costs is None else costs.to_json(),
        "draws": None
        if draws is None
        else {k: v for k, v in draws.items() if k != "B"} | {"interval": sim.interval},
    }


def _rounded(values: np.ndarray) -> list[Any]:
    """7 significant digits, as JSON numbers (rows of a matrix, or a vector): the draws."""
    return np.vectorize(lambda u: float(f"{u:.7g}"), otypes=[float])(values).tolist()


def profile_filter_data(
    filters: list[ProfileFilter],
    sim: MarketSimulator,
    payload: dict[str, Any],
    study: Any,
    language: str,
) -> list[dict[str, Any]]:
    """The page's profile filters (decide's :func:`~offerlab.decide.profile_filters`): per
    question its label, its options' names and labels, the option of every population row
    of the page and of every row of every draw the page holds (flattened, draw after
    draw). None is given when the page's rows are not the population's (thinned out).
    A multi-select question's codes are bit masks (``multi``); a latent-class filter gives
    per option the weights of the class rows (``class_weights``), the same in every draw.
    ``mass`` is each option's share of the people who answered."""
    if not filters or len(payload["weights"]) != sim.population.n_rows:
        return []
    draws = payload.get("draws")
    out = []
    for flt in filters:
        page = study.questionnaire.page(flt.question)
        labels = {o.name: study.text(o.label, language) for o in page.options}
        common = {
            "question": flt.question,
            "label": study.text(page.text, language),
            "options": list(flt.options),
            "labels": [labels[o] for o in flt.options],
            "multi": flt.multi,
            "mass": _rounded(flt.mass(sim.population.w)),
        }
        if flt.class_weights is not None:
            if draws is not None and int(draws["rows"]) != sim.population.n_rows:
                continue  # the page's draws are not the classes
            out.append(common | {"class_weights": _rounded(flt.class_weights)})
            continue
        draw_rows = None
        if draws is not None and flt.draw_rows is not None:
            S_all, R_u = flt.draw_rows.shape
            n, rows = int(draws["n"]), int(draws["rows"])
            pick = np.linspace(0, R_u - 1, rows).round().astype(int) if rows < R_u else None
            kept = flt.draw_rows[:n] if pick is None else flt.draw_rows[:n][:, pick]
            if n <= S_all:
                draw_rows = kept.ravel().tolist()
        if draws is not None and draw_rows is None:
            continue  # a filter whose intervals would be the whole market's: none
        out.append(common | {"rows": flt.rows.tolist(), "draw_rows": draw_rows})
    return out


def _even_rows(B: np.ndarray, w: np.ndarray, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_rows`` rows, evenly spaced, their weights renormalised."""
    if B.shape[0] <= max_rows:
        return B, w
    pick = np.linspace(0, B.shape[0] - 1, max_rows).round().astype(int)
    return B[pick], w[pick] / w[pick].sum()


def _draw_rows(sim: MarketSimulator, max_rows: int) -> dict[str, Any] | None:
    """The uncertainty draws the page computes intervals from (see :func:`simulator_data`)."""
    D = sim.uncertainty_draws()
    if D is None:
        return None
    S_all, R_all, K = D.shape
    S, R_u = page_draws(S_all, R_all, max_rows)
    w = sim.population.draw_weights(R_all)
    key = "sim_js_interval_note"
    if R_u < R_all:
        pick = np.linspace(0, R_all - 1, R_u).round().astype(int)
        D, w = D[:, pick], w[pick] / w[pick].sum()
        # Each draw averages over R_u of its R_all people, so the page's intervals are
        # wider than the library's: an HB draw is a bootstrap sample of the respondents
        # (its spread grows by about sqrt(R_all / R_u)); a mixed logit's simulated people
        # add their simulation noise.
        key += "_people"
    elif S_all > S:
        key += "_first"
    # The page's script says it in the reader's language; this is the English, for a
    # reader of the data.
    note = report_catalogue()[key]["en"].format(
        p=round(100 * sim.interval), n=S, all=S_all, rows=f"{R_u:,}", people=f"{R_all:,}"
    )
    D = D[:S]
    return {
        "B": D.reshape(S * R_u, K),
        "n": S,
        "rows": R_u,
        "of_draws": S_all,
        "of_rows": R_all,
        "weights": w.tolist(),
        "note": note,
    }

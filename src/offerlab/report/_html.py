"""The report business units open: one self-contained HTML file (and its content for the
PDF and the Excel workbook).

:func:`build_report` computes everything once into a :class:`ReportContent` — the
sample and its quality flags, importance, part-worths, WTP, segments, market shares,
the pricing page, the optimiser's recommendation, the method in plain words, the
figures as PNG bytes and the data of the in-browser simulator. :func:`write_html`
renders it with the Jinja2 template ``templates/report.html``: CSS inline, figures as
base64 ``data:`` URIs, the simulator as a small script on embedded part-worths, no
reference to anything outside the file (it opens offline, and a mail filter that
strips links leaves it whole).

The in-browser simulator reproduces the library's share of preference: for every
population row r (the MNL point estimate, the latent classes, or HB posterior draws)
and attribute a it holds the utility of each level, u[r][a][l] = β_r · x(a, l) with
x the fit's own coding of that level (so effects or dummy coding cannot be mis-applied);
a number between two levels gets the linear interpolation of their utilities, which is
what :meth:`ConjointCoding.code_offer` does; shares are Σ_r w_r exp(λV_rj) / Σ_k exp(λV_rk).
"""

from __future__ import annotations

import base64
import html
import math
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.decide import (
    Costs,
    Market,
    MarketMoney,
    MarketSimulator,
    OptimisationResult,
    PricingStudy,
    edge_caution,
    holdout_check,
    market_money,
    model_checks,
    money_text,
    none_choosers,
    optimise_offers,
    option_frequencies,
    pricing_study,
    recommendation_verdict,
    scale_means,
    sensitivity,
    top_obstacles,
    tornado,
)
from offerlab.exceptions import OfferlabError
from offerlab.models import MultinomialLogit
from offerlab.models._matrix import ConjointCoding
from offerlab.report._json import json_for_html
from offerlab.report._page_policy import with_content_security_policy
from offerlab.study import CategoricalAttribute, PriceAttribute, Study
from offerlab.study._questionnaire import (
    GaborGrangerPage,
    MultiPage,
    ScalePage,
    VanWestendorpPage,
)

#: The pricing page is :class:`offerlab.decide.PricingStudy`: computed in decide, drawn here.
PricingPage = PricingStudy

__all__ = [
    "PricingPage",
    "ReportContent",
    "build_report",
    "simulator_data",
    "tidy_answers",
    "write_html",
]

QUALITY_FLAGS = (
    "speeding",
    "speeding_tasks",
    "straightlining",
    "attention_failed",
    "duplicate",
    "random_choices",
)
FLAG_WORDS = {
    "speeding": "finished much faster than the median respondent",
    "speeding_tasks": "answered many choice tasks in a few seconds",
    "straightlining": "same answer everywhere (same position or same rating)",
    "attention_failed": "failed the attention check",
    "duplicate": "same panel id or same device as an earlier respondent",
    "random_choices": "choices close to random under the pooled model (low RLH)",
}
MODEL_WORDS = {
    "mnl": "multinomial logit (one set of part-worths for the whole market)",
    "lc": "latent class logit (a few segments, each with its own part-worths)",
    "hb": "hierarchical Bayes (part-worths for every respondent)",
}


# -- the survey's other answers ---------------------------------------------------------------


def tidy_answers(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The decide step's tidy answers (respondent, question, item, answer).

    Accepts that frame as it is, or the fielding export's ``answers_table``
    (respondent, page, item, value): Newton–Miller–Smith follow-ups (page ``X.nms``,
    items ``at_cheap``/``at_expensive``) become items ``likelihood_cheap`` and
    ``likelihood_expensive`` of question ``X``; Gabor–Granger pages ``X.590`` become
    question ``X`` with item = the price asked and answer = the 1–5 likelihood.
    """
    if {"respondent", "question", "item", "answer"} <= set(frame.columns):
        return frame
    need = {"respondent", "page", "item", "value"}
    if not need <= set(frame.columns):
        raise OfferlabError(
            "survey answers need the columns respondent, question, item, answer (tidy) or "
            f"respondent, page, item, value (the fielding export); got {list(frame.columns)}"
        )
    pages = study.questionnaire.pages if study.questionnaire is not None else []
    vw = {p.id for p in pages if isinstance(p, VanWestendorpPage)}
    gg = {p.id for p in pages if isinstance(p, GaborGrangerPage)}
    multi = {p.id for p in pages if isinstance(p, MultiPage)}
    rows = []
    item = frame["item"].fillna("").astype(str)
    for rid, page, it, value in zip(
        frame["respondent"], frame["page"].astype(str), item, frame["value"], strict=True
    ):
        base, _, rest = page.partition(".")
        if base in vw and rest == "nms":
            if it in ("at_cheap", "at_expensive"):
                rows.append((rid, base, "likelihood_" + it[3:], value))
            continue  # the cheap/expensive prices repeated for the record
        if base in gg and rest:
            if it == "":
                rows.append((rid, base, rest, value))
            continue
        if it.startswith("open:"):  # text typed into an open option
            rows.append((rid, page, it[5:], value))
        elif page in multi:  # one row per option chosen: the option is the answer
            rows.append((rid, page, "", it))
        else:
            rows.append((rid, page, it, value))
    return pd.DataFrame(rows, columns=["respondent", "question", "item", "answer"])


# -- content ------------------------------------------------------------------------------


@dataclass
class ReportContent:
    """Everything the HTML, PDF and Excel reports show."""

    title: str
    study: Study
    model: str
    currency: str
    language: str
    sample: pd.DataFrame
    quality: pd.DataFrame | None
    holdouts: pd.DataFrame | None
    fit: pd.DataFrame
    importance: pd.DataFrame
    partworths: pd.DataFrame
    wtp: pd.DataFrame | None
    segments: pd.DataFrame | None
    segment_importance: pd.DataFrame | None
    shares: pd.DataFrame | None
    segment_shares: pd.DataFrame | None
    pricing: PricingStudy | None
    optimisation: OptimisationResult | None
    objective: str | None
    recommendation: list[str]
    obstacles: pd.DataFrame | None
    method: list[str]
    simulator: dict[str, Any] | None
    money: MarketMoney | None = None
    launch: list[str] = field(default_factory=list)
    verdict: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    needs: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _label(study: Study, attribute: str, level: object, language: str) -> str:
    try:
        return study.level_label(attribute, study.level_index(attribute, level), language)
    except (KeyError, ValueError):
        return str(level)


def _attr_label(study: Study, attribute: str, language: str) -> str:
    if attribute in study.attribute_names:
        return study.text(study.attribute(attribute).label, language)
    if attribute == "none" and study.tasks.none is not None:
        return study.text(study.tasks.none.label, language)
    return attribute


def _labelled(frame: pd.DataFrame, study: Study, language: str) -> pd.DataFrame:
    out = frame.copy()
    if "level" in out.columns:
        out["level"] = [
            _label(study, a, lv, language) if a in study.attribute_names else str(lv)
            for a, lv in zip(out["attribute"], out["level"], strict=True)
        ]
    out["attribute"] = [_attr_label(study, a, language) for a in out["attribute"]]
    return out


def _money(value: float, currency: str) -> str:
    return money_text(value, currency)


def _figure(draw: Callable[[Path], object]) -> bytes:
    """PNG bytes of a plot function that writes to a path."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        draw(path)
        return path.read_bytes()


def _sample(data: ChoiceData, respondents: pd.DataFrame | None) -> pd.DataFrame:
    frame = data.frame
    holdout = frame["holdout"] == 1 if "holdout" in frame.columns else frame["task"] < 0
    tasks = frame.groupby(["respondent", "task"]).ngroups
    holdout_tasks = frame[holdout].groupby(["respondent", "task"]).ngroups
    n = data.n_respondents
    rows = [
        ("respondents in the choice data", f"{n:,}"),
        (
            "choice tasks answered",
            f"{tasks - holdout_tasks:,} ({(tasks - holdout_tasks) / n:.1f} per respondent)",
        ),
        ("holdout tasks (kept out of the model, to check it)", f"{holdout_tasks:,}"),
        (
            "alternatives shown per task",
            f"{frame.groupby(['respondent', 'task']).size().median():.0f} (with none)"
            if data.has_none
            else f"{frame.groupby(['respondent', 'task']).size().median():.0f}",
        ),
    ]
    if respondents is not None and "status" in respondents.columns:
        counts = respondents["status"].value_counts()
        for status, count in counts.items():
            rows.append((f"survey entries: {status}", f"{count:,}"))
    return pd.DataFrame(rows, columns=["what", "value"])


def _quality(respondents: pd.DataFrame | None) -> pd.DataFrame | None:
    if respondents is None:
        return None
    flags = [f for f in QUALITY_FLAGS if f in respondents.columns]
    if not flags:
        return None
    complete = respondents
    if "status" in respondents.columns:
        complete = respondents[respondents["status"] == "complete"]
    n = max(len(complete), 1)
    rows = []
    for f in flags:
        count = int(complete[f].astype(str).str.lower().isin(["true", "1", "yes"]).sum())
        rows.append((f, FLAG_WORDS[f], count, 100 * count / n))
    any_flag = complete[flags].astype(str).apply(lambda c: c.str.lower().isin(["true", "1"]))
    rows.append(
        (
            "any",
            "at least one flag",
            int(any_flag.any(axis=1).sum()),
            100 * any_flag.any(axis=1).sum() / n,
        )
    )
    return pd.DataFrame(rows, columns=["flag", "meaning", "respondents", "percent of completes"])


def simulator_data(
    sim: MarketSimulator,
    market: Market,
    coding: ConjointCoding,
    language: str = "en",
    max_rows: int = 10_000,
    max_draw_rows: int = 50_000,
    costs: Costs | None = None,
) -> dict[str, Any]:
    """The in-browser simulator's data: levels, per-row level utilities, fixed alternatives.

    Besides the population rows (at most ``max_rows``, evenly picked) it carries the
    simulator's uncertainty draws for the intervals: every draw when S draws × R_u rows
    fit in ``max_draw_rows`` (MNL: R_u = 1; latent classes: one row per class), so the
    page's intervals are the library's; otherwise (HB: a posterior draw of every
    respondent per draw) the first min(S, 100) draws of an even subsample of the
    respondents, which the page says. The population rows keep full precision (the Excel
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
    S, R_u, K = D.shape
    w = sim.population.draw_weights(R_u)
    note = f"Intervals: {round(100 * sim.interval)}% of {S} draws from the estimates' uncertainty."
    if S * R_u > max_rows:
        S_kept = min(S, 100)
        R_kept = max(1, min(R_u, max_rows // S_kept))
        pick = np.linspace(0, R_u - 1, R_kept).round().astype(int)
        D, w = D[:S_kept, pick], w[pick] / w[pick].sum()
        note = (
            f"Intervals: {round(100 * sim.interval)}% of {S_kept} posterior draws of "
            f"{R_kept} of the {R_u:,} respondents (kept small for the page; the report's "
            "tables use every respondent)."
        )
        S, R_u = S_kept, R_kept
    return {
        "B": D.reshape(S * R_u, K),
        "n": S,
        "rows": R_u,
        "weights": w.tolist(),
        "note": note,
    }


def _launch(
    result: OptimisationResult | None, study: Study, currency: str, language: str
) -> list[str]:
    """The recommended offers in words (labels of ``language``), each with its caution."""
    if result is None:
        return []
    out = []
    for i, offer in enumerate(result.best, start=1):
        parts = [
            _label(study, a, v, language)
            if not isinstance(study.attribute(a), PriceAttribute)
            else _money(float(v), currency) + " a month"  # type: ignore[arg-type]
            for a, v in offer.items()
        ]
        head = f"Tier {i}: " if len(result.best) > 1 else ""
        out.append(head + ", ".join(parts))
        out += edge_caution(study, offer, head)
    return out


def _edge_of_range(
    study: Study, offer: Mapping[str, object], currency: str, head: str
) -> list[str]:
    """:func:`offerlab.decide.edge_caution` (kept for callers of the report module)."""
    return edge_caution(study, offer, head)


def _method(
    model: str,
    data: ChoiceData,
    sim: MarketSimulator | None,
    study: Study,
    has_market: bool,
    scale_note: str | None = None,
) -> list[str]:
    n = data.n_respondents
    words = [
        f"{n:,} people each chose, several times, the subscription they would take out from "
        f"{study.tasks.alternatives} variants that differ in "
        f"{', '.join(study.text(a.label, 'en').lower() for a in study.attributes)}"
        + (", or none of them" if study.tasks.none is not None else "")
        + ". Because the variants change together, their choices show how much each feature "
        "and each franc matters, without asking people to rate features one by one.",
        f"A statistical model ({MODEL_WORDS.get(model, model)}) turns the choices into "
        "'part-worths': a score for each level of each feature. The feature whose levels differ "
        "most in score matters most ('importance'). Dividing a feature's score by the score of "
        "one franc gives what people would pay for it ('willingness to pay').",
    ]
    if has_market and sim is not None:
        rule = {
            "logit": "shares of preference (each person's choice probabilities, added up)",
            "first_choice": "first choice (each person takes the variant they like best)",
            "rfc": "randomized first choice",
        }[sim.rule]
        words.append(
            "The market simulator places our offers beside the competitors' and the status quo "
            f"and computes {rule}. The offers can be priced between the tested prices "
            "(scores are interpolated) but not outside them."
        )
        if scale_note:
            words.append(
                f"{scale_note} The simulator multiplies every score by this factor, so that its "
                "shares are as sharp as the holdout choices — fixed tasks kept out of the "
                "estimation — show real choices to be."
            )
        elif sim.scale != 1:
            words.append(
                f"The simulator multiplies every score by a scale factor of {sim.scale:.3g}."
            )
    words.append(
        "Every number carries its uncertainty: the model is re-drawn many times from what the "
        "data allow (the estimates' sampling distribution, or the posterior draws), and the "
        "intervals show the middle 95% of the results. A narrow interval means the survey "
        "settles the question; a wide one means it does not."
    )
    words.append(
        "What the model cannot see: effects of brand and advertising, awareness, and how many "
        "people will hear of the offer. Shares are shares of preference among the people "
        "surveyed, not forecasts of sales."
    )
    return words


def build_report(
    results: Any,
    data: ChoiceData,
    study: Study,
    *,
    model: str = "mnl",
    sim: MarketSimulator | None = None,
    market: Market | None = None,
    optimise: Mapping[str, Any] | None = None,
    objective: str | None = None,
    pricing_offer: str | None = None,
    answers: pd.DataFrame | None = None,
    respondents: pd.DataFrame | None = None,
    language: str = "en",
    mnl: Any = None,
    figures: bool = True,
    scale_note: str | None = None,
    costs: Costs | None = None,
    pricing_prices: Sequence[float] | None = None,
) -> ReportContent:
    """Compute every table, sentence and figure of the report.

    Parameters
    ----------
    results : MNLResults, LatentClassResults or HBResults
        The fit the simulator and optimiser use (``model`` says which).
    data : ChoiceData
    study : Study
    sim : MarketSimulator, optional
        On ``results``' population (see ``offerlab.decide.simulator_for``).
    market : Market, optional
        The scenario (from a market file); without it there are no shares, no
        optimiser and no conjoint demand curve.
    optimise : mapping, optional
        Keyword arguments of :func:`~offerlab.decide.optimise_offers` (slots, costs,
        base_cost, prices, fixed, pessimism); with ``objective`` runs the optimiser.
    pricing_offer : str, optional
        The offer the survey's price questions describe.
    answers : DataFrame, optional
        The survey's other answers (:func:`tidy_answers` accepts both forms).
    respondents : DataFrame, optional
        The fielding export's respondents table (status and quality flags).
    mnl : MNLResults, optional
        An aggregate MNL for the part-worth, importance and WTP tables (delta-method
        intervals); fitted here when ``results`` is not one.
    figures : bool, default True
    scale_note : str, optional
        How ``sim``'s scale factor was tuned (:meth:`ScaleCalibration.describe`), for the
        method section.
    costs : Costs, optional
        The market file's costs (default: those in ``optimise``): margin and profit of
        the market table and simulator, the pricing page's profit-maximising price.
    pricing_prices : list of float, optional
        The conjoint pricing grid (default: 41 prices over the studied range).
    """
    from offerlab.report import (
        plot_demand,
        plot_gabor_granger,
        plot_importance,
        plot_partworths,
        plot_shares,
        plot_tornado,
        plot_van_westendorp,
        plot_wtp,
    )

    coding = results.coding
    if coding is None:
        raise OfferlabError("the report needs a conjoint fit (fit(data, study=...))")
    if mnl is None:
        mnl = results if model == "mnl" else MultinomialLogit().fit(data, study=study)
    price = study.price_attribute
    currency = price.currency if price is not None else ""
    tidy = tidy_answers(answers, study) if answers is not None else None
    notes: list[str] = []
    figs: dict[str, bytes] = {}
    captions: dict[str, str] = {}

    if costs is None and optimise is not None and optimise.get("costs") is not None:
        costs = Costs(float(optimise.get("base_cost", 0.0)), optimise["costs"])
    sources = _sources(model)
    importance = _labelled(mnl.importance(), study, language)
    partworths = _labelled(mnl.partworths(), study, language)
    wtp = None
    if price is not None and any(b.kind == "linear" and coding.is_price(b) for b in coding.blocks):
        wtp = _labelled(mnl.wtp(), study, language)
        if wtp.attrs.get("note"):
            notes.append(str(wtp.attrs["note"]))
    fit = results.fit_frame().reset_index(names="statistic")
    fit.columns = ["statistic", "value"] if fit.shape[1] == 2 else fit.columns

    segments = segment_importance = None
    if model == "lc" and hasattr(results, "class_shares"):
        segments = results.class_shares.copy()
        frames = []
        for c in range(1, results.n_classes + 1):
            imp = results.class_results(c).importance()[["attribute", "importance"]]
            frames.append(imp.assign(segment=f"class {c}"))
        segment_importance = (
            _labelled(pd.concat(frames), study, language)
            .pivot_table(index="attribute", columns="segment", values="importance", sort=False)
            .reset_index()
        )
    if model == "hb" and hasattr(results, "individual"):
        notes.append(
            f"Hierarchical Bayes: part-worths for each of {len(results.individual):,} "
            "respondents; the simulator averages over their posterior draws."
        )
        from offerlab.report._hb_plots import hb_diagnostics_note  # matplotlib only for HB

        notes.append(hb_diagnostics_note(results, language))

    shares = segment_shares = money = None
    optimisation = None
    tornado_table = None
    if market is not None and sim is not None:
        money = market_money(sim, market, costs)
        shares = money.table
        if len(sim.segment_labels) > 1:
            segment_shares = sim.shares(market, by_segment=True)
        if objective is not None:
            optimisation = optimise_offers(sim, market, objective=objective, **dict(optimise or {}))  # type: ignore[arg-type]
        ours = [n for n, o in zip(market.names, market.ours, strict=True) if o]
        if ours:
            tornado_table = tornado(sensitivity(sim, market, ours[0]))
    holdouts = holdout_check(data, sim, coding) if sim is not None else None
    pricing = pricing_study(
        study, tidy, sim=sim, market=market, offer=pricing_offer, costs=costs,
        prices=pricing_prices,
    )  # fmt: skip
    obstacles = None
    if tidy is not None and study.questionnaire is not None:
        multi = next(
            (
                p
                for p in study.questionnaire.pages
                if isinstance(p, MultiPage) and (tidy["question"] == p.id).any()
            ),
            None,
        )
        if multi is not None:
            try:
                walked_away = none_choosers(data.frame)
                if walked_away:
                    obstacles = top_obstacles(tidy, multi.id, walked_away)
                    obstacles = obstacles if len(obstacles) else None
            except (OfferlabError, TypeError):
                obstacles = None

    needs = _needs(study, tidy, language)
    if figures:
        figs["importance"] = _figure(lambda p: plot_importance(importance, p))
        captions["importance"] = (
            "What drives the choice: each feature's share of the total (95% intervals)."
        )
        figs["partworths"] = _figure(lambda p: plot_partworths(partworths, p))
        captions["partworths"] = "Part-worths: the score of every level (95% intervals)."
        if wtp is not None:
            figs["wtp"] = _figure(lambda p: plot_wtp(wtp, p, currency=currency))
            captions["wtp"] = (
                f"What people would pay for each level, in {currency} a month, compared with "
                "the feature's first level."
            )
        if shares is not None:
            shown = shares.rename(columns={"alternative": "offer"})
            figs["shares"] = _figure(lambda p: plot_shares(shown, p))
            captions["shares"] = "Shares of the market (95% intervals)."
        if tornado_table is not None and len(tornado_table):
            figs["tornado"] = _figure(lambda p: plot_tornado(tornado_table, p))
            captions["tornado"] = (
                "How far each feature moves our first offer's share, over its levels."
            )
        if pricing is not None:
            if pricing.demand is not None:
                figs["demand"] = _figure(
                    lambda p: plot_demand(
                        pricing.demand, p, title=f"Demand, revenue, profit: '{pricing.offer}'"
                    )
                )
                captions["demand"] = (
                    "Conjoint: share and revenue per person over the price (95% bands)"
                    + (
                        "; dashed, the profit of all our offers, its best price marked."
                        if "ours_profit" in pricing.demand.columns
                        else "."
                    )
                )
            if pricing.van_westendorp is not None:
                figs["van_westendorp"] = _figure(
                    lambda p: plot_van_westendorp(pricing.van_westendorp, p)
                )
                captions["van_westendorp"] = (
                    "Van Westendorp: the shaded band is the acceptable price range."
                )
            if pricing.gabor_granger is not None:
                figs["gabor_granger"] = _figure(
                    lambda p: plot_gabor_granger(pricing.gabor_granger, p)
                )
                captions["gabor_granger"] = (
                    "Gabor–Granger: who would buy at each tested price, and the revenue."
                )

    simulator = (
        simulator_data(sim, market, coding, language, costs=costs)
        if market is not None and sim is not None
        else None
    )
    if simulator is not None and sim is not None and sim.rule != "logit":
        notes.append(
            "The interactive simulator computes shares of preference; the tables use "
            f"the {sim.rule.replace('_', ' ')} rule."
        )
    title = f"{study.text(study.title, language)}: what to launch, at what price"
    launch = _launch(optimisation, study, currency, language)
    verdict = recommendation_verdict(optimisation, currency) if optimisation is not None else []
    verdict += model_checks(results)
    return ReportContent(
        title=title,
        study=study,
        model=model,
        currency=currency,
        language=language,
        sample=_sample(data, respondents),
        quality=_quality(respondents),
        holdouts=holdouts,
        fit=fit,
        importance=importance,
        partworths=partworths,
        wtp=wtp,
        segments=segments,
        segment_importance=segment_importance,
        shares=shares,
        segment_shares=segment_shares,
        pricing=pricing,
        optimisation=optimisation,
        objective=objective,
        recommendation=launch + verdict,
        obstacles=obstacles,
        method=_method(model, data, sim, study, market is not None, scale_note),
        simulator=simulator,
        figures=figs,
        captions=captions,
        notes=notes,
        money=money,
        launch=launch,
        verdict=verdict,
        sources=sources,
        needs=needs,
    )


def _needs(
    study: Study, tidy: pd.DataFrame | None, language: str
) -> list[tuple[str, pd.DataFrame]]:
    """Needs and motives (scale questions: mean rating) and every multi question (share
    choosing each option), from decide's summaries, labelled in ``language``."""
    if tidy is None or study.questionnaire is None:
        return []
    out = []
    for page in study.questionnaire.pages:
        if not (tidy["question"] == page.id).any():
            continue
        if isinstance(page, ScalePage):
            frame = scale_means(tidy, page.id)
            labels = {i.name: study.text(i.label, language) for i in page.items}
            frame = frame.assign(item=frame["item"].map(labels).fillna(frame["item"]))
            frame = frame.sort_values("mean", ascending=False)[
                ["item", "n", "mean", "lower", "upper"]
            ]
            out.append(
                (
                    study.text(page.text, language),
                    frame.rename(columns={"mean": f"mean (1–{page.points})"}),
                )
            )
        elif isinstance(page, MultiPage):
            frame = option_frequencies(tidy, page.id)
            labels = {o.name: study.text(o.label, language) for o in page.options}
            frame = frame.assign(option=frame["option"].map(labels).fillna(frame["option"]))
            frame = frame.sort_values("share", ascending=False)[
                ["option", "n", "share", "lower", "upper"]
            ]
            out.append((study.text(page.text, language), frame))
    return out


def _sources(model: str) -> dict[str, str]:
    """Which model each section's numbers come from, in words, for every section."""
    decisions = MODEL_WORDS.get(model, model)
    if model == "mnl":
        drivers = "From the multinomial logit (one set of part-worths for everyone)."
    else:
        drivers = (
            "From an aggregate multinomial logit fitted on the same choices (one set of "
            f"part-worths for everyone), not from the {decisions.split(' (')[0]} that the "
            "market, the simulator and the recommendation use."
        )
    return {
        "drivers": drivers,
        "fit": f"Fit of the {decisions}: the model the market and the recommendation use.",
        "decisions": f"From the {decisions}.",
    }


# -- HTML -----------------------------------------------------------------------------------


def _fmt_cell(value: object, percent: bool = False, money: bool = False) -> str:
    """Text of a table cell: percentages for shares, thousands separators, few digits."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return ""
        if percent:
            return f"{100 * v:.1f}%"
        if money:  # amounts per person: every row to the same two decimals
            return f"{v:,.2f}"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"
    # whole numbers in the optimiser's text ("monthly_price=790.0") read better whole
    return re.sub(r"(?<=\d)\.0\b", "", str(value))


def table_html(
    frame: pd.DataFrame | None,
    percent_columns: Sequence[str] = (),
    money_columns: Sequence[str] = (),
) -> str:
    """A plain HTML table (escaped), numbers right-aligned."""
    if frame is None or frame.empty:
        return ""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            text = _fmt_cell(value, col in percent_columns, col in money_columns)
            num = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool
            )
            cells.append(f'<td class="{"num" if num else ""}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _optimisation_percent(objective: str | None) -> tuple[str, ...]:
    """Columns of the optimiser's table that are shares (all of them for a share objective)."""
    if objective == "share":
        return ("expected", "pessimistic", "lower", "upper", "share", "p_best")
    return ("share", "p_best")


def _interval(lo: float, hi: float, percent: bool = False) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if percent:
        return f"{100 * lo:.1f}% to {100 * hi:.1f}%"
    return f"{lo:,.2f} to {hi:,.2f}"


def _money_frame(content: ReportContent) -> pd.DataFrame:
    """The market table as shown: decide's numbers, intervals written as ranges, and a
    last row for our offers together (nothing is computed here)."""
    money = content.money
    assert money is not None
    t = money.table
    nan = np.full(len(t), np.nan)

    def col(name: str) -> Any:
        return t[name] if name in t.columns else nan

    rows = {
        "alternative": list(t["alternative"]),
        "price": list(t["price"]),
        "share": list(t["share"]),
        "share 95%": [
            _interval(a, b, True) for a, b in zip(col("lower"), col("upper"), strict=True)
        ],
        "revenue": list(t["revenue"]),
        "revenue 95%": [
            _interval(a, b) for a, b in zip(col("revenue_lower"), col("revenue_upper"), strict=True)
        ],
        "margin per sale": list(t["margin"]),
        "profit": list(t["profit"]),
        "profit 95%": [
            _interval(a, b) for a, b in zip(col("profit_lower"), col("profit_upper"), strict=True)
        ],
    }
    frame = pd.DataFrame(rows)
    total = money.total
    frame.loc[len(frame)] = {
        "alternative": "our offers together",
        "price": np.nan,
        "share": total["share"],
        "share 95%": _interval(total["share_lower"], total["share_upper"], True),
        "revenue": total["revenue"],
        "revenue 95%": _interval(total["revenue_lower"], total["revenue_upper"]),
        "margin per sale": np.nan,
        "profit": total["profit"],
        "profit 95%": _interval(total["profit_lower"], total["profit_upper"]),
    }
    if not np.isfinite(frame["profit"].to_numpy(float)).any():
        frame = frame.drop(columns=["margin per sale", "profit", "profit 95%"])
    return frame


def render_html(content: ReportContent) -> str:
    """The report as one HTML document (string)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    images = {
        k: "data:image/png;base64," + base64.b64encode(v).decode()
        for k, v in content.figures.items()
    }
    shares = _money_frame(content) if content.money is not None else None
    optimisation = None
    if content.optimisation is not None:
        optimisation = content.optimisation.table.drop(columns=["rank"]).head(5)
        if content.objective == "share":
            optimisation = optimisation.rename(
                columns={"expected": "share", "pessimistic": "lower"}
            )
    wtp = None
    if content.wtp is not None:
        wtp = content.wtp[["attribute", "level", "wtp", "lower", "upper"]]
    segment_shares = None
    if content.segment_shares is not None:
        segment_shares = content.segment_shares.pivot_table(
            index="alternative", columns="segment", values="share", sort=False
        ).reset_index()
    needs = [
        (title, table_html(frame, ("share", "lower", "upper") if "share" in frame.columns else ()))
        for title, frame in content.needs
    ]
    tables = {
        "sample": table_html(content.sample),
        "quality": table_html(content.quality),
        "holdouts": table_html(content.holdouts, ("observed", "predicted")),
        "importance": table_html(content.importance[["attribute", "importance", "lower", "upper"]]),
        "partworths": table_html(content.partworths[["attribute", "level", "utility", "se"]]),
        "wtp": table_html(wtp),
        "segments": table_html(content.segments),
        "segment_importance": table_html(content.segment_importance),
        "segment_shares": table_html(
            segment_shares,
            percent_columns=[
                c
                for c in (segment_shares.columns if segment_shares is not None else [])
                if c != "alternative"
            ],
        ),
        "shares": table_html(shares, ("share",), ("revenue", "margin per sale", "profit")),
        "optimisation": table_html(optimisation, _optimisation_percent(content.objective)),
        "pricing": table_html(content.pricing.table) if content.pricing is not None else "",
        "obstacles": table_html(content.obstacles, ("share", "lower", "upper")),
        "fit": table_html(content.fit),
    }
    simulator_json = None
    if content.simulator is not None:
        simulator_json = json_for_html(content.simulator)
    template = env.get_template("report.html")
    return template.render(
        c=content,
        images=images,
        tables=tables,
        simulator_json=simulator_json,
        needs=needs,
        model_words=MODEL_WORDS.get(content.model, content.model),
    )


def write_html(content: ReportContent, path: Path | str) -> Path:
    """Write the report to ``path`` (UTF-8), atomically: a half-written file never remains."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(with_content_security_policy(render_html(content)), encoding="utf-8")
    tmp.replace(path)
    return path

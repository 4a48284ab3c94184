"""What the report shows, computed once: :func:`build_report` -> :class:`ReportContent`.

The numbers come from ``decide`` (market money, the optimiser, the pricing page, needs,
and importance, part-worths and WTP from the model the decisions use); this module
labels them in the report's language, lays them out as tables and draws the figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.decide import (
    Costs,
    Drivers,
    Market,
    MarketMoney,
    MarketSimulator,
    NeedsOptions,
    OptimisationResult,
    PricingStudy,
    choice_drivers,
    edge_finding,
    holdout_check,
    market_money,
    model_check_findings,
    none_choosers,
    optimise_offers,
    option_frequencies,
    pricing_study,
    scale_means,
    sensitivity,
    simulator_for,
    top_obstacles,
    tornado,
    verdict_findings,
)
from offerlab.exceptions import OfferlabError
from offerlab.models import ConjointCoding, HBResults
from offerlab.report._findings import finding_text, finding_texts
from offerlab.report._labels import labelled, offer_parts
from offerlab.report._needs_pages import ExtraPage, needs_and_concept_pages
from offerlab.report._texts import ReportTexts, report_texts
from offerlab.study import (
    QUALITY_FLAGS,
    GaborGrangerPage,
    MultiPage,
    ScalePage,
    Study,
    VanWestendorpPage,
)

__all__ = ["ReportContent", "ReportOptions", "build_report", "tidy_answers"]


@dataclass(frozen=True)
class ReportOptions:
    """What the report is built on besides the fit and the data (all optional).

    Attributes
    ----------
    model : str
        ``mnl``, ``lc`` or ``hb``: the model the decisions rest on.
    sim : MarketSimulator
        On the fit's population (``offerlab.decide.simulator_for``).
    market : Market
        The scenario of a market file; without it no shares, optimiser or demand curve.
    optimise : mapping
        Keyword arguments of :func:`~offerlab.decide.optimise_offers` (slots, costs,
        base_cost, prices, fixed, pessimism); with ``objective`` runs the optimiser.
    objective : str
        ``share``, ``revenue`` or ``profit``.
    pricing_offer : str
        The offer the survey's price questions describe.
    pricing_prices : list of float
        The conjoint pricing grid (default: 41 prices over the studied range).
    costs : Costs
        The market file's costs (default: those in ``optimise``).
    answers : DataFrame
        The survey's other answers (:func:`tidy_answers` accepts both forms).
    respondents : DataFrame
        The fielding export's respondents table (status and quality flags).
    language : str
        de, fr, it or en: the report's words and the study's labels.
    figures : bool
        Draw the figures (PNG).
    scale_note : str
        How ``sim``'s scale factor was tuned, for the method section.
    maxdiff, kano, concepts : DataFrame
        The exports of the survey's MaxDiff, Kano and concept-test pages (the needs
        page and the concept page; :mod:`offerlab.report._needs_pages`).
    needs : NeedsOptions
        How the needs page weighs items and searches bundles.
    mnl : object
        Ignored (importance, part-worths and WTP now come from ``sim``'s model); kept so
        that older callers still run.
    """

    model: str = "mnl"
    sim: MarketSimulator | None = None
    market: Market | None = None
    optimise: Mapping[str, Any] | None = None
    objective: str | None = None
    pricing_offer: str | None = None
    pricing_prices: Sequence[float] | None = None
    costs: Costs | None = None
    answers: pd.DataFrame | None = None
    respondents: pd.DataFrame | None = None
    language: str = "en"
    figures: bool = True
    scale_note: str | None = None
    mnl: Any = None
    maxdiff: pd.DataFrame | None = None
    kano: pd.DataFrame | None = None
    concepts: pd.DataFrame | None = None
    needs: NeedsOptions | None = None


@dataclass
class ReportContent:
    """Everything the HTML, PDF and Excel reports show.

    The data frames (``importance``, ``shares``…) hold numbers with labels of the
    report's language (the Excel sheets); ``tables`` holds the same as text, as the
    HTML page and the PDF show them; ``empty`` a sentence for each section without data.
    """

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
    drivers: Drivers | None = None
    tables: dict[str, Any] = field(default_factory=dict)
    needs_tables: list[Any] = field(default_factory=list)
    empty: dict[str, str] = field(default_factory=dict)
    holdout_lines: list[str] = field(default_factory=list)
    model_words: str = ""
    pages: list[ExtraPage] = field(default_factory=list)
    #: the pricing comparison (``pricing.findings``) in the report's language
    pricing_lines: list[str] = field(default_factory=list)

    @property
    def t(self) -> ReportTexts:
        return report_texts(self.language)


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


# -- building -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    """What every section needs: the fit, the data, the options, and derived basics."""

    results: Any
    data: ChoiceData
    study: Study
    options: ReportOptions
    coding: ConjointCoding
    t: ReportTexts
    currency: str
    tidy: pd.DataFrame | None
    costs: Costs | None

    @property
    def sim(self) -> MarketSimulator | None:
        return self.options.sim

    @property
    def market(self) -> Market | None:
        return self.options.market if self.options.sim is not None else None


@dataclass
class _Decisions:
    money: MarketMoney | None = None
    optimisation: OptimisationResult | None = None
    segment_shares: pd.DataFrame | None = None
    tornado: pd.DataFrame | None = None
    tornado_offer: str | None = None


def build_report(
    results: Any,
    data: ChoiceData,
    study: Study,
    options: ReportOptions | None = None,
    **keywords: Any,
) -> ReportContent:
    """Compute every table, sentence and figure of the report.

    ``results`` is the fit the simulator and the optimiser use (MNLResults,
    LatentClassResults, HBResults…). The rest comes as a :class:`ReportOptions`, or as
    its fields by keyword (``build_report(fit, data, study, sim=sim, language="de")``).
    """
    inputs = _inputs(results, data, study, _options(options, keywords))
    t = inputs.t
    drivers = _drivers(inputs)
    decisions = _decisions(inputs)
    pricing = pricing_study(
        study, inputs.tidy, sim=inputs.sim, market=inputs.market,
        offer=inputs.options.pricing_offer, costs=inputs.costs,
        prices=inputs.options.pricing_prices,
    )  # fmt: skip
    holdouts = holdout_check(data, inputs.sim, inputs.coding) if inputs.sim is not None else None
    launch = _launch(decisions.optimisation, inputs)
    verdict = _verdict(decisions.optimisation, inputs)
    content = ReportContent(
        title=t("title", study=study.text(study.title, t.language)),
        study=study,
        model=inputs.options.model,
        currency=inputs.currency,
        language=t.language,
        sample=_sample(data, inputs.options.respondents, t),
        quality=_quality(inputs.options.respondents, t),
        holdouts=holdouts,
        fit=_fit(results),
        importance=labelled(drivers.importance, study, t),
        partworths=labelled(drivers.partworths, study, t),
        wtp=None if drivers.wtp is None else labelled(drivers.wtp, study, t),
        segments=None,
        segment_importance=None,
        shares=None if decisions.money is None else decisions.money.table,
        segment_shares=decisions.segment_shares,
        pricing=pricing,
        optimisation=decisions.optimisation,
        objective=inputs.options.objective if decisions.optimisation is not None else None,
        recommendation=launch + verdict,
        obstacles=_obstacles(inputs),
        method=_method(inputs),
        simulator=_simulator(inputs),
        money=decisions.money,
        launch=launch,
        verdict=verdict,
        sources=_sources(inputs, drivers),
        needs=_needs(inputs),
        notes=_notes(inputs),
        drivers=drivers,
        holdout_lines=_holdout_lines(results, holdouts, inputs),
        model_words=_model_words(inputs.options.model, t),
        pricing_lines=[]
        if pricing is None
        else finding_texts(pricing.findings, t, study, inputs.currency),
    )
    content.segments, content.segment_importance = _segments(inputs)
    content.empty = _empty_sections(content, inputs)
    from offerlab.report._layout import display_tables

    content.tables, content.needs_tables = display_tables(content, decisions)
    if inputs.options.figures:
        from offerlab.report._figures import report_figures

        content.figures, content.captions = report_figures(content, decisions)
    content.pages, figures, captions = needs_and_concept_pages(study, inputs.options, t)
    content.figures.update(figures)
    content.captions.update(captions)
    return content


def _options(options: ReportOptions | None, keywords: Mapping[str, Any]) -> ReportOptions:
    known = {f.name for f in fields(ReportOptions)}
    unknown = sorted(set(keywords) - known)
    if unknown:
        raise TypeError(f"build_report() got unexpected keyword argument(s) {unknown}")
    return replace(options or ReportOptions(), **keywords)


def _inputs(results: Any, data: ChoiceData, study: Study, options: ReportOptions) -> _Inputs:
    coding = results.coding
    if coding is None:
        raise OfferlabError("the report needs a conjoint fit (fit(data, study=...))")
    price = study.price_attribute
    costs = options.costs
    if costs is None and options.optimise is not None and options.optimise.get("costs"):
        costs = Costs(float(options.optimise.get("base_cost", 0.0)), options.optimise["costs"])
    return _Inputs(
        results=results, data=data, study=study, options=options, coding=coding,
        t=report_texts(options.language), currency=price.currency if price is not None else "",
        tidy=tidy_answers(options.answers, study) if options.answers is not None else None,
        costs=costs,
    )  # fmt: skip


def _drivers(inputs: _Inputs) -> Drivers:
    """Importance, part-worths, WTP of the model the decisions use (the simulator's)."""
    sim = inputs.sim or simulator_for(inputs.results, n_draws=200, seed=0)
    return choice_drivers(sim, inputs.coding)


def _decisions(inputs: _Inputs) -> _Decisions:
    sim, market, options = inputs.sim, inputs.market, inputs.options
    out = _Decisions()
    if sim is None or market is None:
        return out
    out.money = market_money(sim, market, inputs.costs)
    if len(sim.segment_labels) > 1:
        out.segment_shares = sim.shares(market, by_segment=True)
    if options.objective is not None:
        out.optimisation = optimise_offers(
            sim, market, objective=options.objective, **dict(options.optimise or {})
        )  # type: ignore[arg-type]
    ours = [n for n, o in zip(market.names, market.ours, strict=True) if o]
    if ours:
        out.tornado = tornado(sensitivity(sim, market, ours[0]))
        out.tornado_offer = ours[0]
    return out


def _fit(results: Any) -> pd.DataFrame:
    fit = results.fit_frame().reset_index(names="statistic")
    fit.columns = ["statistic", "value"] if fit.shape[1] == 2 else fit.columns
    return fit


def _model_words(model: str, t: ReportTexts) -> str:
    return t(f"model_{model}") if model in ("mnl", "lc", "hb") else model


def _model_short(model: str, t: ReportTexts) -> str:
    return t(f"model_short_{model}") if model in ("mnl", "lc", "hb") else model


def _sources(inputs: _Inputs, drivers: Drivers) -> dict[str, str]:
    """Which model each section's numbers come from, in words."""
    t = inputs.t
    model = _model_short(inputs.options.model, t)
    pct = round(100 * drivers.interval)
    if drivers.n_draws == 0:
        how = t("how_no_draws")
    elif drivers.level in ("individual", "distribution"):
        how = t("how_individual", rows=t.number(drivers.rows), pct=pct, draws=drivers.n_draws)
    elif drivers.level == "classes":
        how = t("how_classes", pct=pct, draws=drivers.n_draws)
    else:
        how = t("how_aggregate", pct=pct, draws=drivers.n_draws)
    wtp = ""
    if drivers.wtp is not None:
        wtp = t("wtp_individual") if drivers.wtp_method == "individual" else t("wtp_ratio")
        if drivers.wtp_method != "individual" and drivers.positive_price_rows > 0:
            wtp += " " + t("wtp_ratio_why", pct=t.number(100 * drivers.positive_price_rows, 1))
    return {
        "drivers": t("source_drivers", model=model, how=how),
        "wtp": t("source_drivers", model=model, how=how) + " " + wtp,
        "fit": t("source_fit", model=model),
        "decisions": t("source_decisions", model=model),
    }


def _launch(result: OptimisationResult | None, inputs: _Inputs) -> list[str]:
    """The recommended offers in words, each with its caution (decide's sentence)."""
    if result is None:
        return []
    t, study = inputs.t, inputs.study
    out = []
    for i, offer in enumerate(result.best, start=1):
        head = t("tier_head", i=i) if len(result.best) > 1 else ""
        out.append(head + ", ".join(offer_parts(study, offer, t)))
        edge = edge_finding(study, offer)
        if edge is not None:
            out.append(head + finding_text(edge, t, study, inputs.currency))
    return out


def _verdict(result: OptimisationResult | None, inputs: _Inputs) -> list[str]:
    verdict = []
    if result is not None:
        sentences = [
            finding_text(f, inputs.t, inputs.study, inputs.currency)
            for f in verdict_findings(result)
        ]
        # the verdict's last two findings read as one paragraph, as they always have
        verdict = [*sentences[:1], " ".join(sentences[1:])]
    checks = model_check_findings(inputs.results)
    return verdict + [finding_text(f, inputs.t, inputs.study, inputs.currency) for f in checks]


def _holdout_lines(results: Any, holdouts: pd.DataFrame | None, inputs: _Inputs) -> list[str]:
    """Holdout accuracy in words: the hit rate of the fit, and the simulator's share error."""
    t = inputs.t
    lines = []
    hit = getattr(results, "holdout_hit_rate", None)
    prob = getattr(results, "holdout_probability", None)
    if hit is not None and np.isfinite(hit):
        lines.append(
            t("holdout_accuracy", model=_model_short(inputs.options.model, t),
              hit=t.number(100 * hit), prob=t.number(100 * (prob or np.nan)))
        )  # fmt: skip
    if holdouts is not None and len(holdouts):
        mae = float((holdouts["observed"] - holdouts["predicted"]).abs().mean())
        lines.append(t("holdout_share_accuracy", mae=t.number(100 * mae, 1)))
    return lines


def _notes(inputs: _Inputs) -> list[str]:
    t, sim = inputs.t, inputs.sim
    notes = []
    individual = getattr(inputs.results, "individual", None)
    if inputs.options.model == "hb" and individual is not None:
        notes.append(t("hb_note", n=t.number(len(individual))))
        if isinstance(inputs.results, HBResults):
            from offerlab.report._hb_plots import hb_diagnostics_note  # matplotlib only for HB

            notes.append(hb_diagnostics_note(inputs.results, inputs.options.language))
    if inputs.market is not None and sim is not None and sim.rule != "logit":
        notes.append(t("simulator_rule_note", rule=t(f"rule_{sim.rule}")))
    return notes


def _sample(data: ChoiceData, respondents: pd.DataFrame | None, t: ReportTexts) -> pd.DataFrame:
    frame = data.frame
    holdout = frame["holdout"] == 1 if "holdout" in frame.columns else frame["task"] < 0
    tasks = frame.groupby(["respondent", "task"]).ngroups
    holdout_tasks = frame[holdout].groupby(["respondent", "task"]).ngroups
    n = data.n_respondents
    shown = t.number(float(frame.groupby(["respondent", "task"]).size().median()))
    rows = [
        (t("row_respondents"), t.number(n)),
        (t("row_tasks"), t("row_tasks_value", n=t.number(tasks - holdout_tasks),
                            per=t.number((tasks - holdout_tasks) / n, 1))),
        (t("row_holdouts"), t.number(holdout_tasks)),
        (t("row_alternatives"), t("row_with_none", n=shown) if data.has_none else shown),
    ]  # fmt: skip
    if respondents is not None and "status" in respondents.columns:
        for status, count in respondents["status"].value_counts().items():
            key = "status_" + str(status).replace(" ", "_").replace("-", "_")
            word = t(key) if key in _catalogue_keys() else str(status)
            rows.append((t("row_status", status=word), t.number(count)))
    return pd.DataFrame(rows, columns=[t("col_what"), t("col_value")])


def _catalogue_keys() -> set[str]:
    from offerlab.report._texts import report_catalogue

    return set(report_catalogue())


def _quality(respondents: pd.DataFrame | None, t: ReportTexts) -> pd.DataFrame | None:
    if respondents is None:
        return None
    flags = [f for f in QUALITY_FLAGS if f in respondents.columns]
    if not flags:
        return None
    complete = respondents
    if "status" in respondents.columns:
        complete = respondents[respondents["status"] == "complete"]
    n = max(len(complete), 1)
    raised = complete[flags].astype(str).apply(lambda c: c.str.lower().isin(["true", "1", "yes"]))
    rows = [(t(f"flag_{f}"), int(raised[f].sum()), 100 * raised[f].sum() / n) for f in flags]
    anyone = raised.any(axis=1)
    rows.append((t("flag_any"), int(anyone.sum()), 100 * anyone.sum() / n))
    return pd.DataFrame(rows, columns=[t("col_flag"), t("col_respondents"), t("col_pct_completes")])


def _segments(inputs: _Inputs) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Latent classes: their sizes and each class's importance (the class's own fit)."""
    results, t = inputs.results, inputs.t
    if inputs.options.model != "lc" or not hasattr(results, "class_shares"):
        return None, None
    sizes = results.class_shares.copy()
    frames = []
    for c in range(1, results.n_classes + 1):
        imp = results.class_results(c).importance()[["attribute", "importance"]]
        frames.append(imp.assign(segment=t("class_n", c=c)))
    importance = (
        labelled(pd.concat(frames), inputs.study, t)
        .pivot_table(index="attribute", columns="segment", values="importance", sort=False)
        .reset_index()
        .rename(columns={"attribute": t("col_attribute")})
    )
    return sizes, importance


def _obstacles(inputs: _Inputs) -> pd.DataFrame | None:
    """What those who mostly chose none say stops them (labels of the question's options)."""
    tidy, study = inputs.tidy, inputs.study
    if tidy is None or study.questionnaire is None:
        return None
    page = next(
        (p for p in study.questionnaire.pages
         if isinstance(p, MultiPage) and (tidy["question"] == p.id).any()),
        None,
    )  # fmt: skip
    if page is None:
        return None
    try:
        walked_away = none_choosers(inputs.data.frame)
        if not walked_away:
            return None
        frame = top_obstacles(tidy, page.id, walked_away)
    except (OfferlabError, TypeError):
        return None
    if not len(frame):
        return None
    labels = {o.name: study.text(o.label, inputs.t.language) for o in page.options}
    frame = frame.assign(option=frame["option"].map(labels).fillna(frame["option"]))
    if "segment" in frame.columns:
        frame = frame.assign(segment=frame["segment"].replace({"all": inputs.t("everyone")}))
    return frame


def _needs(inputs: _Inputs) -> list[tuple[str, pd.DataFrame]]:
    """Needs and motives (scale questions: mean rating) and every multi question (share
    choosing each option), from decide's summaries, labelled in the report's language."""
    tidy, study, lang = inputs.tidy, inputs.study, inputs.t.language
    if tidy is None or study.questionnaire is None:
        return []
    out = []
    for page in study.questionnaire.pages:
        if not (tidy["question"] == page.id).any():
            continue
        if isinstance(page, ScalePage):
            labels = {i.name: study.text(i.label, lang) for i in page.items}
            frame = _largest_first(scale_means(tidy, page.id), "item", labels, "mean")
            out.append((study.text(page.text, lang), frame.assign(points=page.points)))
        elif isinstance(page, MultiPage):
            labels = {o.name: study.text(o.label, lang) for o in page.options}
            frame = _largest_first(option_frequencies(tidy, page.id), "option", labels, "share")
            out.append((study.text(page.text, lang), frame))
    return out


def _largest_first(
    frame: pd.DataFrame, name: str, labels: Mapping[str, str], value: str
) -> pd.DataFrame:
    """The rows by ``value``, largest first, with their labels in column ``name``."""
    frame = frame.assign(**{name: frame[name].map(labels).fillna(frame[name])})
    return frame.sort_values(value, ascending=False)[[name, "n", value, "lower", "upper"]]


def _method(inputs: _Inputs) -> list[str]:
    t, study, sim, data = inputs.t, inputs.study, inputs.sim, inputs.data
    features = ", ".join(study.text(a.label, t.language) for a in study.attributes)
    words = [
        t("method_choices", n=t.number(data.n_respondents), k=study.tasks.alternatives,
          features=features, none=t("method_or_none") if study.tasks.none is not None else ""),
        t("method_model", model=_model_words(inputs.options.model, t)),
    ]  # fmt: skip
    if inputs.market is not None and sim is not None:
        words.append(t("method_market", rule=t(f"rule_{sim.rule}")))
        if inputs.options.scale_note:
            words.append(t("method_scale_tuned", note=inputs.options.scale_note))
        elif sim.scale != 1:
            words.append(t("method_scale", scale=t.number(sim.scale, 2)))
    words += [t("method_uncertainty"), t("method_limits")]
    return words


def _simulator(inputs: _Inputs) -> dict[str, Any] | None:
    if inputs.market is None or inputs.sim is None:
        return None
    from offerlab.decide import filterable, multi_questions, profile_filters, profile_questions
    from offerlab.report._simulator_data import profile_filter_data, simulator_data

    language = inputs.t.language
    data = simulator_data(inputs.sim, inputs.market, inputs.coding, language, costs=inputs.costs)
    if inputs.tidy is not None:  # segments by the respondents' own answers (HB, classes)
        questions = profile_questions(inputs.study)
        multi = multi_questions(inputs.study)
        filters = profile_filters(inputs.sim, inputs.results, inputs.tidy, questions, multi)
        data["filters"] = profile_filter_data(filters, inputs.sim, data, inputs.study, language)
        # the page says why there is no filter rather than offering nothing without a word
        data["filters_unavailable"] = bool(questions or multi) and not filterable(inputs.results)
    return data


def _empty_sections(content: ReportContent, inputs: _Inputs) -> dict[str, str]:
    """A sentence for each section that has no data, instead of an empty box."""
    t = inputs.t
    empty = {}
    if content.optimisation is None:
        empty["recommendation"] = t("no_optimisation")
    if content.shares is None:
        empty["market"] = t("no_market")
    if content.pricing is None or (content.pricing.table.empty and not content.pricing.comparison):
        empty["pricing"] = t("no_pricing")
    if not content.needs and content.obstacles is None:
        empty["needs"] = t("no_needs")
    if content.quality is None:
        empty["quality"] = t("no_quality")
    if content.holdouts is None and not content.holdout_lines:
        empty["holdouts"] = t("no_holdouts")
    if content.wtp is None:
        empty["wtp"] = t("no_wtp")
    return empty

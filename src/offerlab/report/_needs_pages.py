"""The report's needs-and-obstacles page and concept page, drawn from decide's results.

:func:`needs_and_concept_pages` turns :class:`offerlab.decide.NeedsResults` and
:class:`offerlab.decide.ConceptResults` into :class:`ExtraPage` objects: headings,
sentences, figure keys and :class:`Table` s with every cell already text in the report's
language, so the HTML page (``templates/_needs_pages.html``), the PDF (:func:`write_pages`)
and the Excel sheets (:func:`page_sheets`) show the same words and numbers. Respondents'
own words (open answers) stay plain text here; each writer escapes them its own way
(Jinja's autoescape, PDF text, a formula-neutralised spreadsheet cell).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from offerlab.decide import (
    KANO_CATEGORIES,
    ConceptResults,
    NeedsOptions,
    NeedsResults,
    concept_results,
    needs_results,
)
from offerlab.report._concept_cards import concept_card_blocks
from offerlab.report._figures import figure_png
from offerlab.report._needs_plots import (
    plot_concept_top_box,
    plot_kano_shares,
    plot_maxdiff_scores,
    plot_turf_ladder,
)
from offerlab.report._tables import Cells, Table
from offerlab.report._texts import ReportTexts
from offerlab.study import ConceptTestPage, KanoPage, MaxDiffPage, Study

__all__ = ["ExtraPage", "PageBlock", "needs_and_concept_pages", "page_sheets", "write_pages"]


@dataclass
class PageBlock:
    """One part of a page: a subheading, sentences, a figure, tables, or why it is empty."""

    heading: str
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figure: str = ""
    tables: list[Table] = field(default_factory=list)
    empty: str = ""


@dataclass
class ExtraPage:
    """A page of the report: its anchor id, title, blocks, and its Excel sheets
    (name, numbers, note)."""

    id: str
    title: str
    blocks: list[PageBlock]
    empty: str = ""
    sheets: list[tuple[str, pd.DataFrame, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PageInputs:
    """The answers behind the two pages (the fielding exports' forms) and the options."""

    maxdiff: pd.DataFrame | None = None
    kano: pd.DataFrame | None = None
    concepts: pd.DataFrame | None = None
    options: NeedsOptions | None = None


@dataclass
class _Figures:
    """The pages' figures (name -> PNG) and captions; nothing is drawn when ``on`` is off."""

    on: bool
    png: dict[str, bytes] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)

    def add(
        self, block: PageBlock, name: str, draw: Callable[[Path], object], caption: str
    ) -> None:
        """Draw ``name`` for ``block`` (``draw`` gets the path to plot to)."""
        if self.on:
            self.png[name] = figure_png(draw)
            self.captions[name] = caption
            block.figure = name


def needs_and_concept_pages(
    study: Study, inputs: PageInputs, t: ReportTexts, *, figures: bool = True
) -> tuple[list[ExtraPage], dict[str, bytes], dict[str, str]]:
    """Both pages, and their figures (name -> PNG) with captions."""
    pages = study.questionnaire.pages if study.questionnaire is not None else []
    md_page = next((p for p in pages if isinstance(p, MaxDiffPage)), None)
    kano_page = next((p for p in pages if isinstance(p, KanoPage)), None)
    concept_page = next((p for p in pages if isinstance(p, ConceptTestPage)), None)
    figs = _Figures(figures)
    items = [i.name for i in md_page.items] if md_page is not None else None
    maxdiff = inputs.maxdiff if md_page is not None else None
    needs = needs_results(maxdiff, inputs.kano, items=items, options=inputs.options)
    labels = _Labels(study, t.language, md_page, kano_page, concept_page)
    need_page = _needs_page(needs, labels, t, figs)
    concepts = None
    if inputs.concepts is not None and len(inputs.concepts):
        order = [c.name for c in concept_page.concepts] if concept_page is not None else None
        concepts = concept_results(inputs.concepts, concepts=order)
    return [need_page, _concept_page(concepts, labels, t, figs)], figs.png, figs.captions


@dataclass(frozen=True)
class _Labels:
    """The study's words for items, features and concepts in the report's language."""

    study: Study
    language: str
    maxdiff: MaxDiffPage | None
    kano: KanoPage | None
    concepts: ConceptTestPage | None

    def item(self, name: str) -> str:
        found = {i.name: i.label for i in self.maxdiff.items} if self.maxdiff else {}
        return self.study.text(found[name], self.language) if name in found else str(name)

    def feature(self, name: str) -> str:
        found = {f.name: f.label for f in self.kano.features} if self.kano else {}
        return self.study.text(found[name], self.language) if name in found else str(name)

    def concept(self, name: str) -> str:
        found = {c.name: c.title for c in self.concepts.concepts} if self.concepts else {}
        return self.study.text(found[name], self.language) if name in found else str(name)


def _pct(interval: float) -> int:
    return round(100 * interval)


# -- the needs-and-obstacles page -----------------------------------------------------------


def _needs_page(needs: NeedsResults, labels: _Labels, t: ReportTexts, figs: _Figures) -> ExtraPage:
    page = ExtraPage("needs-page", t("h_needs_page"), [], t("np_empty") if needs.empty else "")
    if needs.empty:
        return page
    c = Cells(t)
    page.blocks.append(_maxdiff_block(needs, labels, c, figs, page.sheets))
    page.blocks.append(_turf_block(needs, labels, c, figs, page.sheets))
    page.blocks.append(_kano_block(needs, labels, c, figs, page.sheets))
    return page


def _maxdiff_block(
    needs: NeedsResults, labels: _Labels, c: Cells, figs: _Figures, sheets: list[Any]
) -> PageBlock:
    t = c.t
    block = PageBlock(t("h_maxdiff"))
    s = needs.scores
    if s is None:
        block.empty = t("np_no_maxdiff")
        return block
    average = t.number(needs.average, 1)
    block.lines.append(
        t("np_maxdiff_lead", n=t.number(needs.respondents), items=len(s), average=average)
    )
    if needs.anchor is None:
        block.lines.append(t("np_no_anchor", average=average))
        line, line_label = needs.average, t("lg_average", average=average)
    else:
        block.lines.append(t("np_anchor", anchor=t.number(needs.anchor, 1)))
        line, line_label = needs.anchor, t("lg_anchor", anchor=t.number(needs.anchor, 1))
    block.notes.append(t("np_maxdiff_source"))
    shown = [labels.item(str(i)) for i in s.index]
    pct = _pct(needs.interval)
    fmt = lambda v: c.fixed(v, 1)  # noqa: E731
    columns = {
        t("col_need"): shown, t("col_score"): c.column(s["score"], fmt),
        t("col_interval", pct=pct): c.intervals(s["low"], s["high"], fmt),
    }  # fmt: skip
    if "important" in s.columns:  # anchored: the share of people each item matters to
        block.notes.append(t("np_important"))
        columns[t("col_important")] = c.column(s["important"], c.percent)
        columns[t("col_important_interval", pct=pct)] = c.intervals(
            s["important_low"], s["important_high"], c.percent
        )
    columns[t("col_picked_best")] = c.column(s["best_share"], c.percent)
    columns[t("col_picked_worst")] = c.column(s["worst_share"], c.percent)
    frame = pd.DataFrame(columns)
    block.tables.append(Table("", frame, tuple(frame.columns[1:])))
    sheets.append(("MaxDiff scores", s.reset_index().assign(label=shown), t("np_maxdiff_source")))
    plot = s.assign(label=shown)
    figs.add(
        block, "maxdiff",
        lambda p: plot_maxdiff_scores(
            plot, p, xlabel=t("ax_maxdiff"), line=line, line_label=line_label
        ),
        t("cap_maxdiff", pct=pct, line=line_label),
    )  # fmt: skip
    return block


def _turf_block(
    needs: NeedsResults, labels: _Labels, c: Cells, figs: _Figures, sheets: list[Any]
) -> PageBlock:
    t = c.t
    block = PageBlock(t("h_turf"))
    result, curve = needs.turf, needs.reach_curve
    if result is None or curve is None:
        block.empty = t("np_no_turf") if needs.scores is not None else t("np_no_maxdiff")
        return block
    best = result.best
    ladder = result.to_frame().assign(label=lambda f: [labels.item(i) for i in f["item"]])
    lead = "np_turf_lead_anchor" if needs.anchored else "np_turf_lead"
    block.lines.append(
        t(lead, top=needs.top, k=len(best.items), reach=t.percent(best.reach, 0),
          items=", ".join(ladder["label"]))
    )  # fmt: skip
    state = t("np_hb_converged") if needs.individual_converged else t("np_hb_short")
    method = (
        t("np_search_exact")
        if result.method == "exact"
        else t("np_search_greedy", gap=t.percent(result.gap))
    )
    block.notes.append(t("np_turf_source", state=state, method=method))
    steps = pd.DataFrame(
        {t("col_added_item"): list(ladder["label"]),
         t("col_reach"): c.column(ladder["reach"], c.percent),
         t("col_added_reach"): c.column(ladder["added_reach"], c.percent)}
    )  # fmt: skip
    block.tables.append(Table("", steps, tuple(steps.columns[1:])))
    sizes = pd.DataFrame(
        {t("col_bundle_size"): c.column(curve["size"], c.whole),
         t("col_reach"): c.column(curve["reach"], c.percent),
         t("col_added_reach"): c.column(curve["reach"].diff().fillna(curve["reach"]), c.percent),
         t("col_bundle"): [", ".join(labels.item(i) for i in items) for items in curve["items"]]}
    )  # fmt: skip
    block.tables.append(Table(t("h_reach_curve"), sizes, tuple(sizes.columns[:3])))
    sheets.append(("TURF bundle", ladder, block.notes[0]))
    sheets.append(("TURF by size", curve.assign(items=curve["items"].map(", ".join)), ""))
    figs.add(
        block, "turf", lambda p: plot_turf_ladder(ladder, p, xlabel=t("ax_reach")), t("cap_turf")
    )
    return block


def _kano_block(
    needs: NeedsResults, labels: _Labels, c: Cells, figs: _Figures, sheets: list[Any]
) -> PageBlock:
    t = c.t
    block = PageBlock(t("h_kano"))
    if not needs.kano:
        block.empty = t("np_no_kano")
        return block
    block.lines.append(t("np_kano_lead", n=t.number(needs.kano_respondents)))
    block.notes.append(t("np_kano_coefficients"))
    letters = list(KANO_CATEGORIES)
    names = [t(f"kano_{k}") for k in letters]
    features = [labels.feature(f.feature) for f in needs.kano]
    shares = pd.DataFrame([f.shares for f in needs.kano], index=features)[letters]
    data: dict[str, list[str]] = {t("col_feature"): features}
    data[t("col_category")] = [t(f"kano_{f.category}") if f.category else "" for f in needs.kano]
    for letter, name in zip(letters, names, strict=True):
        data[name] = c.column(shares[letter], c.percent)
    data[t("col_better")] = c.column([f.better for f in needs.kano], lambda v: c.fixed(v, 2))
    data[t("col_worse")] = c.column([f.worse for f in needs.kano], lambda v: c.fixed(v, 2))
    frame = pd.DataFrame(data)
    block.tables.append(Table("", frame, tuple(frame.columns[2:])))
    numbers = pd.DataFrame(
        [{"feature": f.feature, "label": lab, "category": f.category, **f.counts,
          "better": f.better, "worse": f.worse} for f, lab in zip(needs.kano, features,
                                                                  strict=True)]
    )  # fmt: skip
    sheets.append(("Kano", numbers, t("np_kano_coefficients")))
    figs.add(
        block, "kano",
        lambda p: plot_kano_shares(shares, p, xlabel=t("ax_respondents_pct"), names=names),
        t("cap_kano"),
    )  # fmt: skip
    return block


# -- the concept page -----------------------------------------------------------------------


def _concept_page(
    result: ConceptResults | None, labels: _Labels, t: ReportTexts, figs: _Figures
) -> ExtraPage:
    page = ExtraPage("concepts", t("h_concept_page"), [], t("cp_empty") if result is None else "")
    if result is None:
        return page
    c = Cells(t)
    pct = _pct(result.interval)
    names = {k: labels.concept(k) for k in result.concepts}
    question = lambda q: t(f"q_{q}")  # noqa: E731
    mode = t("cp_mode_sequential") if result.paired else t("cp_mode_monadic")
    box = result.top_box.assign(
        question=result.top_box["question"].map(question),
        concept=result.top_box["concept"].map(names),
    )
    first = PageBlock(t("col_top2"))
    first.lines.append(
        t("cp_lead", n=t.number(result.respondents), k=len(result.concepts), mode=mode, pct=pct)
    )
    frame = _by_concept(box, c)
    first.tables.append(Table("", frame, ()))  # text columns: they wrap on a phone
    page.sheets.append(("Concepts top-2-box", box, ""))
    figs.add(
        first, "concepts",
        lambda p: plot_concept_top_box(box, p, xlabel=t("ax_top2")),
        t("cap_concepts", pct=pct),
    )  # fmt: skip
    page.blocks.extend(concept_card_blocks(labels.study, labels.concepts, t, figs, PageBlock))
    page.blocks.append(first)
    page.blocks.append(_pairs_block(result, names, c, page.sheets))
    page.blocks.append(_order_block(result, c, page.sheets))
    page.blocks.append(_take_up_block(result, names, c))
    page.blocks.append(_open_block(result, names, c, page.sheets))
    return page


def _by_concept(box: pd.DataFrame, c: Cells) -> pd.DataFrame:
    """One row per concept (its name and n), one column per question: "share (interval)"
    -- six columns, so a phone shows one card per concept."""
    t = c.t
    rows = []
    for concept, part in box.groupby("concept", sort=False):
        n = t.number(float(part["n"].max()))
        row = {t("col_concept"): t("col_concept_top2", concept=concept, n=n)}
        for question, share, lo, hi in zip(
            part["question"], part["share"], part["low"], part["high"], strict=True
        ):
            row[question] = f"{c.percent(share)} ({c.interval(lo, hi, c.percent)})"
        rows.append(row)
    return pd.DataFrame(rows)


def _p_text(c: Cells, p: float) -> str:
    return "< " + c.fixed(0.001, 3) if p < 0.001 else c.fixed(p, 3)


def _pairs_block(
    result: ConceptResults, names: dict[str, str], c: Cells, sheets: list[Any]
) -> PageBlock:
    t = c.t
    block = PageBlock(t("h_concept_pairs"))
    pairs = result.comparisons
    if pairs.empty:
        block.empty = t("cp_no_pairs")
        return block
    count = len(result.concepts) * (len(result.concepts) - 1) // 2
    key = "cp_pairs_paired" if result.paired else "cp_pairs_independent"
    block.notes.append(t(key, pct=_pct(result.interval), pairs=count))
    points = lambda v: c.fixed(100 * v, 1)  # noqa: E731
    frame = pd.DataFrame(
        {t("col_question"): pairs["question"].map(lambda q: t(f"q_{q}")),
         t("col_pair"): [f"{names[a]} – {names[b]}" for a, b in
                         zip(pairs["concept_a"], pairs["concept_b"], strict=True)],
         t("col_difference"): c.column(pairs["difference"], points),
         t("col_interval", pct=_pct(result.interval)): c.intervals(pairs["low"], pairs["high"],
                                                                   points),
         t("col_p_holm"): [_p_text(c, p) for p in pairs["p_holm"]],
         t("col_differs"): [t("word_yes") if p < 0.05 else t("word_no")
                            for p in pairs["p_holm"]]}
    )  # fmt: skip
    block.tables.append(Table("", frame, tuple(frame.columns[2:5])))
    sheets.append(("Concept differences", pairs, block.notes[0]))
    return block


def _order_block(result: ConceptResults, c: Cells, sheets: list[Any]) -> PageBlock:
    t = c.t
    block = PageBlock(t("h_order"))
    order = result.order
    if order is None or order.empty:
        block.empty = t("cp_no_order")
        return block
    block.notes.append(t("cp_order_note"))
    data: dict[str, list[str]] = {
        t("col_question"): [t(f"q_{q}") for q in dict.fromkeys(order["question"])]
    }
    for position, part in order.groupby("position", sort=True):
        data[t("col_top2_at", position=int(position))] = c.column(part["share"], c.percent)
    data[t("col_p")] = [
        _p_text(c, p) if pd.notna(p) else "" for p in order.groupby("question", sort=False)
        ["p_value"].first()
    ]  # fmt: skip
    frame = pd.DataFrame(data)
    block.tables.append(Table("", frame, tuple(frame.columns[1:])))
    sheets.append(("Concept order effects", order, t("cp_order_note")))
    return block


def _take_up_block(result: ConceptResults, names: dict[str, str], c: Cells) -> PageBlock:
    t = c.t
    block = PageBlock(t("h_take_up"))
    intent = result.intent.dropna()
    if intent.empty:
        block.empty = t("cp_no_pairs")
        return block
    block.notes.append(t("cp_take_up_note"))
    frame = pd.DataFrame(
        {t("col_concept"): [names[k] for k in intent.index],
         t("col_take_up"): c.column(intent, c.percent)}
    )  # fmt: skip
    block.tables.append(Table("", frame, (t("col_take_up"),)))
    return block


def _open_block(
    result: ConceptResults, names: dict[str, str], c: Cells, sheets: list[Any]
) -> PageBlock:
    t = c.t
    block = PageBlock(t("h_open_answers"))
    texts = result.open_answers
    if texts.empty:
        block.empty = t("cp_no_open")
        return block
    shown = int(texts.groupby("concept").size().max())
    block.notes.append(t("cp_open_note", k=shown))
    for concept in result.concepts:
        mine = texts[texts["concept"] == concept]
        count = int(result.open_counts.get(concept, 0))
        title = t("cp_open_count", concept=names[concept], n=t.number(count))
        if mine.empty:
            block.lines.append(title)
            continue
        frame = pd.DataFrame(
            {t("col_answer_times"): [f"{c.whole(n)}× {text}" for text, n in
                                     zip(mine["text"].astype(str), mine["n"], strict=True)]}
        )  # fmt: skip
        block.tables.append(Table(title, frame, ()))
    sheets.append(("Concept open answers", texts.assign(concept=texts["concept"].map(names)), ""))
    return block


# -- the PDF and the workbook ---------------------------------------------------------------


class _Flow(Protocol):
    def heading(self, text: str, size: float = ...) -> None: ...
    def subheading(self, text: str) -> None: ...
    def paragraph(self, text: str, **style: Any) -> None: ...
    def figure(self, png: bytes, caption: str) -> None: ...
    def table(self, table: Table | None) -> None: ...


def write_pages(
    flow: _Flow, pages: list[ExtraPage], figures: dict[str, bytes], captions: dict[str, str],
    grey: str,
) -> None:  # fmt: skip
    """The pages into the PDF's flow, in the order of the HTML page."""
    for page in pages:
        flow.heading(page.title)
        if page.empty:
            flow.paragraph(page.empty, color=grey)
            continue
        for block in page.blocks:
            flow.subheading(block.heading)
            if block.empty:
                flow.paragraph(block.empty, color=grey)
                continue
            for line in block.lines:
                flow.paragraph(line, gap=0.05)
            if block.figure in figures:
                flow.figure(figures[block.figure], captions.get(block.figure, ""))
            for note in block.notes:
                flow.paragraph(note, size=8.5, color=grey)
            for table in block.tables:
                flow.table(table)


def page_sheets(pages: list[ExtraPage]) -> list[tuple[str, pd.DataFrame, str]]:
    """The Excel sheets of the pages (name, numbers, note); the writer neutralises text."""
    return [sheet for page in pages for sheet in page.sheets]

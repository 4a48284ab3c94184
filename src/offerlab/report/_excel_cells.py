"""The workbook's cells in a business-unit reader's words: what decide's tables hold as codes
(an alternative's kind, a latent class's number, yes/no flags, the none alternative) turned
into the report language's words, and the number formats of money and share columns.

The numbers stay numbers (a reader sums and charts them); only their display changes: money
in the study's currency (``CHF 1,234.50`` in Excel's own separators), shares as percent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from offerlab.decide import KANO_CATEGORIES
from offerlab.report._content import ReportContent
from offerlab.report._texts import ReportTexts, report_catalogue

__all__ = ["SheetFrame", "readable"]

#: Library columns holding money (with their ``_lower``/``_upper`` bounds).
_MONEY = {"price", "revenue", "cost", "margin", "profit", "wtp", "ours_revenue", "ours_profit"}
#: Library columns holding a share of people (0..1).
_SHARES = {
    "share", "reach", "added_reach", "best_share", "worst_share", "p_best", "important",
    "observed", "predicted", "class_share",
}  # fmt: skip
#: The bound suffixes a column of the sets above may carry.
_BOUNDS = ("_lower", "_upper", "_low", "_high")
#: decide's kinds of alternative -> the catalogue key of its word.
_KINDS = {"offer": "xl_kind_offer", "status_quo": "xl_kind_status_quo", "none": "xl_kind_none"}
#: How decide's population names a latent class.
_DECIDE_CLASS = re.compile(r"class (\d+)")


@dataclass
class SheetFrame:
    """A sheet's table in the reader's words and each column's number format (by position)."""

    frame: pd.DataFrame | None
    formats: dict[int, str] = field(default_factory=dict)


def _stem(name: str) -> str:
    for end in _BOUNDS:
        if name.endswith(end):
            return name.removesuffix(end)
    return name


def _format(name: str, frame: pd.DataFrame, content: ReportContent, money_objective: bool) -> str:
    stem = _stem(name)
    money = f'"{content.currency}" #,##0.00'
    if stem in _MONEY:
        return money
    if stem in _SHARES:
        return "0.0%"
    if stem in ("lower", "upper", "low", "high"):  # the bounds of the frame's main measure
        if "share" in frame.columns or "difference" in frame.columns:
            return "0.0%"
        if "wtp" in frame.columns:
            return money
    if stem in ("expected", "pessimistic", "lower", "upper"):
        return money if money_objective else "0.0%"
    if stem == "difference":
        return "0.0%"
    return ""


def _class_word(value: object, t: ReportTexts) -> object:
    found = _DECIDE_CLASS.fullmatch(str(value))
    return t("class_n", c=int(found[1])) if found else value


def _study_words(content: ReportContent) -> dict[str, str]:
    """The study's MaxDiff items, Kano features and concepts: code -> words."""
    from offerlab.study import ConceptTestPage, KanoPage, MaxDiffPage

    study, language = content.study, content.language
    pages = study.questionnaire.pages if study.questionnaire is not None else []
    words: dict[str, str] = {}
    for page in pages:
        if isinstance(page, MaxDiffPage):
            words |= {i.name: study.text(i.label, language) for i in page.items}
        elif isinstance(page, KanoPage):
            words |= {f.name: study.text(f.label, language) for f in page.features}
        elif isinstance(page, ConceptTestPage):
            words |= {c.name: study.text(c.title, language) for c in page.concepts}
    return words


def _page_words(out: pd.DataFrame, content: ReportContent) -> pd.DataFrame:
    """The needs and concept pages' sheets in words: a row named by its ``label`` (the
    study's words) rather than the ``item``/``feature`` code beside it, a bundle's items,
    the concepts, the concept questions and the Kano categories by their words."""
    t = content.t
    if "label" in out.columns:
        out = out.drop(columns=[c for c in ("item", "feature") if c in out.columns])
        out = out[["label", *[c for c in out.columns if c != "label"]]]
    words = _study_words(content)
    if "items" in out.columns:  # a TURF bundle: its items' codes joined by ", "
        out["items"] = [
            ", ".join(words.get(i, i) for i in (v if isinstance(v, list) else str(v).split(", ")))
            for v in out["items"]
        ]
    for column in ("concept", "concept_a", "concept_b"):
        if column in out.columns:
            out[column] = [words.get(str(v), v) for v in out[column]]
    catalogue = report_catalogue()
    if "question" in out.columns:
        out["question"] = [t(f"q_{v}") if f"q_{v}" in catalogue else v for v in out["question"]]
    if "category" in out.columns:
        out["category"] = [t(f"kano_{v}") if v in KANO_CATEGORIES else v for v in out["category"]]
    return out


def _none_label(content: ReportContent) -> str | None:
    study = content.study
    none = getattr(getattr(study, "tasks", None), "none", None)
    return study.text(none.label, content.language) if none is not None else None


def readable(frame: pd.DataFrame | None, content: ReportContent) -> SheetFrame:
    """``frame`` (decide's library columns) with words for its codes and the number formats
    of its money and share columns; the headings are still the library's names."""
    if frame is None or frame.empty:
        return SheetFrame(frame)
    t = content.t
    out = _page_words(frame.copy(), content)
    if isinstance(out.index, pd.Index) and out.index.name == "class":  # latent class sizes
        out = out.reset_index()
    if "class" in out.columns:
        out["class"] = [t("class_n", c=c) for c in out["class"]]
        out = out.rename(columns={"class": "segment"})
    elif "segment" in out.columns:  # decide names a latent class "class 2"
        out["segment"] = [_class_word(v, t) for v in out["segment"]]
    if "kind" in out.columns:
        kinds = out["kind"].astype(str)
        if "alternative" in out.columns and (none := _none_label(content)) is not None:
            out["alternative"] = [
                none if k == "none" else a for a, k in zip(out["alternative"], kinds, strict=True)
            ]
        out["kind"] = [t(_KINDS[k]) if k in _KINDS else k for k in kinds]
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = [t("word_yes") if v else t("word_no") for v in out[column]]
    money_objective = content.objective not in (None, "", "share")
    formats = {
        j: f
        for j, name in enumerate(out.columns)
        if (f := _format(str(name), out, content, money_objective))
    }
    return SheetFrame(out, formats)

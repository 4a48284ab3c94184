"""What the console shows people rather than programs: study labels, local dates, numbers.

* :class:`StudyLabels`: a quota, its options and the survey's pages by the study's own
  labels in the page's language (``35–54 anni``, not ``age_35_54``; the question, not
  ``car_now``; "Choice task 3", not ``tasks.3``).
* :func:`format_when`, :func:`format_number`: dates and numbers as each language writes
  them in Switzerland (de ``06.12.2026 14:05 CET``, fr/it ``06/12/2026 14:05 CET``;
  ``4.5`` and ``4,5``), in the console's time zone.
* :func:`readable_table`: a download with human columns beside the machine ones.

Downloads keep their machine columns unchanged in meaning, so that scripts and
``offerlab estimate`` read them as before; a timestamp becomes ISO 8601 in UTC
(``2026-12-06T14:05:12Z``: unambiguous, sorted as text, read by pandas, R and every
database) instead of seconds since 1970, and a column in the page's language and local
format is added for the people who open the file in a spreadsheet (``started`` beside
``started_at``, ``question`` beside ``page``, ``value_label`` beside ``value``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from offerlab.field._console_texts import ConsoleTexts
from offerlab.field._dashboard import console_zone
from offerlab.study import Study, one_line

__all__ = [
    "CONSOLE_ZONE",
    "StudyLabels",
    "format_number",
    "format_when",
    "invitations_table",
    "iso_utc",
    "readable_table",
]

#: The console shows times in the team's zone, the dashboard's (``OFFERLAB_TIMEZONE``,
#: else Europe/Zurich), named next to every time ("CET", "CEST"); downloads keep UTC in
#: their ISO columns.
CONSOLE_ZONE = "OFFERLAB_TIMEZONE"

_DATE_SHAPES = {
    "de": "%d.%m.%Y %H:%M",
    "fr": "%d/%m/%Y %H:%M",
    "it": "%d/%m/%Y %H:%M",
    "en": "%Y-%m-%d %H:%M",  # English readers differ on day/month order: ISO is read by all
}
# Swiss usage (CLDR de-CH, fr-CH, it-CH): group and decimal separators.
_SEPARATORS = {"de": ("’", "."), "fr": ("\u202f", ","), "it": ("’", "."), "en": (",", ".")}
_SHORT = 80


def format_when(at: float | None, language: str, seconds: bool = False) -> str:
    """A moment as the language writes it, with its zone (``–`` for none)."""
    if at is None:
        return "–"
    shape = _DATE_SHAPES.get(language, _DATE_SHAPES["en"]) + (":%S" if seconds else "")
    return datetime.fromtimestamp(float(at), console_zone()).strftime(shape + " %Z")


def iso_utc(at: float | None) -> str:
    """A moment in ISO 8601, UTC, to the second (empty for none): for machines."""
    if at is None or pd.isna(at):
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(at)))


def format_number(value: float | int | None, language: str, decimals: int = 1) -> str:
    """A number with the language's separators; whole numbers without decimals."""
    if value is None:
        return "–"
    group, point = _SEPARATORS.get(language, _SEPARATORS["en"])
    whole = float(value).is_integer()
    text = f"{value:,.0f}" if whole else f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", point).replace("\0", group)


def _kind(page: Any) -> str:
    """A questionnaire page's type (``single``, ``choice_tasks`` …; empty for none)."""
    return str(getattr(page, "type", ""))


def _short(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= _SHORT else text[: _SHORT - 1].rstrip() + "…"


class StudyLabels:
    """The study's own labels for what the console shows, in one language."""

    def __init__(self, study: Study, language: str) -> None:
        self.study = study
        self.language = language
        self.t = ConsoleTexts(language)
        self.questionnaire = study.questionnaire

    def _page(self, page_id: str) -> Any:
        if self.questionnaire is None:
            return None
        try:
            return self.questionnaire.page(page_id)
        except KeyError:
            return None

    def question(self, page_id: str) -> str:
        """A page's question (shortened), or its id if the study has no such page."""
        page = self._page(page_id)
        return _short(self.study.text(page.text, self.language)) if page is not None else page_id

    def page(self, key: str) -> str:
        """A respondent's place in the survey, e.g. ``tasks.3`` → "Choice task 3"."""
        page_id, _, rest = key.partition(".")
        page = self._page(page_id)
        if _kind(page) == "choice_tasks" and rest.isdigit():
            return self.t("page_task", n=int(rest))
        if _kind(page) == "gabor_granger" and rest.isdigit():
            return self.t("page_at_price", question=self.question(page_id), price=self.money(rest))
        if _kind(page) == "van_westendorp" and rest == "nms":
            return self.t("page_likelihood", question=self.question(page_id))
        return self.question(page_id)

    def quota(self, name: str) -> str:
        """A quota by the question it counts."""
        for quota in self.questionnaire.quotas if self.questionnaire else []:
            if quota.name == name:
                return self.question(quota.question)
        return name

    def option(self, quota_or_page: str, option: str) -> str:
        """An option of a quota's (or a page's) question by its label."""
        page_id = quota_or_page
        for quota in self.questionnaire.quotas if self.questionnaire else []:
            if quota.name == quota_or_page:
                page_id = quota.question
        page = self._page(page_id)
        if _kind(page) in ("single", "multi"):
            for choice in page.options:
                if choice.name == option:
                    return self.study.text(choice.label, self.language)
        return option

    def money(self, value: Any) -> str:
        """A price as the study writes its prices (currency, the language's separators)."""
        try:
            amount = float(value)
        except (TypeError, ValueError):
            return str(value)
        price = self.study.price_attribute
        currency = price.currency if price is not None else ""
        return f"{currency}\u00a0{format_number(amount, self.language, 2)}".strip()

    def value(self, page_id: str, item: str, value: str) -> str:
        """An answer as the respondent saw it: an option's label, a price, a rating."""
        page = self._page(page_id)
        if _kind(page) in ("single", "multi"):
            if item and not item.startswith("open:"):
                return self.option(page_id, item)  # a multi question: one row per option
            if not item:
                return self.option(page_id, value)
            return value
        if _kind(page) == "van_westendorp" and item in _PRICE_ITEMS:
            return self.money(value)
        if _kind(page) == "gabor_granger" and item in _PRICE_ITEMS:
            return self.money(value)
        return value


_PRICE_ITEMS = {"too_cheap", "cheap", "expensive", "too_expensive", "price"}


def readable_table(what: str, frame: pd.DataFrame, labels: StudyLabels) -> pd.DataFrame:
    """A download with ISO times and human columns beside the machine ones (see above)."""
    maker: Callable[[pd.DataFrame, StudyLabels], pd.DataFrame] | None = {
        "respondents.csv": _readable_respondents,
        "answers.csv": _readable_answers,
    }.get(what)
    return maker(frame, labels) if maker is not None else frame


def _readable_respondents(frame: pd.DataFrame, labels: StudyLabels) -> pd.DataFrame:
    out = frame.copy()
    t, lang = labels.t, labels.language
    for column, human in (("started_at", "started"), ("finished_at", "finished")):
        if column in out:
            moments = frame[column]
            out[column] = [iso_utc(at) for at in moments]
            out.insert(
                int(out.columns.get_loc(column)) + 1,
                human,
                ["" if pd.isna(at) else format_when(at, lang) for at in moments],
            )
    if "status" in out:
        states = [
            t(f"respondent_{s}") if f"respondent_{s}" in _STATUS else s for s in out["status"]
        ]
        out.insert(int(out.columns.get_loc("status")) + 1, "status_label", states)
    if "seconds" in out:
        out["seconds"] = out["seconds"].round(1)
    return out


_STATUS = {f"respondent_{s}" for s in ("active", "complete", "screenout", "overquota")}


def _readable_answers(frame: pd.DataFrame, labels: StudyLabels) -> pd.DataFrame:
    out = frame.copy()
    out.insert(2, "question", [labels.page(p) for p in frame["page"]])
    out.insert(
        len(out.columns) - 1,
        "value_label",
        [
            labels.value(p.partition(".")[0], i, v)
            for p, i, v in zip(frame["page"], frame["item"], frame["value"], strict=True)
        ],
    )
    return out


def invitations_table(rows: list[Any], base_url: str, labels: StudyLabels) -> pd.DataFrame:
    """Personal invitation links: link, token, when made (ISO and local), used or not."""
    base = base_url.rstrip("/")
    return pd.DataFrame(
        [
            {
                "link": f"{base}/i/{row.token}",
                "token": row.token,
                "created_at": iso_utc(row.created_at),
                "created": format_when(row.created_at, labels.language),
                "used": int(bool(row.used)),
            }
            for row in rows
        ],
        columns=["link", "token", "created_at", "created", "used"],
    )

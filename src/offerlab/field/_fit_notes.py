"""The notes above a console simulator, in the reader's language.

A simulator is fitted once, in a background task, and read later by people of any of the
study's languages. :func:`fit_notes_record` keeps, with the stored page data, what the
fit warned of (each warning's ``reason`` and ``fields``, with its English text) and the
market file's offers that leave what the survey studied (:func:`offer_cautions`).
:func:`fit_notes_view` words them for the reader: a known reason with the console's own
sentence and the study's labels, anything else as the library's English text under a
translated lead. An HB fit's convergence is not among the notes: the page's diagnostics
say it (see :mod:`offerlab.field._hb_view`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from offerlab.exceptions import ConvergenceWarning, OfferlabWarning
from offerlab.field._console_texts import ConsoleTexts, console_catalogue
from offerlab.simulate import OfferCaution
from offerlab.study import Study

__all__ = ["fit_notes_record", "fit_notes_view"]

#: The key under which a simulator's page data keeps its notes.
KEY = "notes"
_WORDED = "sim_note_"  # + reason: the console's sentence for that reason


def fit_notes_record(
    caught: Iterable[warnings.WarningMessage],
    cautions: Iterable[OfferCaution],
    *,
    shows_convergence: bool,
) -> list[dict[str, Any]]:
    """The fit's warnings and the offers' cautions as plain JSON data, each once."""
    notes: dict[str, dict[str, Any]] = {}
    for caught_warning in caught:
        warning = caught_warning.message
        if not isinstance(warning, OfferlabWarning):
            continue
        if shows_convergence and isinstance(warning, ConvergenceWarning):
            continue
        reason = warning.reason or "other"
        notes.setdefault(str(warning), _note(reason, str(warning), warning.fields))
    for caution in cautions:
        fields = {"offer": caution.offer, "attribute": caution.attribute, "value": caution.value,
                  "low": caution.low, "high": caution.high,
                  "levels": [list(pair) for pair in caution.levels]}  # fmt: skip
        notes.setdefault(caution.message, _note(caution.reason, caution.message, fields))
    return list(notes.values())


def _note(reason: str, text: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": reason, "text": text, "fields": dict(fields)}


def fit_notes_view(
    payload: str | dict[str, Any] | None, english: str, t: ConsoleTexts, study: Study
) -> list[str]:
    """The notes in the reader's words, from the stored page data (JSON text, or already
    read). A simulator stored before notes were kept has only its ``english`` text: it is
    shown under the translated lead."""
    data = json.loads(payload) if isinstance(payload, str) and payload else payload
    notes = data.get(KEY) if isinstance(data, dict) else None
    if not isinstance(notes, list):
        return [t("sim_note_other", text=english)] if english else []
    return [_worded(note, t, study) for note in notes if isinstance(note, dict)]


def _worded(note: Mapping[str, Any], t: ConsoleTexts, study: Study) -> str:
    key = _WORDED + str(note.get("reason"))
    fields = note.get("fields") if isinstance(note.get("fields"), dict) else {}
    if key != _WORDED + "other" and key in console_catalogue():
        try:
            return t(key, **_labelled(fields, study, t))
        except (KeyError, ValueError, TypeError):  # a field the sentence needs is missing
            pass
    return t("sim_note_other", text=str(note.get("text", "")))


def _labelled(fields: Mapping[str, Any], study: Study, t: ConsoleTexts) -> dict[str, Any]:
    """The note's fields as the reader reads them: the study's labels, prices as prices."""
    language, shown = t.language, dict(fields)
    attribute = fields.get("attribute")
    if attribute:
        label = study.attribute(attribute).label
        shown["attribute"] = study.text(label, language)
        for name in ("value", "low", "high"):
            shown[name] = study.value_label(attribute, float(fields[name]), language)
    if fields.get("levels"):
        shown["levels"] = ", ".join(
            t("labelled", label=study.text(study.attribute(a).label, language),
              value=study.level_label(a, study.level_index(a, _level(level)), language))
            for a, level in fields["levels"]
        )  # fmt: skip
    return shown


def _level(name: str) -> str | float:
    """A prohibited rule's level as the study names it: a number for numeric attributes."""
    try:
        return float(name)
    except ValueError:
        return name

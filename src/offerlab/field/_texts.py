"""The survey's own words (buttons, hints, error messages) in the four languages.

They live in ``field/data/survey_texts.yaml`` (key → de, fr, it, en), as the console's
live in ``field/data/console_texts/``: translators edit a data file, not code.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from offerlab.study import parse_yaml, typeset

__all__ = ["LANGUAGE_NAMES", "ui"]

LANGUAGE_NAMES = {"de": "Deutsch", "fr": "Français", "it": "Italiano", "en": "English"}


@cache
def _texts() -> dict[str, dict[str, str]]:
    """Every survey text, key → language → text, read once from the package and typeset."""
    entry = resources.files("offerlab.field") / "data" / "survey_texts.yaml"
    texts = parse_yaml(entry.read_text(encoding="utf-8"), entry.name).data or {}
    for key, translations in texts.items():
        missing = [code for code in LANGUAGE_NAMES if not translations.get(code)]
        if missing:
            raise ValueError(f"{entry.name}: {key}: no text in {', '.join(missing)}")
        texts[key] = {code: typeset(str(text), code) for code, text in translations.items()}
    return texts


def ui(key: str, language: str, **values: object) -> str:
    """One of the survey's own texts in ``language``, with ``{placeholders}`` filled."""
    entry = _texts()[key]
    return entry.get(language, entry["en"]).format(**values)

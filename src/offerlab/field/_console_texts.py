"""The console's own words in German, French, Italian and English.

Each area of the console keeps its strings in one YAML file under
``field/data/console_texts/`` (``console.yaml``, ``team.yaml``, ``dashboard.yaml``,
``simulator.yaml`` …): a mapping from a key to its four translations. Keeping one file
per area lets translators work on an area at a time; a key may live in one file only.
Placeholders use :meth:`str.format` names (``{n}``, ``{name}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources

from offerlab.study import parse_yaml

__all__ = ["CONSOLE_LANGUAGES", "ConsoleTexts", "console_catalogue", "console_language"]

CONSOLE_LANGUAGES = ("de", "fr", "it", "en")
LANGUAGE_COOKIE = "offerlab_console_lang"


@cache
def console_catalogue() -> dict[str, dict[str, str]]:
    """Every console string, key → language → text, read once from the package."""
    catalogue: dict[str, dict[str, str]] = {}
    folder = resources.files("offerlab.field") / "data" / "console_texts"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = parse_yaml(entry.read_text(encoding="utf-8"), entry.name).data or {}
        for key, texts in data.items():
            if key in catalogue:
                raise ValueError(f"{entry.name}: console text {key!r} is defined twice")
            missing = [code for code in CONSOLE_LANGUAGES if not texts.get(code)]
            if missing:
                raise ValueError(f"{entry.name}: {key}: no text in {', '.join(missing)}")
            catalogue[key] = {code: str(texts[code]) for code in CONSOLE_LANGUAGES}
    return catalogue


class ConsoleTexts:
    """The catalogue in one language; templates call it as ``t("key", n=3)``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in CONSOLE_LANGUAGES else "en"

    def __call__(self, key: str, **values: object) -> str:
        text = console_catalogue()[key][self.language]
        return text.format(**values) if values else text


def console_language(
    query: Mapping[str, str],
    cookies: Mapping[str, str],
    accept_language: str,
    preferred: str | None,
) -> str:
    """The language a console page is shown in.

    An explicit switch (``?lang=``) wins, then the member's saved choice, then the
    switch's cookie, then the browser's ``Accept-Language``; English last.
    """
    for asked in (query.get("lang"), preferred, cookies.get(LANGUAGE_COOKIE)):
        if asked in CONSOLE_LANGUAGES:
            return asked
    for part in accept_language.split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in CONSOLE_LANGUAGES:
            return code
    return "en"

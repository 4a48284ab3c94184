"""The console's own words in German, French, Italian and English.

Each area of the console keeps its strings in one YAML file under
``field/data/console_texts/`` (``console.yaml``, ``team.yaml``, ``dashboard.yaml``,
``simulator.yaml`` …): a mapping from a key to its four translations. Keeping one file
per area lets translators work on an area at a time; a key may live in one file only.
Placeholders use :meth:`str.format` names (``{n}``, ``{name}``).

The market simulator's script is the report's (report/templates/_simulator.js) and so are
its words: every ``sim_js_*`` key comes from the report's catalogue, one source for the
report's offline simulator and the console's.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from offerlab.study import parse_yaml, typeset

__all__ = [
    "CONSOLE_LANGUAGES",
    "ConsoleTexts",
    "Message",
    "console_catalogue",
    "console_language",
]

CONSOLE_LANGUAGES = ("de", "fr", "it", "en")
LANGUAGE_COOKIE = "offerlab_console_lang"
#: The keys the console takes from the report's catalogue: the simulator script's words.
SIMULATOR_SCRIPT_KEYS = "sim_js_"


@cache
def console_catalogue() -> dict[str, dict[str, str]]:
    """Every console string, key → language → text, read once from the package and typeset."""
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
            catalogue[key] = {code: typeset(str(texts[code]), code) for code in CONSOLE_LANGUAGES}
    from offerlab.report import report_catalogue

    for key, texts in report_catalogue().items():
        if key.startswith(SIMULATOR_SCRIPT_KEYS):
            if key in catalogue:
                raise ValueError(f"console text {key!r} is the report's simulator word")
            catalogue[key] = {code: texts.get(code) or texts["en"] for code in CONSOLE_LANGUAGES}
    return catalogue


class Message(str):
    """A message the console's Python code produces (an error, a confirmation): a catalogue
    key and its values, shown in the page's language by ``t(message)``. As a ``str`` it is
    the English text (logs, the command line, exceptions). A value may itself be a
    Message (a duration, a role), translated with it.
    """

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, **values: Any) -> Message:
        message = super().__new__(cls, ConsoleTexts("en")(key, **values))
        message.key, message.values = key, values
        return message

    def __reduce__(self) -> tuple[Any, ...]:  # str's own would lose the key
        return (_message, (self.key, self.values))


def _message(key: str, values: dict[str, Any]) -> Message:
    return Message(key, **values)


class ConsoleTexts:
    """The catalogue in one language; templates call it as ``t("key", n=3)`` or ``t(message)``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in CONSOLE_LANGUAGES else "en"

    def __call__(self, key: str | Message, **values: object) -> str:
        if isinstance(key, Message):
            key, values = key.key, {**key.values, **values}
        text = console_catalogue()[key][self.language]
        if not values:
            return text
        shown = {k: self(v) if isinstance(v, Message) else v for k, v in values.items()}
        return text.format(**shown)


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

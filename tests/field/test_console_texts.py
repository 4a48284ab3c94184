"""The console's catalogue: every key in four languages, the language a page is shown in."""

from __future__ import annotations

import pytest

from offerlab.field._console_texts import (
    CONSOLE_LANGUAGES,
    ConsoleTexts,
    console_catalogue,
    console_language,
)


def test_every_console_text_has_all_four_languages() -> None:
    catalogue = console_catalogue()
    assert catalogue
    for key, texts in catalogue.items():
        assert set(texts) == set(CONSOLE_LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key


def test_texts_fill_their_placeholders_and_fall_back_to_english() -> None:
    assert ConsoleTexts("fr")("console_title") == "Console offerlab"
    assert ConsoleTexts("xx").language == "en"


@pytest.mark.parametrize(
    ("query", "cookies", "accept", "preferred", "expected"),
    [
        ({"lang": "it"}, {"offerlab_console_lang": "fr"}, "de", "de", "it"),
        ({}, {"offerlab_console_lang": "fr"}, "de", "en", "en"),
        ({}, {"offerlab_console_lang": "fr"}, "de", None, "fr"),
        ({"lang": "<x>"}, {}, "fr-CH,fr;q=0.9,en;q=0.8", None, "fr"),
        ({}, {}, "es-ES,pt", None, "en"),
    ],
)
def test_console_language_prefers_switch_then_member_then_cookie_then_browser(
    query: dict[str, str],
    cookies: dict[str, str],
    accept: str,
    preferred: str | None,
    expected: str,
) -> None:
    assert console_language(query, cookies, accept, preferred) == expected


def test_the_simulator_scripts_words_have_one_source_the_reports_catalogue() -> None:
    """The script is the report's (report/templates/_simulator.js): its words live in the
    report's catalogue only, and the console reads them from there."""
    from importlib import resources

    from offerlab.report import report_catalogue

    report = {k: v for k, v in report_catalogue().items() if k.startswith("sim_js_")}
    console = {k: v for k, v in console_catalogue().items() if k.startswith("sim_js_")}
    assert len(report) >= 25 and console == report
    folder = resources.files("offerlab.field") / "data" / "console_texts"
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            text = entry.read_text(encoding="utf-8")
            assert "\nsim_js_" not in text and not text.startswith("sim_js_"), entry.name

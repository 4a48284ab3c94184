"""French spacing: the signs that take a space before them keep it on their word's line.

A phone that breaks "Quel âge avez-vous ?" after "vous" puts the "?" alone on the next
line; French typesetting writes that space as a no-break one. offerlab's catalogues and
the study's labels are typed with ordinary spaces and typeset where they are read.
"""

from __future__ import annotations

import pytest
from _french_spacing import breakable_french_spaces

from offerlab.field._console_texts import console_catalogue
from offerlab.field._texts import _texts as survey_texts
from offerlab.field._texts import ui
from offerlab.report import report_catalogue
from offerlab.study import example_path, load_study, one_line, typeset

NBSP, NNBSP = "\u00a0", "\u202f"


def test_french_spaces_before_high_signs_and_inside_guillemets_do_not_break() -> None:
    assert typeset("Prix : « {offer} »", "fr") == f"Prix{NBSP}: «{NBSP}{{offer}}{NBSP}»"
    assert typeset("Quel âge avez-vous ?", "fr") == f"Quel âge avez-vous{NNBSP}?"
    assert typeset("a ; b ! 10 %", "fr") == f"a{NNBSP}; b{NNBSP}! 10{NNBSP}%"
    assert typeset("Niveau {i}  : ", "fr") == f"Niveau {{i}}{NBSP}: "  # one space, kept whole


@pytest.mark.parametrize("text", ["https://a.ch/?x=1", "12:30", "{n:.1f}", "«mot»", "a, b."])
def test_text_without_a_french_space_is_left_as_it_is(text) -> None:
    assert typeset(text, "fr") == text


@pytest.mark.parametrize("language", ["de", "it", "en"])
def test_other_languages_keep_their_spaces(language) -> None:
    assert typeset("Preis : « x » ?", language) == "Preis : « x » ?"


@pytest.mark.parametrize("language", ["de", "fr", "it", "en"])
def test_a_number_keeps_its_unit_and_an_amount_its_currency(language) -> None:
    text = "CHF 990.– / mois, 3 mois, 2500 km"
    assert typeset(text, language) == f"CHF{NBSP}990.– /{NBSP}mois, 3{NBSP}mois, 2500{NBSP}km"
    assert typeset("de 3 à 5 ans, {n} Befragte", language).count(NBSP) == 2  # 3 à, 5 ans


def test_one_line_collapses_breaking_spaces_only() -> None:
    assert one_line(f"  Prix{NBSP}:\n  CHF   590 \t") == f"Prix{NBSP}: CHF 590"
    # the idiom it replaces loses the no-break space
    assert " ".join(f"Prix{NBSP}:".split()) == "Prix :"


def test_every_french_catalogue_text_keeps_its_signs_on_the_line() -> None:
    catalogues = {
        "report": report_catalogue(),
        "console": console_catalogue(),
        "survey": survey_texts(),
    }
    left = {
        f"{name}:{key}": found
        for name, catalogue in catalogues.items()
        for key, texts in catalogue.items()
        if (found := breakable_french_spaces(texts["fr"]))
    }
    assert left == {}
    # and the catalogues do hold such texts: the check is not vacuous
    assert report_catalogue()["h_pricing_offer"]["fr"] == f"Prix{NBSP}: «{NBSP}{{offer}}{NBSP}»"
    assert ui("progress", "fr", percent=40) == f"Progression{NBSP}: 40{NNBSP}%"


def test_the_study_typesets_its_french_labels() -> None:
    study = load_study(example_path("car_subscription"))
    age = {"de": "Wie alt sind Sie?", "fr": "Quel âge avez-vous ?"}
    assert study.text(age, "fr") == f"Quel âge avez-vous{NNBSP}?"
    assert study.text(age, "de") == "Wie alt sind Sie?"  # German as written
    assert study.text(age, "it") == "Wie alt sind Sie?"  # the default language's, unchanged
    # a study written in one language is typeset in its default language
    single = study.model_copy(update={"default_language": "fr"})
    assert single.text("Votre âge ?") == f"Votre âge{NNBSP}?"

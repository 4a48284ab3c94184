"""The notes above the console's simulator, in the reader's language.

A simulator is fitted once and read in any language; what the fit warned of (a latent
class fit that did not converge, shares without intervals …) and the market's offers that
the survey never showed are kept as data and worded for each reader, with the study's
labels. What the console has no sentence for is shown as the library's English text under
a translated lead, never bare."""

from __future__ import annotations

import json
import re
import warnings

import pytest
from _respondent import TINY
from test_browser_simulator_segments import _complete
from test_console import PASSWORD, _csrf, _login, _setup

from offerlab.exceptions import ConvergenceWarning, OfferlabWarning
from offerlab.field._console_texts import ConsoleTexts
from offerlab.field._fit_notes import fit_notes_record, fit_notes_view
from offerlab.simulate import offer_cautions
from offerlab.study import example_path, load_study

# The tiny study, red at the lowest price prohibited (more versions, so that the
# remaining tasks still identify price and colour); its market lists that combination.
PROHIBITED = (
    TINY.read_text(encoding="utf-8")
    .replace("tasks:\n", "prohibitions:\n  - {price: 10, colour: red}\ntasks:\n", 1)
    .replace("versions: 3,", "versions: 12,", 1)
)
MARKET = """offers:
  - {name: Ours, ours: true, price: 10, colour: red}
  - {name: Theirs, price: 20, colour: blue}
none: true
"""


def _caught(*warned: Warning) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for warning in warned:
            warnings.warn(warning, stacklevel=1)
    return caught


def test_the_notes_are_kept_as_data_and_worded_in_the_readers_language() -> None:
    study = load_study(example_path("car_subscription"))
    classes = ConvergenceWarning.because(
        "classes_not_converged", "latent class fit did not converge in 500 steps (best of "
        "5 starts); an empty class or unidentified coefficients are typical causes",
        steps=500, starts=5,
    )  # fmt: skip
    unknown = OfferlabWarning("a new warning nobody has worded yet")
    premium_cheap = {"car_class": "premium", "monthly_price": 390, "term_months": 3}
    cautions = offer_cautions(study, "Premium low", premium_cheap)
    assert [c.reason for c in cautions] == ["prohibited"]
    notes = fit_notes_record(_caught(classes, classes, unknown), cautions, shows_convergence=False)
    assert [n["reason"] for n in notes] == ["classes_not_converged", "other", "prohibited"]
    payload = json.dumps({"notes": notes})

    german = fit_notes_view(payload, "", ConsoleTexts("de"), study)
    assert german[0].startswith("Die Latent-Class-Schätzung hat in 500 Schritten nicht")
    assert german[1] == "Hinweis der Berechnung (auf Englisch): a new warning nobody has worded yet"
    assert german[2].startswith(
        "Angebot «Premium low» kombiniert Fahrzeugklasse: Premium-Limousine, Preis pro Monat: "
        "CHF\u00a0390.– /\u00a0Monat, was die Umfrage nie zeigte"
    )  # the study's labels, not its codes (car_class, premium)

    french = fit_notes_view(payload, "", ConsoleTexts("fr"), study)
    assert "(meilleure de 5 valeurs de départ)" in french[0]
    assert french[1].startswith("Remarque du calcul (en anglais)\u00a0: a new warning")
    assert french[2].startswith(
        "L'offre «\u00a0Premium low\u00a0» combine Catégorie de véhicule\u00a0: Berline premium, "
    )
    assert not any("typical causes" in n or "prohibits" in n for n in german + french)


def test_an_hb_fits_convergence_is_left_to_its_diagnostics() -> None:
    chains = ConvergenceWarning.because("chains_not_converged", "hierarchical Bayes: …")
    shown = fit_notes_record(_caught(chains), [], shows_convergence=True)
    assert shown == []
    assert fit_notes_record(_caught(chains), [], shows_convergence=False)[0]["reason"] == (
        "chains_not_converged"
    )


def test_a_simulator_stored_before_notes_shows_its_english_under_a_lead() -> None:
    study = load_study(example_path("car_subscription"))
    old = fit_notes_view(
        '{"offers": []}', "the lc fit has no finite covariance", ConsoleTexts("fr"), study
    )
    assert old == ["Remarque du calcul (en anglais)\u00a0: the lc fit has no finite covariance"]
    assert fit_notes_view('{"offers": []}', "", ConsoleTexts("fr"), study) == []


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_console_words_a_prohibited_offer_for_its_reader(tmp_path, language) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'notes.db'}", PROHIBITED)
    _complete(fielding, 0, 24, "old")
    from _respondent import client

    analyst = client(fielding)
    analyst.headers["Accept-Language"] = language
    _login(analyst, "analyst@a.ch", PASSWORD)
    sent = analyst.post(
        "/console/studies/tiny/simulator",
        data={"model": "mnl", "market_yaml": MARKET, "csrf": _csrf(analyst)},
    )
    assert sent.status_code == 303
    page = analyst.get("/console/studies/tiny/simulator").text
    notes = re.findall(r'<p class="warn">(.*?)</p>', page, flags=re.S)
    expected = {
        "de": "Angebot «Ours» kombiniert Preis: CHF\u00a010, Farbe: Rot, was die Umfrage nie",
        "fr": "L'offre «\u00a0Ours\u00a0» combine Price\u00a0: CHF\u00a010, Colour\u00a0: Red, ce",
    }[language]
    assert len(notes) == 1 and notes[0].replace("&#39;", "'").startswith(expected), notes
    shown = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)  # the page's own data aside
    assert "prohibits" not in shown

"""The console's needs page for an anchored MaxDiff: the anchor line and, per item, whom it
is important to, with the models' own numbers from the fielded answers."""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from _respondent import Browser, client, open_fielding
from test_console_needs import STUDY, _members, _visible, login

from offerlab.design import make_design
from offerlab.field._bot import read_form
from offerlab.field._console_views import format_number
from offerlab.field._export import maxdiff_data
from offerlab.models import HierarchicalBayes, MaxDiffHB, MaxDiffLogit, maxdiff_answers
from offerlab.study import parse_study

URL = "/console/studies/page_types/needs"
#: Utilities relative to the threshold: three items matter to most people, three do not.
TRUTH = {"flexible": 2.0, "service": 1.2, "cheap": 0.6, "delivery": -0.6, "electric": -1.2,
         "premium": -2.0}  # fmt: skip


def _answer(fielding, seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    person = Browser(client(fielding), seed)
    person.enter(f"/s/{fielding.study.name}")
    for _ in range(30):
        page = read_form(person.html())
        if page is None:
            return
        given: dict[str, dict[str, object]] = {}
        if page.key.startswith("needs."):
            shown = page.radios["best"]
            # the threshold ("-", utility 0) ranked among the items shown, as simulated
            felt = {item: TRUTH[item] + rng.gumbel() for item in shown} | {"-": rng.gumbel()}
            ranked = sorted(felt, key=felt.get)
            anchor = "none" if ranked[-1] == "-" else "all" if ranked[0] == "-" else "some"
            items = [i for i in ranked if i != "-"]
            given[page.key] = {"best": items[-1], "worst": items[0], "anchor": anchor}
        person.answer(given)
        if not person.url.startswith("/r/"):
            return


@pytest.fixture(scope="module")
def anchored(tmp_path_factory):
    text = STUDY.read_text(encoding="utf-8").replace(
        "      per_task: 3\n", "      per_task: 3\n      anchor: {type: dual_response}\n"
    )
    study = parse_study(text, STUDY.name)
    url = f"sqlite:///{tmp_path_factory.mktemp('anchor') / 'a.db'}"
    fielding = open_fielding(url, study, text, make_design(study))
    fielding.set_status("live")
    _members(fielding)
    for seed in range(30):
        _answer(fielding, seed)
    return fielding


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_page_shows_the_anchor_line_and_whom_each_item_is_important_to(
    anchored, language
) -> None:
    page = login(anchored, "analyst@a.ch", language).get(URL)
    assert page.status_code == 200
    text = " ".join(_visible(page.text).split())
    answers = maxdiff_answers(maxdiff_data(anchored), [i.name for i in anchored.study.
                              questionnaire.pages[0].items])  # fmt: skip
    logit = MaxDiffLogit().fit(answers)
    line = format_number(round(logit.anchor_score()[0], 1), language, 1)
    if language == "de":
        assert f"Die Linie bei {line} ist der Anker" in text
        assert "Wichtig für" in text and "über ihrem eigenen Anker liegt" in text
    else:
        assert f"La ligne à {line} est l’ancre" in text
        assert "Important pour" in text
    sampler = HierarchicalBayes(burn_in=300, draws=300, chains=1, keep_draws=20, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shares = MaxDiffHB(sampler).fit(answers).above_threshold()
    cells = re.findall(r'<td class="num important"[^>]*>([^<]+)</td>', page.text)
    assert len(cells) == 6
    # the first row is the best-scoring item: "flexible", important to most people
    order = logit.scores()["score"].sort_values(ascending=False).index
    share = shares.loc[order[0]]
    percent = lambda v: format_number(round(100 * v), language, 0) + "\u00a0%"  # noqa: E731
    assert cells[0] == (
        f"{percent(share['share'])} ({percent(share['low'])} – {percent(share['high'])})"
    )
    assert shares.loc["flexible", "share"] > 0.7 > 0.3 > shares.loc["premium", "share"]
    # TURF counts the items above each person's own threshold
    assert "über ihrem eigenen Anker liegt (es ist ihr überhaupt wichtig" in text or (
        language == "fr" and "au-dessus de sa propre ancre" in text
    )


def test_the_page_shown_again_on_the_same_answers_does_not_refit(anchored, monkeypatch) -> None:
    """The short HB run costs seconds: a reload on unchanged answers reuses it (the run is
    seeded, so the page is the same), a new answer refits."""
    fits = []
    real_fit = MaxDiffHB.fit

    def counted(self, answers):
        fits.append(len(answers.respondents))
        return real_fit(self, answers)

    monkeypatch.setattr("offerlab.field._needs_page._FITS", OrderedDict())
    monkeypatch.setattr(MaxDiffHB, "fit", counted)
    analyst = login(anchored, "analyst@a.ch", "de")
    first = _visible(analyst.get(URL).text)
    again = _visible(analyst.get(URL).text)
    assert "Wichtig für" in first and again == first
    assert len(fits) == 1
    _answer(anchored, 99)
    analyst.get(URL)
    assert fits == [fits[0], fits[0] + 1]

"""The console's needs-and-concepts page: MaxDiff, TURF, Kano and concept tests, live.

People answer the small study with all three page types through the real web flow;
their MaxDiff picks follow known utilities (with noise), their purchase intent favours
one concept, and one writes HTML into the open question. The page must show the models'
own numbers under the study's labels, in the reader's language, to the people who may
read the study, and answer bad query strings with a 400 page.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from _accounts import one_hash_per_password
from _respondent import Browser, client, open_fielding
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from offerlab.decide import compare_concepts, top_box
from offerlab.design import make_design
from offerlab.field import _auth
from offerlab.field._bot import read_form
from offerlab.field._console_views import format_number
from offerlab.field._export import concept_ratings, maxdiff_data
from offerlab.models import MaxDiffLogit, maxdiff_answers
from offerlab.store import StudyRow, StudyShare, User, Venture
from offerlab.study import parse_study

STUDY = Path(__file__).parent / "page_types_study.yaml"
PASSWORD = "correct horse battery staple"
PEOPLE = 24
#: Utilities behind the MaxDiff picks: "flexible" matters most, "premium" least.
TRUTH = {"flexible": 2.0, "service": 1.3, "cheap": 0.9, "delivery": 0.3, "electric": 0.0,
         "premium": -0.8}  # fmt: skip
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
URL = "/console/studies/page_types/needs"


def _members(fielding) -> None:
    with Session(fielding.engine) as s, s.begin(), one_hash_per_password():
        for email, venture, role in [
            ("owner@a.ch", "A", "owner"),
            ("analyst@a.ch", "A", "analyst"),
            ("viewer@a.ch", "A", "viewer"),
            ("unshared@a.ch", "A", "viewer"),
            ("owner@b.ch", "B", "owner"),
        ]:
            _auth.add_member(s, venture, email, role, PASSWORD)
        a = s.execute(select(Venture.id).where(Venture.name == "A")).scalar_one()
        s.get_one(StudyRow, fielding.study_id).venture_id = a
        viewer = s.execute(select(User.id).where(User.email == "viewer@a.ch")).scalar_one()
        s.add(StudyShare(study_id=fielding.study_id, user_id=viewer))


def _fielding(url: str):
    text = STUDY.read_text(encoding="utf-8")
    study = parse_study(text, STUDY.name)
    fielding = open_fielding(url, study, text, make_design(study))
    fielding.set_status("live")
    _members(fielding)
    return fielding


def answer_as_person(fielding, seed: int) -> None:
    """One person through the survey: MaxDiff by TRUTH plus Gumbel noise, purchase intent
    5 for "flex" and for "trial" 4 (every fourth person) or 2, an open answer with HTML."""
    rng = np.random.default_rng(100 + seed)
    person = Browser(client(fielding), seed)
    person.enter(f"/s/{fielding.study.name}")
    for _ in range(30):
        html = person.html()
        page = read_form(html)
        if page is None:
            return
        given: dict[str, dict[str, object]] = {}
        if page.key.startswith("needs."):
            shown = page.radios["best"]
            noisy = {item: TRUTH[item] + rng.gumbel() for item in shown}
            given[page.key] = {
                "best": max(shown, key=noisy.get),
                "worst": min(shown, key=noisy.get),
            }
        elif page.key.startswith("offers."):
            trial = "Probe-Abo" in html
            given[page.key] = {
                "intent": ("4" if seed % 4 == 0 else "2") if trial else "5",
                "appeal": "3",
                "change": HOSTILE if seed == 0 and not trial else "",
            }
        elif page.key.startswith("features."):
            given[page.key] = {"functional": "like", "dysfunctional": "neutral"}  # attractive
        person.answer(given)
        if not person.url.startswith("/r/"):
            return


@pytest.fixture(scope="module")
def fielded(tmp_path_factory):
    fielding = _fielding(f"sqlite:///{tmp_path_factory.mktemp('needs') / 'needs.db'}")
    for seed in range(PEOPLE):
        answer_as_person(fielding, seed)
    return fielding


def login(fielding, email: str, language: str = "de"):
    c = client(fielding)
    c.headers["Accept-Language"] = f"{language};q=0.9"
    page = c.get("/console/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    sent = c.post(
        "/console/login", data={"login_csrf": token, "email": email, "password": PASSWORD}
    )
    assert sent.status_code == 303
    return c


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", "", html, flags=re.S))


def _number_de(x: float) -> str:
    """One decimal as the Swiss German console writes it (a point, whole numbers bare)."""
    return format_number(round(x, 1), "de")


def test_the_page_shows_the_maxdiff_models_scores_under_the_study_labels(fielded) -> None:
    page = login(fielded, "analyst@a.ch").get(URL)
    assert page.status_code == 200 and '<html lang="de">' in page.text
    html = page.text
    # The numbers are the logit's own, from the fielded answers.
    frame = maxdiff_data(fielded)
    items = [i.name for i in fielded.survey.questionnaire.page("needs").items]  # file order
    scores = MaxDiffLogit().fit(maxdiff_answers(frame, items)).scores()
    rows = re.findall(
        r'<tr>\s*<td>([^<]+?)(?: <span class="visually-hidden">[^<]*</span>)?\s*<svg class="bar"'
        r'.*?</svg></td>\s*<td class="num"[^>]*>([^<]+)</td><td class="num"[^>]*>([^<]+)</td>',
        html.split('class="maxdiff-scores cards"')[1].split("</table>")[0],
        re.S,
    )
    labels = {
        "flexible": "Monatlich kündbar", "service": "Service inklusive", "cheap": "Tiefer Preis",
        "delivery": "Lieferung nach Hause", "electric": "Elektroauto",
        "premium": "Hochwertige Ausstattung",
    }  # fmt: skip
    expected = scores.sort_values("score", ascending=False)
    assert [r[0].strip() for r in rows] == [labels[i] for i in expected.index]
    for (_, score, interval), (_, s) in zip(rows, expected.iterrows(), strict=True):
        assert score == _number_de(s["score"])
        assert interval == f"{_number_de(s['low'])} – {_number_de(s['high'])}"
    # The true order shows: the most important first, the least last.
    assert rows[0][0].strip() == "Monatlich kündbar"
    assert rows[-1][0].strip() == "Hochwertige Ausstattung"
    assert "Die Linie bei 16.7 ist ein durchschnittliches Element" in html
    # Item names (ids) are not what the reader sees.
    assert not re.search(r"\b(flexible|premium|delivery)\b", _visible(html))


def _person_counts(frame, names: list[str]):
    """Each person's best − worst count per item (people × items), from the raw rows."""
    signed = frame["best"].astype(int) - frame["worst"].astype(int)
    table = signed.groupby([frame["respondent"], frame["item"]]).sum().unstack(fill_value=0)
    return table.reindex(columns=names, fill_value=0).astype(float)


def test_the_turf_bundle_is_the_best_by_brute_force(fielded) -> None:
    html = login(fielded, "owner@a.ch").get(URL + "?k=2&top=1").text
    bundle = re.search(r'id="turf-needs-bundle">[^<]*<strong>([^<]+)</strong>', html)[1]
    # Brute force over every pair, from each person's own best-minus-worst counts.
    counts = _person_counts(maxdiff_data(fielded), list(TRUTH))
    best_of_person = counts.to_numpy() >= counts.to_numpy().max(axis=1, keepdims=True)
    reach = {
        pair: best_of_person[:, list(pair)].any(axis=1).mean()
        for pair in itertools.combinations(range(len(TRUTH)), 2)
    }
    top = max(reach.values())
    assert f"Reichweite {round(100 * top):.0f}\u00a0%" in html
    labels = {"flexible": "Monatlich kündbar", "service": "Service inklusive",
              "cheap": "Tiefer Preis", "delivery": "Lieferung nach Hause",
              "electric": "Elektroauto", "premium": "Hochwertige Ausstattung"}  # fmt: skip
    names = list(TRUTH)
    winners = [{labels[names[i]] for i in pair} for pair, r in reach.items() if np.isclose(r, top)]
    assert set(bundle.split(" · ")) in winners
    assert "Alle Bündel durchsucht (exakt)." in html
    assert html.count('<circle class="dot"') == 2  # the incremental-reach chart: two steps


def test_kano_and_the_concept_test_in_french_with_escaped_open_answers(fielded) -> None:
    html = login(fielded, "owner@a.ch", "fr").get(URL).text
    assert '<html lang="fr">' in html
    # Kano: everyone answered like/neutral → attractive, better 1, worse 0.
    kano = html.split('class="kano cards"')[1].split("</table>")[0]
    assert "une carte de recharge est incluse" in kano and "Attractive (A)" in kano
    assert "100\u00a0%" in kano
    # Concepts: top-2-box of purchase intent, the package's numbers, paired and Holm.
    ratings = concept_ratings(fielded)
    shares = top_box(ratings)
    assert shares.loc["flex", "share"] == 1.0 and shares.loc["trial", "share"] == 0.25
    top2 = html.split('class="concept-top2 cards"')[1].split("</table>")[0]
    assert "Flex" in top2 and "Abonnement d&#39;essai" in top2 and "100\u00a0%" in top2
    low, high = (f"{100 * shares.loc['trial', c]:.0f}\u00a0%" for c in ("low", "high"))
    assert re.search(
        f'<td class="num"[^>]*>25\u00a0%</td><td class="num"[^>]*>{low} – {high}</td>', top2
    )
    # Flex ahead by 75 points; 18 discordant pairs, all one way: McNemar z = 18 / √18.
    pairs = compare_concepts(ratings, paired=True)
    assert np.isclose(pairs["p_value"].iloc[0], 2 * stats.norm.sf(18 / np.sqrt(18)))
    row = html.split('class="concept-pairs cards"')[1].split("</table>")[0]
    assert "Flex par rapport à Abonnement d&#39;essai" in row and ">75 points de\u202f%<" in row
    assert "&lt; 0,001" in row  # p = 2.2e-5 (one comparison: Holm changes nothing)
    assert "test apparié (McNemar)" in html and "significatif" in html
    # The respondent's HTML is shown as text, never as markup.
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    # Another question by the query string.
    other = login(fielded, "owner@a.ch", "fr").get(URL + "?question=appeal").text
    assert '<option value="appeal" selected>Attrait</option>' in other


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner@a.ch", 200), ("analyst@a.ch", 200), ("viewer@a.ch", 200),
     ("unshared@a.ch", 404), ("owner@b.ch", 404)],
)  # fmt: skip
def test_whoever_may_read_the_study_sees_the_page(fielded, who, status) -> None:
    assert login(fielded, who).get(URL).status_code == status


def test_without_a_session_the_page_leads_to_the_login(fielded) -> None:
    r = client(fielded).get(URL)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


@pytest.mark.parametrize(
    "query",
    ["k=abc", "k=0", "k=7", "k=-1", "k=99999999999999999999", "top=0", "top=7", "top=",
     "question=nope", "question=", "zzz=1", "k=1%00", "k=%EF%BC%93", "k=2&k=x"],
)  # fmt: skip
def test_bad_query_strings_get_a_400_page_in_the_readers_language(fielded, query) -> None:
    r = login(fielded, "owner@a.ch").get(f"{URL}?{query}")
    assert r.status_code == 400, (query, r.status_code)
    assert '<html lang="de">' in r.text and 'id="problem"' in r.text


def test_sections_without_answers_say_so_and_a_study_without_them_too(tmp_path) -> None:
    fielding = _fielding(f"sqlite:///{tmp_path / 'empty.db'}")
    html = login(fielding, "owner@a.ch").get(URL).text
    assert html.count("Noch keine abgeschlossenen Antworten auf diese Seite.") == 3
    # One person: the logit cannot be estimated yet; the counts and the page still come.
    answer_as_person(fielding, 0)
    page = login(fielding, "owner@a.ch").get(URL)
    assert page.status_code == 200
    assert "Das Best-Worst-Logit lässt sich aus diesen Antworten noch nicht schätzen" in page.text
    assert 'class="maxdiff-counts cards"' in page.text


def test_a_study_without_needs_pages_says_so(tmp_path) -> None:
    from test_console import _login, _setup

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'tiny.db'}")
    c = client(fielding)
    c.headers["Accept-Language"] = "fr"
    _login(c, "owner@a.ch")
    html = c.get("/console/studies/tiny/needs").text
    assert "n’a pas de page MaxDiff, Kano ou test de concept." in html
    study_page = c.get("/console/studies/tiny").text
    assert 'href="/console/studies/tiny/needs"' in study_page


def test_a_large_turf_search_says_how_far_from_the_optimum_it_can_be(fielded, monkeypatch) -> None:
    """Beyond the page's exhaustive limit the search is greedy plus swaps, with its gap."""
    import offerlab.field._needs_page as needs_page

    monkeypatch.setattr(needs_page, "EXACT_ON_PAGE", 1)
    html = login(fielded, "owner@a.ch").get(URL + "?k=2").text
    assert "Schrittweise gesucht; das Optimum erreicht höchstens" in html
    assert "Alle Bündel durchsucht" not in html

"""The MaxDiff, Kano and concept-test pages: the study file, the flow and the exports.

Simulated respondents answer a small study with all three through the real web flow
(Starlette's TestClient, SQLite); the exported frames go into the analysis functions as
they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from _respondent import Browser, client, open_fielding, post

from offerlab.decide import compare_concepts, kano_evaluation, top_box
from offerlab.design import make_design
from offerlab.exceptions import StudyError
from offerlab.field import Survey
from offerlab.field._bot import read_form
from offerlab.field._export import (
    answers_table,
    concept_data,
    concept_ratings,
    kano_data,
    maxdiff_data,
)
from offerlab.models import MaxDiffLogit, maxdiff_answers, maxdiff_counts
from offerlab.study import parse_study

STUDY = Path(__file__).parent / "page_types_study.yaml"
RESPONDENTS = 12


@pytest.fixture(scope="module")
def text() -> str:
    return STUDY.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def fielded(text, tmp_path_factory):
    """The study fielded and answered by RESPONDENTS simulated people."""
    study = parse_study(text, STUDY.name)
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'pages.db'}"
    fielding = open_fielding(url, study, text, make_design(study))
    fielding.set_status("live")
    for seed in range(RESPONDENTS):
        person = Browser(client(fielding), seed)  # a client each: its own cookies
        person.enter(f"/s/{study.name}")
        for _ in range(20):
            if person.url.startswith("/r/") and read_form(person.html()) is None:
                break  # the end page
            person.answer()
    return fielding


def test_the_maxdiff_export_feeds_the_maxdiff_models(fielded) -> None:
    frame = maxdiff_data(fielded)
    survey = fielded.survey
    design = survey.maxdiff_design("needs")
    assert frame["respondent"].nunique() == RESPONDENTS
    per_task = frame.groupby(["respondent", "task"])
    assert (per_task.size() == 3).all()  # per_task: 3 in the study file
    assert (per_task["best"].sum() == 1).all() and (per_task["worst"].sum() == 1).all()
    assert not (frame["best"] & frame["worst"]).any()
    # Every screen shows exactly its design version's items, in the design's order.
    for (_, task), rows in per_task:
        version = int(rows["version"].iloc[0])
        expected = [design.items[j] for j in design.sets[version - 1, task - 1]]
        assert rows.sort_values("position")["item"].tolist() == expected
    # Versions follow the conjoint's round-robin: two MaxDiff versions, six people each.
    assert frame.groupby("version")["respondent"].nunique().tolist() == [6, 6]
    answers = maxdiff_answers(frame)
    counts = maxdiff_counts(answers)
    assert len(counts) == 6
    MaxDiffLogit().fit(answers)


def test_the_kano_export_feeds_the_kano_evaluation(fielded) -> None:
    frame = kano_data(fielded)
    assert list(frame.columns) == ["respondent", "feature", "functional", "dysfunctional"]
    assert frame["feature"].tolist() == ["charging"] * RESPONDENTS + ["swap"] * RESPONDENTS
    features = kano_evaluation(frame)
    assert [f.feature for f in features] == ["charging", "swap"]
    assert sum(features[0].counts.values()) == RESPONDENTS


def test_the_concept_export_feeds_top_box_and_the_paired_comparison(fielded) -> None:
    data = concept_data(fielded)
    assert len(data) == 2 * RESPONDENTS  # sequential monadic: both concepts per person
    # Balanced orders: each concept first for half the people, second for the other half.
    assert (data.groupby(["concept", "position"]).size() == RESPONDENTS // 2).all()
    ratings = concept_ratings(fielded)
    assert list(ratings.columns) == ["respondent", "concept", "rating", "position"]
    boxes = top_box(ratings)
    assert boxes["n"].tolist() == [RESPONDENTS, RESPONDENTS]
    table = compare_concepts(ratings, paired=True)
    assert len(table) == 1
    assert set(data["change"]) == {"simulated answer"}


def test_answers_of_the_new_pages_stay_in_the_tidy_table(fielded) -> None:
    table = answers_table(fielded)
    assert {"needs.1", "features.1", "offers.1"} <= set(table["page"])


def _to_maxdiff(person: Browser, c) -> None:
    for _ in range(5):
        page = person.current()
        assert page is not None
        if page.key.startswith("needs."):
            return
        person.answer()
    raise AssertionError("no MaxDiff screen")


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("de", "Ein Punkt kann nicht zugleich am wichtigsten und am wenigsten wichtig sein."),
        ("fr", "Un même point ne peut pas être à la fois le plus et le moins important."),
    ],
)
def test_one_row_cannot_be_both_most_and_least_important(text, tmp_path, lang, message) -> None:
    study = parse_study(text, STUDY.name)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'm.db'}", study, text, make_design(study))
    fielding.set_status("live")
    c = client(fielding)
    person = Browser(c)
    person.enter(f"/s/{study.name}?lang={lang}")
    _to_maxdiff(person, c)
    page = person.current()
    item = page.radios["best"][0]
    r = post(
        c, person.url, [("page", page.key), ("nonce", page.nonce), ("best", item), ("worst", item)]
    )
    assert r.status_code == 422
    assert message in r.text
    # an item not on this screen is refused too
    others = [i for i in ("cheap", "premium", "flexible", "service", "electric", "delivery")]
    absent = next(i for i in others if i not in page.radios["best"])
    fields = [("page", page.key), ("nonce", page.nonce), ("best", absent), ("worst", item)]
    assert post(c, person.url, fields).status_code == 422
    assert person.current().key == page.key  # nothing stored


def test_designs_and_orders_are_the_same_each_time_the_study_is_loaded(text) -> None:
    from offerlab.field._flow import _cached_maxdiff

    study = parse_study(text, STUDY.name)
    design = make_design(study)
    first = Survey(study, design)
    _cached_maxdiff.cache_clear()
    second = Survey(parse_study(text, STUDY.name), design)
    assert np.array_equal(first.maxdiff_design("needs").sets, second.maxdiff_design("needs").sets)
    assert [first.concept_order("offers", v) for v in range(1, 5)] == [
        second.concept_order("offers", v) for v in range(1, 5)
    ]
    # the prohibited pair (cheap, premium) is never on one screen
    items = first.maxdiff_design("needs").items
    for version in range(1, 3):
        for task in range(1, 5):
            shown = set(first.maxdiff_items(f"needs.{task}", version))
            assert not {"cheap", "premium"} <= shown
    assert items[0] == "cheap"


BROKEN = [
    ("per_task: 3", "per_task: 7", r"pages\[0\]\.per_task: per_task \(7\) cannot exceed the 6"),
    ("tasks: 4\n", "tasks: 1\n", r"pages\[0\]\.tasks: 1 tasks × 3 items do not show each of"),
    (
        "prohibited: [[cheap, premium]]",
        "prohibited: [[cheap, premum]]",
        r"pages\[0\]\.prohibited\[0\]\[1\]: unknown item 'premum' \(did you mean 'premium'\?\)",
    ),
    (
        "prohibited: [[cheap, premium]]",
        "prohibited: [[cheap, cheap]]",
        r"pages\[0\]\.prohibited\[0\]: a prohibited pair names two items",
    ),
    (
        "versions: 2\n      prohibited",
        "versions: 3\n      prohibited",
        r"pages\[0\]\.versions: the MaxDiff versions \(3\) must divide the design's versions",
    ),
    (
        "- {name: cheap,",
        "- {name: flexible,",
        r"pages\[0\]\.items\[2\]\.name: 'flexible' is used twice",
    ),
    (
        "      mode: sequential\n",
        "      mode: sequential\n      random_group: x\n",
        None,
    ),
    (
        "        - name: trial\n",
        "        - name: trial\n          image: ../../etc/passwd.png\n",
        r"pages\[3\]\.concepts\[1\]\.image: an image is a file inside the study's folder",
    ),
    (
        "        - name: trial\n",
        "        - name: trial\n          image: /tmp/x.png\n",
        r"pages\[3\]\.concepts\[1\]\.image: an image is a file inside the study's folder",
    ),
    (
        "        - name: trial\n",
        "        - name: trial\n          image: pictures/trial.svg\n",
        r"pages\[3\]\.concepts\[1\]\.image: an image is a .png, .jpg, .jpeg, .webp file",
    ),
    (
        "      mode: sequential\n",
        "      mode: monadic\n      random_group: x\n",
        None,
    ),
    (
        "design: {method: random, versions: 4, seed: 5}",
        "design: {method: random, versions: 5, seed: 5}",
        r"pages\[3\]\.concepts: the 2 balanced orders of the concepts must divide the design's "
        r"versions \(5\)",
    ),
    (
        "    - {name: swap,",
        "    - {name: charging,",
        r"pages\[2\]\.features\[1\]\.name: 'charging' is used twice",
    ),
    ("      type: kano", "      type: kanoo", r"pages\[2\]\.type: expected one of .*kano"),
    ("fr: Prix bas, ", "", r"pages\[0\]\.items\[0\]\.label: missing the text in fr"),
    (
        "fr: vous pouvez changer de modèle, ",
        "",
        r"pages\[2\]\.features\[1\]\.label: missing the text in fr",
    ),
    (
        "fr: Abonnement d'essai, ",
        "",
        r"pages\[3\]\.concepts\[1\]\.title: missing the text in fr",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_a_broken_new_page_names_file_line_and_field(text, old, new, message) -> None:
    broken = text.replace(old, new, 1)
    assert broken != text
    if message is None:
        parse_study(broken, "pages.yaml")
        return
    with pytest.raises(StudyError) as info:
        parse_study(broken, "pages.yaml")
    assert re.search(r"pages\.yaml:\d+:\d+: questionnaire\." + message, str(info.value)), str(
        info.value
    )


def test_the_console_downloads_the_new_answers(tmp_path, text) -> None:
    """An analyst uploads the study, people answer it, the downloads feed the analyses;
    a study without such a page has no such download (404, not a 500)."""
    import io

    import pandas as pd
    from test_console import _csrf, _login, _setup

    fielding, venture = _setup(f"sqlite:///{tmp_path / 'console.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    csrf = _csrf(c)
    r = c.post(f"/console/ventures/{venture}/studies", data={"study_yaml": text, "csrf": csrf})
    assert r.headers["location"] == "/console/studies/page_types"
    status = "/console/studies/page_types/status"
    c.post(status, data={"action": "test", "csrf": csrf})
    c.post(status, data={"action": "launch", "csrf": csrf, "confirm": "yes"})
    from offerlab.field import Fielding

    live = Fielding.open(fielding.engine, parse_study(text, STUDY.name), text)
    for seed in range(4):
        person = Browser(client(live), seed)
        person.enter("/s/page_types")
        for _ in range(20):
            if person.url.startswith("/r/") and read_form(person.html()) is None:
                break
            person.answer()

    def download(name: str) -> pd.DataFrame:
        r = c.get(f"/console/studies/page_types/{name}")
        assert r.status_code == 200, r.text
        return pd.read_csv(io.StringIO(r.text))

    maxdiff = download("maxdiff.csv")
    assert maxdiff["respondent"].nunique() == 4
    maxdiff_counts(maxdiff_answers(maxdiff))
    assert len(kano_evaluation(download("kano.csv"))) == 2
    concepts = download("concepts.csv").rename(columns={"intent": "rating"})
    assert top_box(concepts)["n"].tolist() == [4, 4]
    none = c.get("/console/studies/tiny/kano.csv")
    assert none.status_code == 404 and "<html" in none.text  # the console's 404 page


def test_prohibited_pairs_no_design_can_keep_apart_are_refused_with_a_reason(text) -> None:
    """Six items, 4 per screen, 4 screens: each item shows 2-3 times in 4 screens, so two
    items shown 3 times each must meet; the study is refused, not fielded with the pair."""
    from offerlab.exceptions import OfferlabError

    tight = text.replace("per_task: 3", "per_task: 4").replace(
        "prohibited: [[cheap, premium]]", "prohibited: [[cheap, premium], [cheap, flexible]]"
    )
    study = parse_study(tight, STUDY.name)
    with pytest.raises(OfferlabError, match=r"MaxDiff page 'needs': no design .* prohibited"):
        Survey(study, make_design(study))

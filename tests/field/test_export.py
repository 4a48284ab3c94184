"""Answers out of the database: choice data that estimate reads, tidy answers, quality flags."""

from __future__ import annotations

import numpy as np
from _respondent import QUALIFY, Browser, client, open_fielding

from offerlab.data import ChoiceData
from offerlab.field._export import answers_table, choice_data, respondents_table
from offerlab.models import MultinomialLogit


def _cheapest(fielding, browser: Browser, key: str) -> str:
    """The concept with the lowest price: a consistent, price-driven respondent."""
    snap = fielding.show(browser.url.rsplit("/", 1)[1])
    levels = fielding.survey.task_levels(snap.version, int(key.split(".")[1]))
    return str(int(np.argmin(levels[:, 0])) + 1)


def test_fielded_answers_export_to_choice_data_that_estimate_reads(
    tmp_path, study, study_text, design
) -> None:
    fielding = open_fielding(f"sqlite:///{tmp_path / 'export.db'}", study, study_text, design)
    c = client(fielding)
    n_consistent, n_random = 12, 4
    for i in range(n_consistent + n_random):
        c.cookies.clear()
        browser = Browser(c, seed=i)
        browser.enter(f"/s/car_subscription?psid=x{i}")
        attention = {"attention": {"answer": "somewhat" if i % 5 else "no"}}
        while True:
            page = browser.current()
            if page is None:
                break
            answers = {**QUALIFY, **attention}
            if page.key.startswith("tasks.") and i < n_consistent:
                answers[page.key] = {
                    "choice": _cheapest(fielding, browser, page.key),
                    "would_buy": "1",
                }
            browser.answer(answers, page)  # the entry form, then the respondent's pages
            if not browser.url.startswith("/r/"):
                break  # screened out on the entry page
    frame = choice_data(fielding)
    data = ChoiceData.from_frame(frame, study, source="fielded")
    assert data.n_respondents == 16 and data.dual_response
    assert frame.groupby(["respondent", "task"])["chosen"].sum().eq(1).all()
    results = MultinomialLogit().fit(data, study=study)
    assert results.params["monthly_price"] < 0  # the consistent respondents buy cheap
    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False)
    assert ChoiceData.read(path, study).n_respondents == 16

    tidy = answers_table(fielding)
    assert set(tidy.columns) == {"respondent", "page", "item", "value", "seconds"}
    assert not tidy["page"].str.startswith("tasks.").any()
    motives = tidy[tidy["page"] == "motives"]
    assert len(motives) == 16 * 5

    people = respondents_table(fielding).set_index("respondent")
    assert (people["status"] == "complete").all()
    assert people["psid"].tolist() == [f"x{i}" for i in range(16)]
    failed = people.index[people["attention_failed"]].tolist()
    assert failed == [people.index[i] for i in (0, 5, 10, 15)]
    # random choosers have an RLH near chance; the consistent ones do not
    flagged = people["random_choices"].to_numpy()
    assert flagged[n_consistent:].sum() >= 3 and flagged[:n_consistent].sum() == 0
    # one address and browser (the test client's), but 16 panel IDs: 16 people
    assert people["duplicate"].sum() == 0

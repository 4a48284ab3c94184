"""Every page type of the example survey on a phone, in the four languages, in Chromium.

At 390 x 844 (and at twice the browser's text size) nothing is wider than the screen; a
choice task of three concepts and the none question fits in one and a half screens; axe
finds nothing serious on any page type (once per page type and screen size, in German:
its rules read the markup and the styles, which the languages share). Screenshots of
each page type go to tests/artifacts/survey/ (not committed):
``{lang}_{page type}_{width}[_200].png``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from _axe import AXE_LANGUAGE, serious_violations
from _respondent import open_fielding
from _screenshots import png, save_png
from _server import running
from test_browser import PHONE, _answer

from offerlab.design import make_design
from offerlab.field import create_app
from offerlab.study import parse_study

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "survey"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
LANGUAGES = ("de", "fr", "it", "en")
TALLEST_TASK = 844 * 1.5
NORMAL_TEXT, LARGE_TEXT = 16, 32  # the browser's text size in px: 100 % and 200 %

pytestmark = pytest.mark.browser


def _kind(study, key: str) -> str:
    """A page key's page type, as the survey renders it."""
    page = study.questionnaire.page(key.split(".")[0])
    return "nms" if key.endswith(".nms") else page.type


def _text_size(cdp, px: int) -> None:
    """The browser's own text size setting (what a person with large text has)."""
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": px, "fixed": px * 13 // 16}})


def _overflow(page) -> int:
    """How far the page is wider than the screen, in px (0: no sideways scroll)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def _long_shot(page, path: Path) -> None:
    """A full-page screenshot stitched from screens: Playwright's full-page capture
    changes the emulated screen, which resets the browser's text size."""
    from PIL import Image

    height = page.evaluate("document.documentElement.scrollHeight")
    screen = page.viewport_size
    whole = Image.new("RGB", (screen["width"], height), "white")
    for y in range(0, height, screen["height"]):
        page.evaluate(f"window.scrollTo(0, {y})")
        shown = page.evaluate("window.scrollY")  # the last screen stops at the bottom
        part = Image.open(io.BytesIO(png(page))).convert("RGB")
        whole.paste(part, (0, int(shown)))
    page.evaluate("window.scrollTo(0, 0)")
    whole.save(path, compress_level=1)  # for speed, as the parts


def _tops(page) -> list[float]:
    return [box["y"] for box in (c.bounding_box() for c in page.locator(".concept").all())]


class _Audit:
    """Checks a page as it is now, at normal and at large text; records the problems.
    ``axe``: run axe-core too (the other checks run on every page checked)."""

    def __init__(self, page, axe_source: str, lang: str, axe: bool = True) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.axe_source = axe_source
        self.lang = lang
        self.axe = axe
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def focus_ring_on_a_concept(self) -> None:
        """Tab to a concept as a keyboard user does: its column gets a ring of at least
        2 px and 3:1 against the white page (WCAG 2.2 focus appearance)."""
        page = self.page
        page.locator("legend").first.click()  # start the Tab order inside the form
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.name") == "choice":
                break
        ring = page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement.closest('.concept'));
                       return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }"""
        )
        style, width, colour = ring
        if style == "none" or width < 2 or _contrast_on_white(colour) < 3:
            self.problems.append(f"{self.lang}: the focus ring of a concept is {ring}")

    def check(self, name: str) -> None:
        page, where = self.page, f"{self.lang} {name}"
        width = page.viewport_size["width"]
        self.seen.add(name)
        if (wide := _overflow(page)) > 0:
            self.problems.append(f"{where}: {wide} px wider than the screen at 100 %")
        save_png(page, ARTIFACTS / f"{self.lang}_{name}_{width}.png")
        if self.axe:
            self.problems += [f"{where}: {v}" for v in serious_violations(page, self.axe_source)]
        _text_size(self.cdp, LARGE_TEXT)
        try:
            root = page.evaluate("getComputedStyle(document.documentElement).fontSize")
            assert root == f"{LARGE_TEXT}px", root  # the setting reached the page
            if (wide := _overflow(page)) > 0:
                self.problems.append(f"{where}: {wide} px wider than the screen at 200 %")
            _long_shot(page, ARTIFACTS / f"{self.lang}_{name}_{width}_200.png")
        finally:
            _text_size(self.cdp, NORMAL_TEXT)


def _contrast_on_white(rgb: str) -> float:
    """WCAG contrast of a computed colour ('rgb(26, 26, 26)') against white."""
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def _walk(page, base: str, study, audit: _Audit, heights: list[tuple[str, int]]) -> None:
    """Answer the survey from its link to its last page, checking each page type once."""
    page.goto(f"{base}/s/car_subscription?psid=L-{audit.lang}&lang={audit.lang}")
    for step in range(60):
        key = page.locator("input[name=page]").get_attribute("value", timeout=5000)
        kind = _kind(study, key)
        assert page.locator("html").get_attribute("lang") == audit.lang
        if kind == "choice_tasks":
            heights.append((key, page.evaluate("document.documentElement.scrollHeight")))
            tops = _tops(page)
            assert tops == [tops[0]] * 3, f"{key}: concepts not side by side"
            if key == "tasks.1":
                audit.focus_ring_on_a_concept()
            if key == "tasks.2":  # sent unanswered: the page with its error message
                with page.expect_navigation():
                    page.locator("button[type=submit]").click()
                assert page.locator("#errors").count() == 1
                audit.check("choice_tasks_error")
        if kind not in audit.seen:
            audit.check(kind)
        if key == "comments":  # the last page; sending it leaves for the panel's site
            return
        _answer(page, key, step)
        with page.expect_navigation():
            page.locator("button[type=submit]").click()
    raise AssertionError("the survey did not reach its last page")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_type_fits_a_phone_at_normal_and_large_text_and_passes_axe(
    tmp_path, study, study_text, design, axe_source, lang, browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'layout.db'}", study, study_text, design)
    heights: list[tuple[str, int]] = []
    with running(create_app(fielding)) as base:
        # bypass_csp: axe is injected as an inline script, which the pages' policy forbids
        page = browser.new_context(**PHONE, locale=lang, bypass_csp=True).new_page()
        audit = _Audit(page, axe_source, lang, axe=lang == AXE_LANGUAGE)
        _walk(page, base, study, audit, heights)
        page.goto(f"{base}/s/no_such_study?lang={lang}")  # a message page
        audit.check("message")
    kinds = {"consent", "single", "multi", "scale", "text", "choice_tasks", "van_westendorp"}
    assert audit.seen >= kinds | {"nms", "gabor_granger", "choice_tasks_error", "message"}
    assert not audit.problems, "\n".join(audit.problems)
    assert len(heights) == 14
    (ARTIFACTS / f"{lang}_task_heights.txt").write_text(
        "".join(f"{key}\t{px}\n" for key, px in heights), encoding="utf-8"
    )
    tallest = max(heights, key=lambda kh: kh[1])
    assert tallest[1] <= TALLEST_TASK, f"{lang} {tallest[0]}: {tallest[1]} px"


def test_a_task_with_a_plain_none_option_fits_and_a_tap_anywhere_in_a_column_chooses_it(
    tmp_path, study_text, axe_source, browser
) -> None:
    """Three concepts and 'none of these' as an answer of its own; no JavaScript at all."""

    dual = study_text.index("    type: dual\n")
    question = study_text.index("    question:\n", dual)
    after = study_text.index("  holdouts:", question)  # the question's four lines go too
    plain = study_text[:dual] + "    type: plain\n" + study_text[dual + 15 : question]
    plain += study_text[after:]
    study = parse_study(plain, "plain_none.yaml")
    assert study.tasks.none is not None and study.tasks.none.type == "plain"
    design = make_design(study, method="random", versions=2, seed=3)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'plain.db'}", study, plain, design)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(create_app(fielding)) as base:
        page = browser.new_context(**PHONE, java_script_enabled=False).new_page()
        page.goto(f"{base}/s/car_subscription?lang=fr")
        for step in range(20):
            key = page.locator("input[name=page]").get_attribute("value")
            if key == "tasks.1":
                break
            _answer(page, key, step)
            with page.expect_navigation():
                page.locator("button[type=submit]").click()
        assert page.locator("input[name=choice]").count() == 4  # three concepts + none
        assert page.locator("input[name=would_buy]").count() == 0
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= TALLEST_TASK, height
        assert _overflow(page) == 0
        # a tap on the last line of the second column (no radio button there) chooses it
        page.locator(".concept").nth(1).locator(".cell:not(.same) .level").last.tap()
        assert page.locator("input[name=choice][value='2']").is_checked()
        page.screenshot(path=str(ARTIFACTS / "fr_choice_tasks_plain_none_390.png"), full_page=True)
        page.get_by_text(study.text(study.tasks.none.label, "fr")).tap()
        assert page.locator("input[name=choice][value='0']").is_checked()
        with page.expect_navigation():
            page.locator("button[type=submit]").click()
        assert page.locator("input[name=page]").get_attribute("value") == "tasks.2"


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_on_a_desktop_the_concepts_stand_side_by_side(
    tmp_path, study, study_text, design, axe_source, lang, browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'desk.db'}", study, study_text, design)
    with running(create_app(fielding)) as base:
        page = browser.new_context(**DESKTOP, locale=lang, bypass_csp=True).new_page()
        audit = _Audit(page, axe_source, lang, axe=lang == AXE_LANGUAGE)
        _walk(page, base, study, audit, [])
    assert not audit.problems, "\n".join(audit.problems)


def test_the_page_types_the_example_lacks_fit_too(tmp_path, axe_source, browser) -> None:
    """An info page, a number question and a task of two concepts with a plain none
    option (the small test study, with an info page added), in German."""
    from _respondent import TINY

    text = TINY.read_text(encoding="utf-8").replace(
        "    - id: task\n",
        "    - id: welcome\n      type: info\n"
        '      text: {en: "Thank you! Now a few offers.", de: "Danke! Nun einige Angebote."}\n'
        "      help: {en: Pick the one you like best., de: Wählen Sie das beste.}\n"
        "    - id: task\n",
        1,
    )
    study = parse_study(text, "tiny_study.yaml")
    fielding = open_fielding(f"sqlite:///{tmp_path / 'tiny.db'}", study, text, make_design(study))
    fill = {"consent": "input[name=answer][value=agree]", "band": "input[name=answer][value=old]"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(create_app(fielding)) as base:
        page = browser.new_context(**PHONE, bypass_csp=True).new_page()
        audit = _Audit(page, axe_source, "de")
        page.goto(f"{base}/s/tiny?lang=de&pid=t1")
        for _ in range(30):
            key = page.locator("input[name=page]").get_attribute("value", timeout=5000)
            kind = "tiny_" + _kind(study, key)
            if kind not in audit.seen:
                audit.check(kind)
            if key == "how_many":
                break
            if key in fill:
                page.check(fill[key])
            elif key.startswith("task."):
                assert page.locator("input[name=choice]").count() == 3  # two + none
                page.locator(".concept").first.locator(".cell:not(.same) .level").last.tap()
            with page.expect_navigation():
                page.locator("button[type=submit]").click()
    assert audit.seen >= {"tiny_info", "tiny_choice_tasks", "tiny_number"}
    assert not audit.problems, "\n".join(audit.problems)

"""Every control of every page has a label; choices sit in fieldsets with a legend."""

from __future__ import annotations

from html.parser import HTMLParser

from _respondent import QUALIFY, Browser, client, open_fielding


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_label = 0
        self.in_fieldset = 0
        self.legends = 0
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, str, bool, bool]] = []  # type, id, in label, in fieldset
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "label":
            self.in_label += 1
            if "for" in a:
                self.label_for.add(a["for"])
        elif tag == "fieldset":
            self.in_fieldset += 1
        elif tag == "legend":
            self.legends += 1
        elif tag in ("input", "textarea", "select") and a.get("type") != "hidden":
            kind = a.get("type", tag)
            self.controls.append((kind, a.get("id", ""), self.in_label > 0, self.in_fieldset > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1
        elif tag == "fieldset":
            self.in_fieldset -= 1


def test_every_page_of_the_example_is_labelled(tmp_path, study, study_text, design) -> None:
    fielding = open_fielding(f"sqlite:///{tmp_path / 'a11y.db'}", study, study_text, design)
    browser = Browser(client(fielding), seed=4)
    browser.enter("/s/car_subscription?lang=it")
    answers = {**QUALIFY, "car_now": {"answer": "lease"}, "obstacles": {"answer": ["other"]}}
    seen = 0
    while (page := browser.current()) is not None:
        html = browser.html()
        audit = _Audit()
        audit.feed(html)
        assert audit.lang == "it"
        for kind, ident, in_label, in_fieldset in audit.controls:
            assert in_label or ident in audit.label_for, (page.key, kind, ident)
            if kind in ("radio", "checkbox"):
                assert in_fieldset and audit.legends, (page.key, kind)
        seen += 1
        browser.answer(answers)
    assert seen >= 25


def _luminance(colour: str) -> float:
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_colours_meet_wcag_aa_contrast() -> None:
    import re
    from pathlib import Path

    import offerlab.field

    css = (Path(offerlab.field.__file__).parent / "templates" / "base.html").read_text()
    var = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))
    pairs = [("ink", "bg"), ("muted", "bg"), ("accent", "bg"), ("error", "bg"), ("ink", "soft")]
    for fg, bg in pairs:
        assert _contrast(var[fg], var[bg]) >= 4.5, (fg, bg)
    assert _contrast("#ffffff", var["accent"]) >= 4.5  # button text


def test_the_focus_ring_has_3_to_1_contrast_on_white_and_on_a_chosen_option() -> None:
    """WCAG 2.2 focus appearance: the ring stands out from the page and from the blue of a
    chosen option (the amber ring before had 1.8:1 on white)."""
    import re
    from pathlib import Path

    import offerlab.field

    css = (Path(offerlab.field.__file__).parent / "templates" / "base.html").read_text()
    var = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))
    assert ":focus-visible { outline: 3px solid var(--focus)" in css
    for background in ("bg", "soft", "column"):
        assert _contrast(var["focus"], var[background]) >= 3, background

"""The MaxDiff page's anchoring question in the study file: defaults and strict checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offerlab.exceptions import StudyError
from offerlab.study import DirectBinaryAnchor, DualResponseAnchor, parse_study

STUDY = Path(__file__).parents[1] / "field" / "page_types_study.yaml"


def _with_anchor(line: str) -> str:
    text = STUDY.read_text(encoding="utf-8")
    changed = text.replace("      per_task: 3\n", "      per_task: 3\n" + line, 1)
    assert changed != text
    return changed


def test_both_anchors_load_with_their_texts_in_four_languages() -> None:
    dual = parse_study(_with_anchor("      anchor: {type: dual_response}\n"), "p.yaml")
    anchor = dual.questionnaire.pages[0].anchor
    assert isinstance(anchor, DualResponseAnchor)
    for label in (anchor.question, anchor.all, anchor.some, anchor.none):
        assert set(label) == {"de", "fr", "it", "en"}
    binary = parse_study(_with_anchor("      anchor: {type: direct_binary}\n"), "p.yaml")
    assert isinstance(binary.questionnaire.pages[0].anchor, DirectBinaryAnchor)
    plain = parse_study(STUDY.read_text(encoding="utf-8"), "p.yaml")
    assert plain.questionnaire.pages[0].anchor is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "      anchor: {type: dual}\n",
            r"anchor: unknown anchor type 'dual'; use dual_response, direct_binary",
        ),
        (
            "      anchor:\n        type: direct_binary\n        all: Alle\n",
            r"anchor\.all: unknown key 'all' for a direct_binary anchor; 'all' belongs to "
            "dual_response anchors",
        ),
        (
            "      anchor: {type: dual_response, question: {de: Wichtig}}\n",
            r"anchor\.question: missing the text in fr, it, en",
        ),
        (
            "      anchor: {question: Wichtig}\n",
            r"anchor: an anchor type is one of dual_response, direct_binary",
        ),
        ("      anchor: yes\n", r"anchor: expected a mapping such as \{type: dual_response\}"),
        (
            "      anchor: {type: dual_response, sum: Einige}\n",
            r"anchor\.sum: unknown key 'sum'; allowed keys here are type, question, all, some",
        ),
    ],
)
def test_a_broken_anchor_names_file_line_and_field(line: str, message: str) -> None:
    with pytest.raises(StudyError) as info:
        parse_study(_with_anchor(line), "pages.yaml")
    text = str(info.value)
    assert re.search(r"pages\.yaml:2[5-7]:\d+: questionnaire\.pages\[0\]\." + message, text), text

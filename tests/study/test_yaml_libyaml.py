"""The YAML reader's libyaml path reads every document exactly as PyYAML's own reader does.

:func:`offerlab.study.parse_yaml` composes libyaml's parser events (C) with the same
limit-counting composer and builder as the reference reader (PyYAML's Python scanner and
parser); anything that reader would refuse, or that the two parsers treat differently,
goes to the reference reader, which then reports it. These tests compare the two paths
document by document: data, the line and column of every key and value, duplicate keys,
and the error message when there is one.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offerlab.study import _yaml as reader
from offerlab.study import example_path, load_study, parse_yaml

ROOT = Path(__file__).resolve().parents[2]


def _read(text: str) -> Any:
    """What ``parse_yaml`` gives: the document with its positions, or the error message."""
    try:
        doc = parse_yaml(text, "file.yaml")
    except Exception as exc:  # the comparison covers the kind of error and its words
        return ("error", type(exc).__name__, str(exc))
    return (
        doc.data,
        {path: (mark.line, mark.column) for path, mark in doc.key_marks.items()},
        {path: (mark.line, mark.column) for path, mark in doc.value_marks.items()},
        [str(problem) for problem in doc.problems],
    )


def _both_paths(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = _read(text)
    with monkeypatch.context() as patch:
        patch.setattr(reader, "_FastLoader", None)
        reference = _read(text)
    return fast, reference


def _shipped_yaml() -> list[Path]:
    files = [*ROOT.glob("examples/**/*.y*ml"), *ROOT.glob("src/offerlab/**/*.y*ml")]
    files += ROOT.glob("tests/**/*.y*ml")
    return sorted(f for f in files if "node_modules" not in f.parts)


def test_libyaml_is_there_and_reads_the_example() -> None:
    # The path the tests below compare must be the one taken, or they prove nothing.
    assert reader._FastLoader is not None
    assert reader._read_fast(example_path().read_text(encoding="utf-8"), reader.YAML_LIMITS)


def test_loading_the_example_does_not_run_pyyamls_python_scanner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The Python scanner was most of what reading a study cost (0.05 s of offerlab check).
    def scanner_ran(*args: object) -> None:
        raise AssertionError("PyYAML's Python scanner read the example")

    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_more_tokens", scanner_ran)
    assert load_study(example_path()).name == "car_subscription"


def test_every_shipped_yaml_file_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _shipped_yaml()
    assert len(files) > 20  # examples, texts catalogues, test fixtures
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue  # read_text refuses it before any parser runs
        fast, reference = _both_paths(text, monkeypatch)
        assert fast == reference, file


@pytest.mark.parametrize(
    "text",
    [
        "unit: {de: Monate, en: months? }\n",  # PyYAML: an error; libyaml: a text
        "levels: [a?, b]\n",
        "a: {? x : y}\n",
        "label: Würden Sie das Abo abschliessen?\n",
        "key:\tvalue\n",
        "a:\n\t- 1\n",
        "a: 1\r\nb: 2\r\n",
        "a: 1\rb: 2\r",
        "a: 1\u2028b: 2\n",
        "a: 1\x85b: 2\n",
        "a: 1\x07\n",
        "title: 😀 Auto\nnext: [1, 2]\n",
        "a: &x {p: 1}\nb: *x\nc: {<<: *x, q: 2}\n",
        "a: 1\na: 2\n",
        "a: *missing\n",
        "a: [1, 2\nb: 3\n",
        'a: "open\n',
        "a: b: c\n",
        "- a\nb: c\n",
        "%YAML 1.2\n---\na: yes\nb: true\n",
        "a: 1\n---\nb: 2\n",
        "!!int abc\n",
        "a: !unknown x\n",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
        "",
        "# only a comment\n",
    ],
)
def test_tricky_texts_read_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, reference = _both_paths(text, monkeypatch)
    assert fast == reference


def test_mutated_study_files_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small edits of the example (what a user's typo looks like) near YAML's syntax.
    base = "".join(example_path().read_text(encoding="utf-8").splitlines(True)[:80])
    pieces = [":", ": ", "- ", '"', "'", "[", "]", "{", "}", "&a ", "*a", "#", "|", ">", "\n"]
    pieces += ["  ", "? ", "?", "a?b", "!!int ", ",", "---\n", "...", "\\", "é", "😀"]
    rng = random.Random(2026)
    for _ in range(150):
        text = base
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text))
            if rng.random() < 0.3:
                text = text[:at] + text[at + rng.randint(1, 4) :]
            else:
                text = text[:at] + rng.choice(pieces) + text[at:]
        fast, reference = _both_paths(text, monkeypatch)
        assert fast == reference, text


# Pieces of YAML syntax joined at random: most are errors, some valid; both paths must agree.
_YAML_PIECES = [*"ab1 :-?[]{},&*!#|>'\"\n%@`.~\\é", "  ", ": ", "- ", "\n  ", "&a ", "*a"]
_YAMLISH = st.lists(st.sampled_from(_YAML_PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_YAMLISH)
def test_any_yamlish_text_reads_the_same(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, reference = _both_paths(text, monkeypatch)
    assert fast == reference

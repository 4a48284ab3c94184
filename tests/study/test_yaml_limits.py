"""The one YAML reader: bombs of 1 KiB through every loader, limits, and no other parser.

Every file a user gives offerlab (study, population, market, scenario, model spec) goes
through :func:`offerlab.study.parse_yaml`. A file of at most 1 KiB built to expand
(aliases), to nest (``[[[[…``) or to hold a giant key gets one clear error naming the
file and the line, in under a second and under 50 MB.
"""

from __future__ import annotations

import ast
import functools
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offerlab.cli.shares import read_scenario
from offerlab.decide import load_market, parse_market
from offerlab.exceptions import SpecError, StudyError
from offerlab.models import load_spec, parse_spec
from offerlab.simulate import load_population
from offerlab.study import (
    Study,
    YamlLimits,
    example_path,
    load_study,
    load_yaml,
    parse_study,
    parse_yaml,
    read_text,
)

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SRC = ROOT / "src" / "offerlab"
# The reproduction: 381 bytes that expand to 9**10 values; before the bounded
# reader `offerlab check` ran ~20-30 s, took 2 GB and ended in a MemoryError traceback.
NESTED_ALIASES = HERE / "bombs" / "nested_aliases.yaml"

_LAUGHS = NESTED_ALIASES.read_text(encoding="utf-8")
_MERGES = "a: &a {x: 1, y: 2, z: 3}\n" + "".join(
    f"{n}: &{n} {{<<: [{', '.join([f'*{p}'] * 8)}]}}\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=False)
)
_DEEP_ALIASES = (
    "a0: &a0 "
    + "[" * 10
    + "1"
    + "]" * 10
    + "\n"
    + "".join(f"a{i}: &a{i} " + "[" * 10 + f"*a{i - 1}" + "]" * 10 + "\n" for i in range(1, 8))
)
BOMBS = {
    # name: (text, what the message says, line of the error)
    "billion laughs": (_LAUGHS, "the alias *d repeats 7,381 values", 7),
    "merge keys": (_MERGES, "once aliases are expanded", 6),
    "flow nesting": ("x: " + "[" * 500 + "]" * 500 + "\n", "nest more than 32 levels", 1),
    "block nesting": ("- " * 500 + "x\n", "nest more than 32 levels", 1),
    "nesting through aliases": (_DEEP_ALIASES, "the alias *a2 makes lists and mappings nest", 4),
    "long key": ("name: x\n" + "k" * 1000 + ": 1\n", "a key of 1,000 characters", 2),
    "alias in itself": ("name: x\na: &a [1, *a]\n", "refers to a value that contains it", 2),
}


@functools.cache
def _study() -> Study:
    return load_study(example_path("car_subscription"))


# Each loader as a user reaches it; the study a file is checked against is read beforehand.
LOADERS: dict[str, Callable[[Path, Study], object]] = {
    "study": lambda path, _: load_study(path),
    "study text": lambda path, _: parse_study(path.read_text(encoding="utf-8"), path),
    "population": load_population,
    "market": load_market,
    "market text": lambda path, study: parse_market(path.read_text(encoding="utf-8"), study, path),
    "scenario": read_scenario,
    "spec": lambda path, _: load_spec(path),
    "spec text": lambda path, _: parse_spec(path.read_text(encoding="utf-8"), path),
}


def _measure(call: Callable[[], object]) -> tuple[BaseException | None, float, float]:
    """(the exception raised, seconds, peak MB of new Python allocations)."""
    tracemalloc.start()
    # CPU seconds of this process (the app's thread included): the work done, which a
    # busy machine does not inflate as it does the wall clock
    started = time.process_time()
    raised: BaseException | None = None
    try:
        call()
    except Exception as exc:  # the test looks at what was raised
        raised = exc
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return raised, seconds, peak


def test_the_bombs_are_small() -> None:
    for name, (text, _, _) in BOMBS.items():
        assert len(text.encode()) <= 1024, name
    assert len(_LAUGHS.encode()) == 381


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_yaml_bomb_gets_one_clear_error_fast_and_small(
    bomb: str, loader: str, tmp_path: Path
) -> None:
    text, says, line = BOMBS[bomb]
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    study = _study()  # read before measuring: only the bomb counts
    raised, seconds, peak = _measure(lambda: LOADERS[loader](path, study))
    assert isinstance(raised, SpecError if loader.startswith("spec") else StudyError), raised
    (problem,) = raised.problems
    assert says in problem.message
    assert problem.line == line
    assert str(raised).startswith(f"{path}:{line}:")
    assert seconds < 1.0, f"{seconds:.2f} s"
    assert peak < 50, f"{peak:.1f} MB"


def test_the_error_names_the_field_where_the_alias_sits() -> None:
    with pytest.raises(StudyError) as err:
        parse_study(_LAUGHS, "bomb.yaml")
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.field) == (7, 23, "e[5]")


def test_offerlab_check_on_the_381_byte_file_exits_2_at_once() -> None:
    """The issue's reproduction through the command line, with a memory ceiling of 2 GB:
    the old reader hit it (MemoryError traceback, exit 1) after ~20 s."""

    def ceiling() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "offerlab", "check", str(NESTED_ALIASES)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=ceiling,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{NESTED_ALIASES}:7:23: e[5]: the alias *d repeats" in " ".join(result.stderr.split())
    assert time.perf_counter() - started < 60


def test_anchors_within_the_limits_still_work() -> None:
    doc = parse_yaml("a: &a {x: [1, 2]}\nb: *a\nc: {<<: *a, y: 3}\n")
    assert doc.data == {"a": {"x": [1, 2]}, "b": {"x": [1, 2]}, "c": {"x": [1, 2], "y": 3}}
    assert doc.locate(("c", "y")) == (3, 13)


def test_the_limits_are_counted_as_expanded() -> None:
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a]\n"
    # 7 values for a (root, key, list, 4 items), 2 for b's key and list, 5 per alias: 24
    assert parse_yaml(text, limits=YamlLimits(max_values=24)).data["b"][2] == [1, 2, 3, 4]
    with pytest.raises(StudyError, match=r"m\.yaml:2:13: b\[2\]: the alias \*a repeats 5"):
        parse_yaml(text, "m.yaml", limits=YamlLimits(max_values=23))
    with pytest.raises(StudyError, match="nest more than 2 levels"):
        parse_yaml("a: [[1]]\n", limits=YamlLimits(max_depth=2))
    with pytest.raises(StudyError, match="a value of 11 characters; at most 10"):
        parse_yaml("a: abcdefghijk\n", limits=YamlLimits(max_text=10))


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: 1\n" + "# padding\n" * 200_000)  # 2 MB of comments
    with pytest.raises(StudyError, match=r"big\.yaml: the file is 1,953 KiB long; .* 1,024 KiB"):
        load_study(path)
    with pytest.raises(StudyError, match=r"1,953 KiB long; .* at most 100 bytes"):
        read_text(path, limits=YamlLimits(max_bytes=100))
    with pytest.raises(StudyError, match="at most 1,024 KiB"):
        parse_study(path.read_text())


def test_the_examples_fit_well_inside_the_limits() -> None:
    tight = YamlLimits(max_values=5_000, max_depth=12, max_key=64, max_text=4096)
    for name in ("car_subscription", "car_subscription_market", "car_subscription_scenario"):
        assert load_yaml(example_path(name), limits=tight).data


def test_spec_files_use_yaml_1_2_booleans_as_study_files_do() -> None:
    text = "utility:\n  B_ANSWER: {variable: answer, coding: dummy, levels: [no, yes, on]}\n"
    spec = parse_spec(text, "m.yaml")
    assert spec.utility["B_ANSWER"].levels == ["no", "yes", "on"]
    assert parse_yaml("levels: [no, yes, on, true]").data == {"levels": ["no", "yes", "on", True]}


# -- nothing else parses YAML --------------------------------------------------------------

_READER = SRC / "study" / "_yaml.py"
_WRITING = {"safe_dump", "safe_dump_all", "dump", "dump_all", "SafeDumper", "Dumper"}


def _yaml_library(module: str) -> bool:
    return "yaml" in module.lower() and not module.startswith("offerlab")


def _parser_uses(file: Path) -> list[str]:
    """Every use of a YAML library in ``file`` other than writing YAML."""
    tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
    found = []
    name = file.relative_to(ROOT)  # once a file, not once a node
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "yaml" and node.attr not in _WRITING:
                found.append(f"{where}: yaml.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and _yaml_library(node.module or ""):
            names = [a.name for a in node.names if a.name not in _WRITING]
            if names or node.module != "yaml":
                found.append(f"{where}: from {node.module} import {names}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if "yaml" in alias.name.lower() and alias.name != "yaml":
                    found.append(f"{where}: import {alias.name}")
                if alias.name == "yaml" and alias.asname not in (None, "yaml"):
                    found.append(f"{where}: import yaml as {alias.asname}")
    return found


def test_no_module_but_the_reader_calls_a_yaml_parser() -> None:
    files = [f for f in sorted(SRC.rglob("*.py")) if f != _READER]
    assert len(files) > 50
    found = [use for f in files for use in _parser_uses(f)]
    assert found == [], "parse YAML with offerlab.study.parse_yaml / load_yaml:\n" + "\n".join(
        found
    )
    assert _parser_uses(_READER)  # the scan does see the reader's own parser


def test_a_tag_pyyaml_cannot_construct_is_a_plain_error() -> None:
    with pytest.raises(StudyError, match=r"f\.yaml:1:8: .*'' is not a valid timestamp"):
        parse_yaml("a: [1, !!timestamp ]", "f.yaml")  # PyYAML: AttributeError on None


_PIECES = [
    *"[]{}:-&*!<>|#'\" \n\tabx01.,?%@`\\",
    *("&a ", "*a", "<<: ", "!!int ", "!!binary ", "!!set ", "!!timestamp ", "---\n", "? "),
]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_any_text_is_read_or_refused_with_a_study_error(text: str) -> None:
    try:
        parse_yaml(text, "f.yaml", limits=YamlLimits(max_values=200, max_depth=8))
    except StudyError as error:
        assert str(error).startswith("f.yaml")

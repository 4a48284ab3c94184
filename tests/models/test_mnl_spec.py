"""Model spec files: validation with file/line/field, variants of coefficients, long data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offerlab.exceptions import OfferlabError, SpecError
from offerlab.models import MultinomialLogit, load_spec, parse_spec

DATA = Path(__file__).parents[1] / "data"
SPEC_TEXT = (DATA / "swissmetro_mnl.yaml").read_text()


def _write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace("path: swissmetro.csv.gz", f"path: {DATA / 'swissmetro.csv.gz'}"))
    return path


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_variable_names_file_line_and_field(tmp_path: Path) -> None:
    text = SPEC_TEXT.replace("B_COST: {variable: cost}", "B_COST: {variable: price}")
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert f"{path}:{_line_of(text, 'B_COST')}:" in message
    assert "utility.B_COST.variable" in message and "unknown variable 'price'" in message


def test_unknown_alternative_names_file_line_and_field(tmp_path: Path) -> None:
    text = SPEC_TEXT.replace("ASC_CAR: {alternatives: [car]}", "ASC_CAR: {alternatives: [bus]}")
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert f"{path}:{_line_of(text, 'ASC_CAR')}:" in message
    assert "utility.ASC_CAR.alternatives[0]" in message and "'bus'" in message


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    text = SPEC_TEXT.replace("  B_TIME: {variable: time}", "  B_TIME: {variable: time")
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    # read like a study file: the same plain message at the line to fix
    assert str(path) in str(err.value) and "never closed with '}'" in str(err.value)
    assert err.value.problems[0].line == _line_of(text, "B_TIME")


def test_unknown_field_is_an_error_not_ignored(tmp_path: Path) -> None:
    text = SPEC_TEXT.replace("B_TIME: {variable: time}", "B_TIME: {variable: time, generic: 1}")
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    problem = err.value.problems[0]
    assert problem.line == _line_of(text, "B_TIME")
    assert problem.field == "utility.B_TIME.generic"
    # the study loader's wording: the key and the keys allowed there
    assert "unknown key 'generic'" in problem.message and "distribution" in problem.message


def test_wrong_type_and_every_problem_reported(tmp_path: Path) -> None:
    text = SPEC_TEXT.replace("format: wide", "format: broad").replace(
        "ASC_CAR: {alternatives: [car]}", "ASC_CAR: {alternatives: car}"
    )
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.yaml")
    fields = {p.field for p in err.value.problems}
    assert "data.format" in fields and "utility.ASC_CAR.alternatives" in fields
    assert str(err.value).startswith("2 problems")


def test_missing_data_file_and_bad_expression_are_spec_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(SPEC_TEXT)  # data path relative to tmp_path: missing
    with pytest.raises(SpecError, match="no such data file"):
        MultinomialLogit().fit(spec=path)
    text = SPEC_TEXT.replace("time: SM_TT / 100", "time: SM_TIME / 100")
    with pytest.raises(SpecError, match="SM_TIME"):
        MultinomialLogit().fit(spec=_write(tmp_path, text))


def test_fixed_and_alternative_specific_coefficients(tmp_path: Path) -> None:
    """Fixing B_COST at its estimate reproduces the other estimates; ASC per alternative."""
    text = SPEC_TEXT.replace(
        "B_COST: {variable: cost}", "B_COST: {variable: cost, fixed: -1.08379}"
    )
    text += "  B_TIME_CAR: {variable: time, alternatives: [car], fixed: 0.0}\n"
    res = MultinomialLogit().fit(spec=_write(tmp_path, text))
    assert list(res.params.index) == ["ASC_TRAIN", "ASC_CAR", "B_TIME"]
    assert res.fixed_params.to_dict() == {"B_COST": -1.08379, "B_TIME_CAR": 0.0}
    assert res.params["B_TIME"] == pytest.approx(-1.277859, abs=1e-4)
    assert res.llf == pytest.approx(-5331.252007, abs=1e-3)
    assert "fixed (not estimated): B_COST = -1.08379" in res.summary().as_text()
    # Alternative-specific time for car only, generic for the others.
    text = SPEC_TEXT.replace(
        "B_TIME: {variable: time}", "B_TIME: {variable: time, alternatives: [train, swissmetro]}"
    )
    text += "  B_TIME_CAR: {variable: time, alternatives: [car]}\n"
    res = MultinomialLogit().fit(spec=_write(tmp_path, text))
    assert res.llf > -5331.252007  # one more free coefficient: the fit can only improve
    assert set(res.params.index) >= {"B_TIME", "B_TIME_CAR"}


def test_long_data_with_renamed_columns_and_a_coded_categorical(tmp_path: Path) -> None:
    """Electricity data (long format with its own column names) through a spec."""
    frame = pd.read_csv(DATA / "electricity.csv.gz")
    # A categorical column to expand: contract length as text.
    frame["cl_cat"] = frame["cl"].map(lambda v: f"y{int(v)}")
    frame.to_csv(tmp_path / "elec.csv", index=False)
    spec = tmp_path / "elec.yaml"
    spec.write_text(
        "data: {path: elec.csv, format: long, respondent: id, task: chid, alternative: alt,"
        " choice: choice}\n"
        "utility:\n"
        "  pf: {variable: pf}\n"
        "  cl: {variable: cl_cat, coding: dummy, levels: [y0, y1, y5]}\n"
        "  loc: {variable: loc}\n  wk: {variable: wk}\n"
        "  tod: {variable: tod}\n  seas: {variable: seas}\n"
    )
    res = MultinomialLogit().fit(spec=spec)
    assert res.nobs == 4308 and res.n_respondents == 361
    assert [n for n in res.params.index if n.startswith("cl")] == ["cl[y1]", "cl[y5]"]
    # The linear fit of contract length against xlogit 0.2.7 on the same data (run once
    # in bench/.venv): LL −4958.649119, pf −0.625228 (SE 0.02322), tod −5.462758 (0.18371).
    linear = MultinomialLogit().fit(spec=_write_linear(tmp_path))
    assert linear.llf == pytest.approx(-4958.649119, abs=1e-5)
    assert linear.params["pf"] == pytest.approx(-0.625228, abs=1e-6)
    assert linear.params["tod"] == pytest.approx(-5.462758, abs=1e-6)
    assert linear.bse["pf"] == pytest.approx(0.02322, abs=1e-5)
    assert linear.bse["tod"] == pytest.approx(0.18371, abs=1e-5)
    assert res.llf >= linear.llf - 1e-6  # the dummy coding nests the linear one
    prob = res.predict(res.spec.load_data())
    assert np.isfinite(prob).all()


def _write_linear(tmp_path: Path) -> Path:
    path = tmp_path / "linear.yaml"
    lines = ["utility:"] + [f"  {v}: {{variable: {v}}}" for v in ("pf", "cl", "loc", "wk", "tod")]
    path.write_text(
        "data: {path: "
        + str(DATA / "electricity.csv.gz")
        + ", format: long, respondent: id, task: chid, alternative: alt, choice: choice}\n"
        + "\n".join(lines)
        + "\n  seas: {variable: seas}\n"
    )
    return path


def test_union_errors_are_merged_and_a_coefficient_may_be_called_none() -> None:
    text = "utility:\n  none: {alternatives: [a], variable: [1, 2]}\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.yaml")
    (problem,) = err.value.problems
    assert problem.field == "utility.none.variable" and problem.line == 2
    # one plain sentence for the union, in the study loader's words
    assert problem.message == "expected a text or a number, got a list"


def test_a_key_given_twice_is_an_error_not_silently_overwritten() -> None:
    text = "utility:\n  B_TIME: {variable: time}\n  B_TIME: {variable: cost}\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.yaml")
    (problem,) = err.value.problems
    assert (problem.line, problem.field) == (3, "utility.B_TIME")
    assert "duplicate key 'B_TIME' (first given on line 2)" in problem.message


@pytest.mark.parametrize("estimator", ["mnl", "lc", "mxl", "hb"])
def test_every_estimator_refuses_data_that_are_all_holdouts(estimator: str, tmp_path: Path) -> None:
    # Holdout tasks are left out of estimation: with nothing left, every estimator says
    # so in the same words for a spec fit as for a conjoint fit (not an index error).
    from offerlab.data import ChoiceData
    from offerlab.models import HierarchicalBayes, LatentClassLogit, MixedLogit

    spec = load_spec(_write(tmp_path, SPEC_TEXT))
    data = spec.load_data()
    holdouts = ChoiceData(data.frame.assign(holdout=1), data.variables)
    model = {
        "mnl": MultinomialLogit(),
        "lc": LatentClassLogit(n_classes=2),
        "mxl": MixedLogit(random=["B_TIME"]),
        "hb": HierarchicalBayes(burn_in=10, draws=10),
    }[estimator]
    with pytest.raises(OfferlabError, match="no estimation tasks: every task is a holdout"):
        model.fit(holdouts, spec=spec)


def test_integer_alternative_codes_need_no_quotes(tmp_path: Path) -> None:
    # Long data codes alternatives 1, 2, 3: a constant for alternative 2 is written as
    # users write it, without quotes, and means the same as the quoted code.
    frame = pd.read_csv(DATA / "electricity.csv.gz")
    frame.to_csv(tmp_path / "elec.csv", index=False)
    head = (
        "data: {path: elec.csv, format: long, respondent: id, task: chid, alternative: alt,"
        " choice: choice}\nutility:\n  pf: {variable: pf}\n  tod: {variable: tod}\n"
    )
    unquoted = tmp_path / "unquoted.yaml"
    unquoted.write_text(head + "  ASC_2: {alternatives: [2]}\n  ASC_3: {alternatives: [3]}\n")
    quoted = tmp_path / "quoted.yaml"
    quoted.write_text(head + "  ASC_2: {alternatives: ['2']}\n  ASC_3: {alternatives: ['3']}\n")
    assert load_spec(unquoted).utility["ASC_2"].alternatives == ["2"]
    res = MultinomialLogit().fit(spec=unquoted)
    same = MultinomialLogit().fit(spec=quoted)
    assert res.llf == same.llf
    assert res.params.to_dict() == same.params.to_dict()
    # an unknown code is still named, at its line
    bad = tmp_path / "bad.yaml"
    bad.write_text(head + "  ASC_9: {alternatives: [9]}\n")
    with pytest.raises(SpecError) as err:
        MultinomialLogit().fit(spec=bad)
    assert "utility.ASC_9.alternatives[0]" in str(err.value) and "'9'" in str(err.value)
    assert err.value.problems[0].line == 5


def test_a_boolean_is_not_an_alternative_code() -> None:
    text = "utility:\n  ASC: {alternatives: [true]}\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.yaml")
    assert err.value.problems[0].field == "utility.ASC.alternatives[0]"


@pytest.mark.parametrize("data_format", ["long", "wide"])
def test_cross_section_respondent_and_task_in_one_column(tmp_path: Path, data_format: str) -> None:
    # Cross-section data: each person answers one task, so one column is both the
    # respondent and the task; the spec names it twice instead of inventing a column.
    long = pd.read_csv(DATA / "electricity.csv.gz")
    long = long.rename(columns={"chid": "person"}).drop(columns="id")
    utility = "utility:\n  pf: {variable: pf}\n  cl: {variable: cl}\n  tod: {variable: tod}\n"
    if data_format == "long":
        long.to_csv(tmp_path / "cross.csv", index=False)
        data = (
            "data: {path: cross.csv, format: long, respondent: person, task: person,"
            " alternative: alt, choice: choice}\n"
        )
    else:
        wide = long.pivot(index="person", columns="alt", values=["pf", "cl", "tod", "choice"])
        wide.columns = [f"{var}_{alt}" for var, alt in wide.columns]
        wide["chosen_alt"] = sum(alt * wide[f"choice_{alt}"] for alt in range(1, 5))
        wide.reset_index().to_csv(tmp_path / "cross.csv", index=False)
        alts = "".join(
            f"    a{alt}: {{code: {alt}, variables: "
            f"{{pf: pf_{alt}, cl: cl_{alt}, tod: tod_{alt}}}}}\n"
            for alt in range(1, 5)
        )
        data = (
            "data:\n  path: cross.csv\n  format: wide\n  respondent: person\n  task: person\n"
            f"  choice: chosen_alt\n  alternatives:\n{alts}"
        )
    (tmp_path / "cross.yaml").write_text(data + utility)
    res = MultinomialLogit().fit(spec=tmp_path / "cross.yaml")
    # every task its own respondent: 4,308 of each
    assert res.nobs == 4308 and res.n_respondents == 4308
    # The same tasks as the panel file: the MNL log-likelihood ignores the grouping.
    panel = tmp_path / "panel.yaml"
    pd.read_csv(DATA / "electricity.csv.gz").to_csv(tmp_path / "panel.csv", index=False)
    panel.write_text(
        "data: {path: panel.csv, format: long, respondent: id, task: chid, alternative: alt,"
        " choice: choice}\n" + utility
    )
    assert res.llf == pytest.approx(MultinomialLogit().fit(spec=panel).llf, abs=1e-8)

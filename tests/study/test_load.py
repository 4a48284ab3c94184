"""Loading study files: the example, every broken file in broken/, unreadable files."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from offerlab.exceptions import OfferlabWarning, StudyError
from offerlab.study import (
    CategoricalAttribute,
    NumericAttribute,
    PriceAttribute,
    count_allowed_concepts,
    example_path,
    load_study,
    parse_study,
)

HERE = Path(__file__).parent
BROKEN = HERE / "broken"
ROOT = HERE.parent.parent
EXAMPLE = ROOT / "examples" / "car_subscription.yaml"

# -- the example -------------------------------------------------------------------


def test_example_structure() -> None:
    study = load_study(EXAMPLE)
    assert study.name == "car_subscription"
    assert study.languages == ["de", "fr", "it", "en"]
    assert study.default_language == "de"
    assert study.attribute_names == [
        "monthly_price",
        "term",
        "km_per_month",
        "car_class",
        "insurance",
        "maintenance",
        "delivery",
        "notice_period",
    ]
    price = study.price_attribute
    assert isinstance(price, PriceAttribute)
    assert price.name == "monthly_price"
    assert price.currency == "CHF"
    assert price.values == [390, 490, 590, 790, 990]
    assert price.order == "decreasing"
    term = study.attribute("term")
    assert isinstance(term, NumericAttribute)
    assert term.values == [3, 6, 12, 24]
    assert term.coding == "partworth"
    km = study.attribute("km_per_month")
    assert isinstance(km, NumericAttribute)
    assert km.unit == "km"
    assert km.order == "increasing"
    car_class = study.attribute("car_class")
    assert isinstance(car_class, CategoricalAttribute)
    assert car_class.level_names == ["compact", "suv", "electric", "premium"]
    assert study.n_levels == (5, 4, 3, 4, 2, 2, 2, 2)


def test_example_tasks_rules_and_design() -> None:
    study = load_study(EXAMPLE)
    tasks = study.tasks
    assert (tasks.alternatives, tasks.per_respondent) == (3, 12)
    assert tasks.none is not None
    assert tasks.none.type == "dual"
    assert isinstance(tasks.none.question, dict)
    assert set(tasks.none.question) == {"de", "fr", "it", "en"}
    assert len(tasks.holdouts) == 2
    assert all(len(h.concepts) == 3 for h in tasks.holdouts)
    assert tasks.rules.identical_concepts == "forbid"
    assert tasks.rules.dominated_concepts == "forbid"
    assert study.ordered_attributes == [(0, -1), (2, 1)]
    assert {"car_class": "premium", "monthly_price": 390} in study.prohibitions
    assert (study.design.method, study.design.versions, study.design.seed) == (
        "efficient",
        20,
        2026,
    )


def test_example_labels_in_every_language() -> None:
    study = load_study(EXAMPLE)
    assert study.level_label("monthly_price", 2) == "CHF\u00a0590.– /\u00a0Monat"
    assert study.level_label("monthly_price", 2, "fr") == "CHF\u00a0590.– /\u00a0mois"
    assert study.level_label("monthly_price", 2, "it") == "CHF\u00a0590.– /\u00a0mese"
    assert study.level_label("term", 2, "fr") == "12\u00a0mois"  # a number keeps its unit
    assert study.level_label("km_per_month", 0, "en") == "1000\u00a0km"
    assert study.level_label("car_class", 2, "it") == "Auto elettrica"
    assert study.text(study.title, "fr") == "Votre voiture en abonnement"


def test_example_concept_count() -> None:
    study = load_study(EXAMPLE)
    assert count_allowed_concepts(study) == len(study.allowed_concepts) == 3840 - 3 * 192


def test_shipped_example_is_identical_to_the_one_in_examples() -> None:
    shipped = example_path()
    assert shipped.name == "car_subscription.yaml"
    assert shipped.read_bytes() == EXAMPLE.read_bytes()


def test_unknown_example_name() -> None:
    with pytest.raises(StudyError, match="did you mean 'car_subscription'"):
        example_path("car_subscriptoin")


# -- broken files ------------------------------------------------------------------

# (file, line, field substring, message substring). The line is the one to fix.
BROKEN_CASES = [
    ("yaml_syntax.yaml", 3, "", "unexpected ':'"),
    ("tab_indent.yaml", 5, "", "tab character"),
    ("bad_indentation.yaml", 6, "", "bad indentation"),
    ("unclosed_bracket.yaml", 7, "", "never closed with ']'"),
    ("not_utf8.yaml", 3, "", "not UTF-8"),
    ("empty.yaml", 1, "", "the file is empty"),
    ("top_level_list.yaml", 2, "", "the top level must be a mapping"),
    ("duplicate_key.yaml", 3, "name", "duplicate key 'name' (first given on line 2)"),
    ("alternatives_string.yaml", 15, "tasks.alternatives", "expected a whole number, got 'three'"),
    ("negative_alternatives.yaml", 15, "tasks.alternatives", "must be at least 2, got -1"),
    ("tasks_not_mapping.yaml", 14, "tasks", "expected a mapping of keys to values, got 12"),
    ("label_list.yaml", 5, "attributes[0].label", "expected a text or one text per language"),
    ("number_as_text.yaml", 13, "attributes[1].values[2]", "expected a number, got '790.-'"),
    ("unknown_key_typo.yaml", 8, "attributes[0].levels[1].lables", "did you mean 'label'?"),
    ("unknown_attribute_type.yaml", 10, "attributes[1]", "did you mean 'price'?"),
    ("categorical_with_values.yaml", 12, "attributes[1].values", "check 'type'"),
    ("missing_name.yaml", 10, "attributes[1].name", "missing required key 'name'"),
    ("missing_attributes.yaml", 2, "attributes", "missing required key 'attributes'"),
    ("name_with_space.yaml", 4, "attributes[0].name", "'car class' is not a valid name"),
    ("one_level.yaml", 6, "attributes[0].levels", "at least 2 levels, got 1"),
    ("zero_levels.yaml", 6, "attributes[0].levels", "at least 2 levels, got 0"),
    ("duplicate_level.yaml", 9, "attributes[0].levels[2].name", "'suv' appears twice"),
    ("duplicate_value.yaml", 13, "attributes[1].values[2]", "'390' appears twice"),
    ("duplicate_attribute.yaml", 14, "attributes[2].name", "'car_class' is used twice"),
    ("two_prices.yaml", 15, "attributes[2].type", "at most one price attribute"),
    ("format_placeholder.yaml", 14, "attributes[1].format", "unknown placeholder {valeur}"),
    ("unknown_language.yaml", 3, "languages[1]", "unknown language 'es'"),
    ("default_language_not_declared.yaml", 4, "default_language", "'it' is not one of"),
    ("missing_translation.yaml", 10, "attributes[0].levels[1].label", "missing the text in fr"),
    ("undeclared_language.yaml", 8, "title.it", "'it' is not in the study's languages"),
    (
        "prohibition_unknown_level.yaml",
        16,
        "prohibitions[1].car_class",
        "no level 'luxury'; its levels are compact, suv, premium",
    ),
    ("prohibition_unknown_value.yaml", 15, "prohibitions[0].price", "no value 400; its values"),
    ("prohibition_unknown_attribute.yaml", 16, "prohibitions[0].colour", "unknown attribute"),
    ("prohibition_one_attribute.yaml", 15, "prohibitions[0]", "at least 2 attributes"),
    ("prohibitions_no_concept.yaml", 14, "prohibitions", "leave no valid concept"),
    ("prohibitions_too_few.yaml", 14, "prohibitions", "leave only 2 concepts, a task needs 3"),
    ("holdout_unknown_level.yaml", 20, "holdouts[0].concepts[1].car_class", "no level 'van'"),
    ("holdout_wrong_count.yaml", 18, "holdouts[0].concepts", "has 2 concepts, but every task"),
    ("holdout_missing_attribute.yaml", 21, "holdouts[0].concepts[2]", "lacks price"),
    ("holdout_prohibited.yaml", 19, "holdouts[0].concepts[0]", "ruled out by prohibitions[0]"),
    ("holdout_position.yaml", 18, "holdouts[0].position", "after the last task"),
    ("dual_none_without_question.yaml", 16, "tasks.none.question", "needs a question"),
    ("plain_none_with_question.yaml", 17, "tasks.none.question", "set type: dual"),
    ("prior_wrong_length.yaml", 17, "design.prior.mean.car_class", "needs 3 part-worths, got 2"),
    ("prior_unknown_attribute.yaml", 18, "design.prior.mean.colour", "unknown attribute"),
    ("dominated_without_order.yaml", 16, "dominated_concepts", "no attribute has an order"),
]


@pytest.mark.parametrize(
    ("file", "line", "field", "message"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES]
)
def test_broken_file(file: str, line: int, field: str, message: str) -> None:
    path = BROKEN / file
    with pytest.raises(StudyError) as info:
        load_study(path)
    error = info.value
    text = str(error)
    assert f"{path}:{line}:" in text, text
    assert field in text
    assert message in text
    matching = [p for p in error.problems if p.line == line and field in p.field]
    assert any(message in p.message for p in matching), text
    # Plain words only: no pydantic wording, no Python reprs of types.
    assert "Input should" not in text
    assert "validation error" not in text
    assert "<class" not in text


def test_every_broken_file_is_in_the_table() -> None:
    on_disk = {p.name for p in BROKEN.glob("*.yaml")}
    in_table = {case[0] for case in BROKEN_CASES}
    assert on_disk == in_table
    assert len(on_disk) >= 24


# -- several problems, unreadable files, YAML details ---------------------------------

MINI = """\
name: mini
attributes:
  - name: car_class
    label: Car class
    levels:
      - {name: compact, label: Compact}
      - {name: suv, label: SUV}
  - name: price
    type: price
    label: Monthly price
    values: [390, 590, 790]
"""


def test_every_problem_is_reported_at_once() -> None:
    text = MINI.replace("label: Car class", "lable: Car class").replace("790]", "abc]")
    text += "tasks:\n  alternatives: 1\n"
    with pytest.raises(StudyError) as info:
        parse_study(text, "three.yaml")
    problems = info.value.problems
    assert [p.line for p in problems] == [4, 11, 13]
    assert str(info.value).startswith("3 problems in three.yaml:\nthree.yaml:4:5:")


def test_problems_without_a_path_name_the_text() -> None:
    with pytest.raises(StudyError, match=r"^<study>:1:1: "):
        parse_study("")


def test_missing_file(tmp_path: Path) -> None:
    (tmp_path / "offer.yaml").write_text(MINI, encoding="utf-8")
    with pytest.raises(StudyError, match="file not found"):
        load_study(tmp_path / "nothing.yaml")
    with pytest.raises(StudyError, match=r"did you mean .*offer\.yaml"):
        load_study(tmp_path / "offer")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="a folder, not a file"):
        load_study(tmp_path)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINI.encode())
    assert load_study(path).name == "mini"


def test_yes_and_no_stay_text() -> None:
    text = MINI.replace("name: compact", "name: yes").replace("name: suv", "name: no")
    study = parse_study(text)
    assert study.attribute("car_class").level_names == ["yes", "no"]


def test_anchors_and_merge_keys() -> None:
    text = MINI.replace(
        "  - name: price\n",
        "  - &binary\n    name: insurance\n    label: Insurance\n    levels:\n"
        "      - {name: included, label: Included}\n      - {name: own, label: Own}\n"
        "  - <<: *binary\n    name: maintenance\n    label: Maintenance\n"
        "  - name: price\n",
    )
    study = parse_study(text)
    assert study.attribute("maintenance").level_names == ["included", "own"]


def test_quoted_number_hint() -> None:
    with pytest.raises(StudyError, match="got '3' \\(remove the quotes"):
        parse_study(MINI + "tasks:\n  alternatives: '3'\n")


def test_true_is_not_a_number() -> None:
    with pytest.raises(StudyError, match="expected a whole number, got true"):
        parse_study(MINI + "tasks:\n  per_respondent: true\n")


def test_level_never_shown_is_a_warning() -> None:
    text = (
        MINI
        + "prohibitions:\n"
        + "".join(f"  - {{car_class: suv, price: {p}}}\n" for p in (390, 590, 790))
    )
    with pytest.warns(OfferlabWarning, match=r"attributes\[0\]\.levels\[1\]: level 'suv'"):
        study = parse_study(text, "never.yaml")
    assert count_allowed_concepts(study) == 3


def test_valid_study_loads_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_study(EXAMPLE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINI.replace("790]", ".nan]"), "expected a finite number, got nan"),
        (MINI + "design:\n  seed: 2026-13-45\n", "'2026-13-45' is not a valid timestamp"),
        (MINI + "design:\n  seed: !!int abc\n", "'abc' is not a valid int"),
        (MINI.replace("Compact}", "Com\x00pact}"), "U+0000 is not allowed"),
        (MINI + "---\nname: other\n", "one YAML document"),
        (MINI.replace("type: price", "type: 3"), "an attribute type is one of"),
    ],
    ids=["nan", "bad-date", "bad-int-tag", "nul-character", "two-documents", "type-number"],
)
def test_odd_yaml_values_get_plain_messages(text: str, message: str) -> None:
    with pytest.raises(StudyError, match=r"^<study>:\d+:\d+: ") as info:
        parse_study(text)
    assert message in str(info.value)


def test_load_yaml_model_for_files_beside_the_study(tmp_path: Path) -> None:
    from pydantic import BaseModel, ConfigDict

    from offerlab.exceptions import SpecError
    from offerlab.study._load import load_yaml_model

    class Segment(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        share: float = 1.0

    class Population(BaseModel):
        model_config = ConfigDict(extra="forbid")
        segments: list[Segment]

    good = tmp_path / "good.yaml"
    good.write_text("segments:\n  - {name: city, share: 0.6}\n  - name: country\n")
    assert load_yaml_model(Population, good).segments[1].name == "country"

    bad = tmp_path / "bad.yaml"
    bad.write_text("segments:\n  - name: city\n    shares: 0.6\n")
    with pytest.raises(SpecError) as info:
        load_yaml_model(Population, bad, SpecError)
    assert str(info.value) == (
        f"{bad}:3:5: segments[0].shares: unknown key 'shares' (did you mean 'share'?)"
    )
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(StudyError, match="at least 'segments:'"):
        load_yaml_model(Population, tmp_path / "empty.yaml")

"""The examples shipped inside the package are the ones documented in examples/."""

from __future__ import annotations

from pathlib import Path

import pytest

from offerlab.study import example_path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "name", ["car_subscription", "car_subscription_population", "car_subscription_scenario"]
)
def test_shipped_example_matches_the_documented_one(name: str) -> None:
    assert example_path(name).read_bytes() == (EXAMPLES / f"{name}.yaml").read_bytes()

"""Placeholder until the loader lands: parse YAML into Study without line mapping."""

from __future__ import annotations

from pathlib import Path

import yaml

from offerlab.study._model import Study


def parse_study(text: str, path: Path | str | None = None) -> Study:
    return Study.model_validate(yaml.safe_load(text))


def load_study(path: Path | str) -> Study:
    return parse_study(Path(path).read_text(encoding="utf-8"), path)

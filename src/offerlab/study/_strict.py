"""The strict base of every model read from a user's YAML file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """A model that forbids unknown keys, NaN and infinity, and is frozen once read.

    Every file a user gives offerlab (study, population, market, scenario, model spec)
    validates into subclasses of this one, so a misspelt key is an error, never ignored.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

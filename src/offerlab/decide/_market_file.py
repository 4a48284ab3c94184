"""The market file: the offers people would choose between, what they cost us, and what
the optimiser may change — read against a study, with file/line/field errors.

A market file (YAML) names our offers, the competitors', status-quo options (keep
buying, lease…) and whether the none option competes; the costs per level for the
profit; and what the optimiser may change. See ``examples/car_subscription_market.yaml``.
:func:`load_market` reads one from disk, :func:`parse_market` from text (an upload in
the console); both check it against the study like a study file is checked.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from offerlab.decide._market import Market, MarketSimulator
from offerlab.decide._money import format_number, level_key
from offerlab.decide._offer_space import offer_cost
from offerlab.decide._optimise import optimise_offers
from offerlab.decide._recommendation import OptimisationResult
from offerlab.exceptions import OfferlabError, StudyError
from offerlab.models import NONE_PARAM, ConjointCoding
from offerlab.simulate import offer_warnings
from offerlab.study import CategoricalAttribute, Study, load_yaml_model, parse_yaml_model

__all__ = [
    "MarketFile",
    "MarketSpec",
    "Objective",
    "format_number",
    "load_market",
    "optimise_market",
    "parse_market",
]

Objective = Literal["share", "revenue", "profit"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfferEntry(BaseModel):
    """One offer: a name, whether it is ours, and one level (or number) per attribute.

    The attributes are keys of the offer itself (``car_class: suv``), as in a scenario
    file; they are checked against the study by :meth:`MarketFile.problems`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(min_length=1)
    ours: bool = False

    def levels(self) -> dict[str, object]:
        return dict(self.__pydantic_extra__ or {})


class StatusQuoEntry(_Strict):
    """An alternative that is not an offer: a fixed utility and/or a model constant."""

    name: str = Field(min_length=1)
    utility: float | None = None
    constant: str | None = None


class OptimiseEntry(_Strict):
    """What the optimiser may change."""

    tiers: list[str] | None = Field(
        None, description="Our offers to fill (default: every offer with ours: true)."
    )
    price_step: float | None = Field(
        None, gt=0, description="Search prices on this step within the studied range."
    )
    prices: list[float] | None = Field(None, min_length=1)
    fixed: dict[str, str | int | float] = Field(default_factory=dict)
    pessimism: float = Field(0.10, gt=0, lt=1)
    price_only_tiers: StrictBool = Field(
        False,
        description=(
            "Allow tiers that are the same product at different prices (default: tiers "
            "differ on at least one attribute other than the price)."
        ),
    )


class MarketFile(_Strict):
    """A market file (YAML)."""

    offers: list[OfferEntry] = Field(min_length=1)
    status_quo: list[StatusQuoEntry] = Field(default_factory=list)
    none: bool = True
    base_cost: float = 0.0
    costs: dict[str, dict[str | int | float, float]] = Field(default_factory=dict)
    optimise: OptimiseEntry = Field(default_factory=OptimiseEntry)
    pricing_offer: str | None = Field(
        None,
        description="The offer the survey's price questions describe (default: our first).",
    )

    def problems(self, study: Study) -> list[tuple[tuple[str | int, ...], str]]:
        """What does not fit ``study``, as (field path, message) pairs."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        coding = ConjointCoding.from_study(study, "effects", none=study.tasks.none is not None)
        names = [o.name for o in self.offers] + [s.name for s in self.status_quo]
        for i, name in enumerate(names):
            if name in names[:i] or name == "none":
                at = ("offers", i) if i < len(self.offers) else ("status_quo", i - len(self.offers))
                found.append(((*at, "name"), f"'{name}' is used twice (or is 'none')"))
        base = _valid_offer(study)
        attributes = study.attribute_names
        for i, offer in enumerate(self.offers):
            levels = offer.levels()
            for key, value in levels.items():
                if key not in attributes:
                    found.append(
                        (("offers", i, key), f"unknown attribute; the study has {attributes}")
                    )
                    continue
                try:
                    coding.code_offer({**base, key: value}, what=f"offer '{offer.name}'")
                except OfferlabError as exc:
                    found.append((("offers", i, key), str(exc).split(": ", 1)[-1]))
                    continue
                attr = study.attribute(key)
                if not isinstance(attr, CategoricalAttribute):
                    lo, hi = min(attr.values), max(attr.values)
                    if not lo - 1e-9 <= float(value) <= hi + 1e-9:  # type: ignore[arg-type]
                        found.append(
                            (
                                ("offers", i, key),
                                f"{value} lies outside the studied range [{lo:g}, {hi:g}]: "
                                "the model cannot tell what people would do there",
                            )
                        )
            missing = [a for a in attributes if a not in levels]
            if missing:
                found.append((("offers", i), f"no level given for {missing}"))
        for i, sq in enumerate(self.status_quo):
            if sq.utility is None and sq.constant is None:
                found.append((("status_quo", i), "give a 'utility' (a number) or a 'constant'"))
            if sq.constant is not None and sq.constant not in coding.names:
                constants = [NONE_PARAM] if coding.none_index is not None else []
                found.append(
                    (
                        ("status_quo", i, "constant"),
                        f"the model has no constant {sq.constant!r}; it has {constants or 'none'}",
                    )
                )
        for attribute, table in self.costs.items():
            if attribute not in attributes:
                found.append(
                    (("costs", attribute), f"unknown attribute; the study has {attributes}")
                )
                continue
            attr = study.attribute(attribute)
            if isinstance(attr, CategoricalAttribute):
                wanted = list(attr.level_names)
                given = [str(k) for k in table]
            else:
                wanted = [format_number(v) for v in attr.values]
                given = [level_key(k) for k in table]
            unknown = [g for g in given if g not in wanted]
            if unknown:
                found.append(
                    ((("costs", attribute)), f"unknown level(s) {unknown}; levels are {wanted}")
                )
            absent = [w for w in wanted if w not in given]
            if (
                absent
                and study.price_attribute is not None
                and attribute != study.price_attribute.name
            ):
                found.append(((("costs", attribute)), f"no cost for level(s) {absent}"))
        offer_names = [o.name for o in self.offers]
        for j, tier in enumerate(self.optimise.tiers or []):
            if tier not in offer_names:
                found.append(
                    (("optimise", "tiers", j), f"no offer named {tier!r}; offers are {offer_names}")
                )
        if self.optimise.tiers is not None and not 1 <= len(self.optimise.tiers) <= 3:
            found.append((("optimise", "tiers"), "name one, two or three of our offers"))
        for key in self.optimise.fixed:
            if key not in attributes:
                found.append(
                    (("optimise", "fixed", key), f"unknown attribute; the study has {attributes}")
                )
        price = study.price_attribute
        n_tiers = len(self.optimise.tiers or [o for o in self.offers if o.ours])
        free = [
            a for a in attributes
            if a not in self.optimise.fixed and (price is None or a != price.name)
        ]  # fmt: skip
        if n_tiers > 1 and not self.optimise.price_only_tiers and not free:
            found.append(
                (
                    ("optimise", "fixed"),
                    "every attribute but the price is fixed, so the tiers could differ only "
                    "in price: free an attribute or set price_only_tiers: true",
                )
            )
        if price is not None:
            lo, hi = min(price.values), max(price.values)
            for j, p in enumerate(self.optimise.prices or []):
                if not lo - 1e-9 <= p <= hi + 1e-9:
                    found.append(
                        (
                            ("optimise", "prices", j),
                            f"{p:g} lies outside the studied range [{lo:g}, {hi:g}]",
                        )
                    )
        elif self.optimise.prices or self.optimise.price_step:
            found.append((("optimise",), "the study has no price attribute"))
        if self.pricing_offer is not None and self.pricing_offer not in offer_names:
            found.append((("pricing_offer",), f"no offer named {self.pricing_offer!r}"))
        return found


def _valid_offer(study: Study) -> dict[str, object]:
    return {a: study.level_value(a, 0) for a in study.attribute_names}


class MarketSpec:
    """A market file read against a study: the file, and how to code it for a fit.

    Attributes
    ----------
    file : MarketFile
    path : Path
    study : Study
    """

    def __init__(self, file: MarketFile, path: Path, study: Study) -> None:
        self.file = file
        self.path = path
        self.study = study

    @property
    def offers(self) -> list[dict[str, object]]:
        return [{"name": o.name, "ours": o.ours, **o.levels()} for o in self.file.offers]

    @property
    def status_quo(self) -> list[dict[str, object]]:
        out = []
        for sq in self.file.status_quo:
            entry: dict[str, object] = {"name": sq.name}
            if sq.utility is not None:
                entry["utility"] = sq.utility
            if sq.constant is not None:
                entry["constant"] = sq.constant
            out.append(entry)
        return out

    def market(self, coding: ConjointCoding) -> Market:
        """The market coded in the fit's columns."""
        try:
            return Market.from_offers(
                coding, self.offers, status_quo=self.status_quo, none=self.file.none
            )
        except OfferlabError as exc:
            raise OfferlabError(f"{self.path}: {exc}") from None

    @property
    def ours(self) -> list[str]:
        return [o.name for o in self.file.offers if o.ours]

    @property
    def tiers(self) -> list[str]:
        return list(self.file.optimise.tiers or self.ours)

    @property
    def pricing_offer(self) -> str:
        if self.file.pricing_offer is not None:
            return self.file.pricing_offer
        return (self.ours or [self.file.offers[0].name])[0]

    @property
    def costs(self) -> dict[str, dict[object, float]]:
        costs = self.file.costs.items()
        return {a: {level_key(k): float(v) for k, v in t.items()} for a, t in costs}

    @property
    def has_costs(self) -> bool:
        return bool(self.file.costs) or self.file.base_cost != 0

    def offer_costs(self, market: Market | None = None, which: str = "ours") -> dict[str, float]:
        """What each offer costs per month from the file's base and level costs.

        The offers of ``market`` (e.g. one the optimiser filled) or of the file; our
        offers (``which="ours"``) or every offer (``"all"``: a competitor's cost is
        ours of making the same offer). Empty when the file gives no costs.
        """
        if not self.has_costs:
            return {}
        if market is None:
            offers = [(o.name, o.ours, o.levels()) for o in self.file.offers]
        else:
            offers = [
                (n, ours, levels)
                for n, ours, levels in zip(market.names, market.ours, market.offers, strict=True)
                if levels is not None
            ]
        return {
            name: offer_cost(levels, self.costs, self.file.base_cost, name)
            for name, ours, levels in offers
            if ours or which == "all"
        }

    def price_grid(self) -> list[float] | None:
        """The prices the optimiser searches (None: the studied levels)."""
        price = self.study.price_attribute
        opt = self.file.optimise
        if price is None:
            return None
        if opt.prices is not None:
            return sorted({float(p) for p in opt.prices})
        if opt.price_step is not None:
            lo, hi = min(price.values), max(price.values)
            n = math.floor((hi - lo) / opt.price_step + 1e-9)
            grid = {lo + i * opt.price_step for i in range(n + 1)} | {
                float(v) for v in price.values
            }
            return sorted(round(p, 6) for p in grid)
        return None

    def warnings(self) -> list[str]:
        out = []
        for o in self.file.offers:
            out += [f"{self.path}: {m}" for m in offer_warnings(self.study, o.name, o.levels())]
        return out


def load_market(path: Path | str, study: Study) -> MarketSpec:
    """Read a market file and check it against ``study``; errors name file, line and field."""
    path = Path(path)
    file = load_yaml_model(MarketFile, path, StudyError, lambda m: m.problems(study))
    return MarketSpec(file, path, study)


def parse_market(text: str, study: Study, path: Path | str = "market file") -> MarketSpec:
    """:func:`load_market` on the text of a market file; ``path`` names it in messages."""
    file = parse_yaml_model(MarketFile, text, path, StudyError, lambda m: m.problems(study))
    return MarketSpec(file, Path(path), study)


def optimise_market(
    sim: MarketSimulator, market: Market, spec: MarketSpec, objective: str, *, seed: int = 0
) -> OptimisationResult:
    """Run the optimiser on the market file's tiers, costs, price grid and fixed levels."""
    if objective == "profit" and not spec.has_costs:
        raise OfferlabError(
            f"{spec.path}: --optimise profit needs costs (costs: per attribute level, base_cost)"
        )
    tiers = spec.tiers
    if not tiers:
        raise OfferlabError(
            f"{spec.path}: nothing to optimise: mark our offers with ours: true "
            "(or list them under optimise: tiers:)"
        )
    return optimise_offers(
        sim,
        market,
        slots=tiers,
        objective=objective,  # type: ignore[arg-type]
        costs=spec.costs or None,
        base_cost=spec.file.base_cost,
        prices=spec.price_grid(),
        fixed=dict(spec.file.optimise.fixed),
        pessimism=spec.file.optimise.pessimism,
        price_only_tiers=spec.file.optimise.price_only_tiers,
        rng=seed,
    )

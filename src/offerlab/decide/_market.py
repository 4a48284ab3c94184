"""The market simulator: concrete offers, status-quo options and none, under a choice rule.

A :class:`Market` is a list of alternatives, each coded into the model's K columns:

* **offers** (ours or a competitor's), given by attribute levels and coded with
  :meth:`ConjointCoding.code_offer` (a price between two levels is interpolated);
* **status-quo options** ("keep buying", "lease"), given as a fixed utility and/or an
  alternative constant of the model (a coefficient name, e.g. ``none`` or ``asc_lease``);
* the **none** option (the model's none constant).

A :class:`MarketSimulator` turns a :class:`~offerlab.decide.Population` and a market into
shares: share of preference (logit with a scale factor), first choice, or randomized
first choice; with intervals from the estimator's uncertainty, by segment, weighted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from offerlab.decide._kernels import RULES, Rule, grouped_shares, level_ids
from offerlab.decide._population import Population, decision_population
from offerlab.exceptions import OfferlabError
from offerlab.models import ConjointCoding
from offerlab.study import PriceAttribute

__all__ = [
    "RFC_PRODUCT_SHARE",
    "RULE_NAMES",
    "RULE_TITLES",
    "Market",
    "MarketSimulator",
    "Provenance",
    "ShareDraws",
    "rfc_errors",
    "simulate_market",
    "simulator_for",
]

#: Under RFC, the share of the error variance that belongs to the product (the rest is
#: spread over the attribute levels). Small, so that an exact copy of an offer gains
#: little (Sawtooth's RFC rests mostly on the correlated attribute error); not zero,
#: so that offers alike in every level still differ a little, as real products do.
RFC_PRODUCT_SHARE = 0.02
#: Under RFC, attribute-error draws per uncertainty draw of the population (spread over
#: its rows): the Monte Carlo error of a draw's share is then small beside the spread of
#: the draws (measured in bench/README.md, "Optimiser on HB-sized draws": 2,000 widened
#: the SD of the draws' profit by 16%, 5,000 by about 6%).
RFC_DRAW_ERRORS = 5_000


def rfc_errors(
    total: float, n_attributes: int, product_share: float = RFC_PRODUCT_SHARE
) -> tuple[float, float]:
    """RFC's (attribute error σ_a per level, product error σ_p) of total size ``total``.

    Chosen so that two offers that differ in every attribute have an error difference
    of the same variance as the logit rule at scale 1 / ``total``:
    A·σ_a² + σ_p² = total², σ_p² = product_share · total². RFC with ``total`` = 1
    is then as flat as share of preference for distinct offers, and corrects only for
    similarity.
    """
    if not 0 < product_share <= 1:
        raise OfferlabError(f"product_share must lie in (0, 1]; got {product_share!r}")
    A = max(1, int(n_attributes))
    sigma_p = total * float(np.sqrt(product_share))
    sigma_a = total * float(np.sqrt((1 - product_share) / A))
    return sigma_a, sigma_p


@dataclass(frozen=True)
class Provenance:
    """Where decision numbers come from: the model, its level, the rule and the draws.

    Attributes
    ----------
    model : str
        The fitted model in words ("hierarchical Bayes", "latent class (3 classes)",
        "multinomial logit"…).
    level : {"individual", "classes", "distribution", "aggregate"}
        Whose coefficients the simulator averages over.
    rule : str
        The choice rule in words.
    n_draws : int
        Uncertainty draws behind the intervals (0: none).
    scale : float
        The scale factor λ.
    rows : int
        Coefficient vectors in the population.
    """

    model: str
    level: str
    rule: str
    n_draws: int
    scale: float
    rows: int

    def describe(self) -> str:
        """One line for a table caption or a terminal."""
        draws = f"{self.n_draws} draws" if self.n_draws else "no uncertainty draws"
        return (
            f"{self.model} ({self.level} level, {self.rows:,} rows), {self.rule}, "
            f"scale {self.scale:.2f}, {draws}"
        )


NONE_NAME = "none"
KINDS = ("offer", "status_quo", "none")


@dataclass(frozen=True)
class Market:
    """The alternatives of one scenario, coded.

    Attributes
    ----------
    names : tuple of str
        One per alternative, unique.
    X : ndarray, shape (J, K)
        Coded columns of each alternative.
    offset : ndarray, shape (J,)
        Fixed utility of each alternative (status-quo options given as utilities).
    kinds : tuple of {"offer", "status_quo", "none"}
    ours : tuple of bool
        Which alternatives are ours (revenue, profit and line-ups count these).
    prices : ndarray, shape (J,)
        The price of each offer (NaN where there is none).
    offers : tuple of (mapping or None)
        The attribute levels of each offer (None for status quo and none).
    coding : ConjointCoding or None
        How offers are coded (None for a market built from arrays).
    """

    names: tuple[str, ...]
    X: np.ndarray
    offset: np.ndarray
    kinds: tuple[str, ...]
    ours: tuple[bool, ...]
    prices: np.ndarray
    offers: tuple[Mapping[str, object] | None, ...]
    coding: ConjointCoding | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        J = len(self.names)
        if J == 0:
            raise OfferlabError("a market needs at least one alternative")
        if len(set(self.names)) != J:
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise OfferlabError(f"alternative names must be unique; repeated: {dup}")
        for name, arr in (("X", self.X), ("offset", self.offset), ("prices", self.prices)):
            if np.asarray(arr).shape[0] != J:
                raise OfferlabError(f"market {name} has {np.asarray(arr).shape[0]} rows for {J}")
        if any(k not in KINDS for k in self.kinds):
            raise OfferlabError(f"kinds must be among {KINDS}; got {self.kinds}")

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_offers(
        cls,
        coding: ConjointCoding,
        offers: Iterable[Mapping[str, object]],
        *,
        status_quo: Iterable[Mapping[str, object]] = (),
        none: bool = True,
    ) -> Market:
        """Code a scenario.

        Parameters
        ----------
        coding : ConjointCoding
            The fit's coding (``results.coding``).
        offers : list of mapping
            ``{"name": …, "ours": bool (default False), attribute: level, …}``, or
            ``{"name": …, "ours": …, "levels": {attribute: level}}``. Numbers between
            two levels of a numeric or price attribute are interpolated.
        status_quo : list of mapping
            ``{"name": "buy", "utility": 0.4}`` (a fixed utility, the same for every
            respondent) and/or ``{"name": "lease", "constant": "asc_lease"}`` (a
            coefficient of the model acting as the alternative's constant); both may
            be given (the utility is added to the constant).
        none : bool
            Add the none option when the model has a none constant.
        """
        attributes = [b.attribute for b in coding.blocks]
        price_attr = coding.study.price_attribute
        names: list[str] = []
        rows: list[np.ndarray] = []
        offsets: list[float] = []
        kinds: list[str] = []
        ours: list[bool] = []
        prices: list[float] = []
        levels: list[Mapping[str, object] | None] = []
        for i, raw in enumerate(offers):
            if not isinstance(raw, Mapping):
                raise OfferlabError(f"offer {i + 1} must be a mapping; got {type(raw).__name__}")
            offer = dict(raw)
            name = str(offer.pop("name", f"offer {i + 1}"))
            is_ours = offer.pop("ours", False)
            if not isinstance(is_ours, bool):
                raise OfferlabError(f"offer '{name}': 'ours' must be true or false")
            if "levels" in offer and "levels" not in attributes:
                inner = offer.pop("levels")
                if offer or not isinstance(inner, Mapping):
                    raise OfferlabError(f"offer '{name}': unknown key(s) {sorted(offer)}")
                offer = dict(inner)
            rows.append(coding.code_offer(offer, what=f"offer '{name}'"))
            names.append(name)
            offsets.append(0.0)
            kinds.append("offer")
            ours.append(is_ours)
            prices.append(float(offer[price_attr.name]) if price_attr is not None else np.nan)  # type: ignore[arg-type]
            levels.append(offer)
        for raw in status_quo:
            sq = dict(raw)
            name = str(sq.pop("name", f"status quo {len(names) + 1}"))
            utility = sq.pop("utility", 0.0)
            constant = sq.pop("constant", None)
            if sq:
                raise OfferlabError(f"status quo '{name}': unknown key(s) {sorted(sq)}")
            try:
                utility = float(utility)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise OfferlabError(f"status quo '{name}': utility must be a number") from None
            if not np.isfinite(utility):
                raise OfferlabError(f"status quo '{name}': utility must be finite")
            x = np.zeros(coding.n_params)
            if constant is not None:
                if constant not in coding.names:
                    raise OfferlabError(
                        f"status quo '{name}': the model has no coefficient {constant!r}; "
                        f"it has {list(coding.names)}"
                    )
                x[coding.names.index(constant)] = 1.0
            elif "utility" not in raw:
                raise OfferlabError(f"status quo '{name}' needs a 'utility' or a 'constant'")
            rows.append(x)
            names.append(name)
            offsets.append(utility)
            kinds.append("status_quo")
            ours.append(False)
            prices.append(np.nan)
            levels.append(None)
        if none and coding.none_index is not None:
            x = np.zeros(coding.n_params)
            x[coding.none_index] = 1.0
            rows.append(x)
            names.append(NONE_NAME)
            offsets.append(0.0)
            kinds.append("none")
            ours.append(False)
            prices.append(np.nan)
            levels.append(None)
        if not rows:
            raise OfferlabError("a market needs at least one offer")
        return cls(
            tuple(names), np.vstack(rows), np.asarray(offsets), tuple(kinds), tuple(ours),
            np.asarray(prices, dtype=float), tuple(levels), coding,
        )  # fmt: skip

    @classmethod
    def from_arrays(
        cls,
        names: Sequence[str],
        X: np.ndarray,
        *,
        offset: np.ndarray | None = None,
        prices: np.ndarray | None = None,
        ours: Sequence[bool] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> Market:
        """A market of already coded alternatives (e.g. rows of a spec fit's ModelMatrix)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        J = X.shape[0]
        return cls(
            tuple(str(n) for n in names),
            X,
            np.zeros(J) if offset is None else np.asarray(offset, dtype=float),
            tuple(kinds) if kinds is not None else ("offer",) * J,
            tuple(bool(o) for o in ours) if ours is not None else (False,) * J,
            np.full(J, np.nan) if prices is None else np.asarray(prices, dtype=float),
            (None,) * J,
            None,
        )

    # -- variations ------------------------------------------------------------------------
    @property
    def blocks(self) -> list[tuple[int, int]] | None:
        """The columns of each attribute (None for a market built from arrays)."""
        if self.coding is None:
            return None
        return [(b.start, b.stop) for b in self.coding.blocks]

    @property
    def level_ids(self) -> np.ndarray:
        """Level ids (J, A) (RFC's errors); status quo and none share no level."""
        offers = np.array([k == "offer" for k in self.kinds])
        return level_ids(self.X, self.blocks, offers)

    @property
    def n_alternatives(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Position of the alternative ``name``."""
        if name not in self.names:
            raise OfferlabError(
                f"the market has no alternative {name!r}; it has {list(self.names)}"
            )
        return self.names.index(name)

    def with_offer(self, name: str, **changes: object) -> Market:
        """The same market with offer ``name`` changed (``attribute=level`` pairs)."""
        j = self.index(name)
        if self.coding is None or self.offers[j] is None:
            raise OfferlabError(f"'{name}' is not an offer coded from attribute levels")
        offer = {**self.offers[j], **changes}  # type: ignore[dict-item]
        x = self.coding.code_offer(offer, what=f"offer '{name}'")
        X = self.X.copy()
        X[j] = x
        prices = self.prices.copy()
        price_attr = self.coding.study.price_attribute
        if price_attr is not None:
            prices[j] = float(offer[price_attr.name])  # type: ignore[arg-type]
        offers = list(self.offers)
        offers[j] = offer
        return replace(self, X=X, prices=prices, offers=tuple(offers))

    def with_price(self, name: str, price: float) -> Market:
        """The same market with the price of ``name`` set to ``price``."""
        attr = self.price_attribute()
        return self.with_offer(name, **{attr.name: float(price)})

    def price_attribute(self) -> PriceAttribute:
        """The study's price attribute (an error when the study has none)."""
        if self.coding is None or self.coding.study.price_attribute is None:
            raise OfferlabError("this needs a study with a price attribute")
        return self.coding.study.price_attribute

    def without(self, name: str) -> Market:
        """The market without alternative ``name``."""
        j = self.index(name)
        keep = [i for i in range(self.n_alternatives) if i != j]
        return replace(
            self,
            names=tuple(self.names[i] for i in keep),
            X=self.X[keep],
            offset=self.offset[keep],
            kinds=tuple(self.kinds[i] for i in keep),
            ours=tuple(self.ours[i] for i in keep),
            prices=self.prices[keep],
            offers=tuple(self.offers[i] for i in keep),
        )


@dataclass(frozen=True)
class ShareDraws:
    """Shares of one market: point values and their draws.

    Attributes
    ----------
    names : tuple of str
        Alternatives (J).
    segments : tuple
        Segment labels (G); ``("all",)`` without segments.
    point : ndarray, shape (G, J)
        Shares from the population.
    draws : ndarray, shape (S, G, J), or None
        Shares from each uncertainty draw of the population.
    """

    names: tuple[str, ...]
    segments: tuple[object, ...]
    point: np.ndarray
    draws: np.ndarray | None


class MarketSimulator:
    """Shares of concrete markets for one population under one choice rule.

    Parameters
    ----------
    population : Population
        See :func:`~offerlab.decide.population_from_results`.
    rule : {"logit", "first_choice", "rfc"}, default "logit"
        Share of preference, first choice, randomized first choice.
    scale : float, default 1.0
        λ multiplying every utility: below 1 flattens shares, above 1 sharpens them.
    attribute_error, product_error : float, default 0.0 and 1.0
        RFC: scales of the Gumbel errors on the coded coefficients and on each
        alternative (see :func:`~offerlab.decide._kernels.grouped_shares`). The
        defaults make RFC equal the logit rule; raise ``attribute_error`` to let
        alternatives sharing levels compete more with each other (less IIA).
    rfc_draws : int, default 1
        RFC: attribute-error draws per population row.
    rfc_draw_errors : int, default :data:`RFC_DRAW_ERRORS`
        RFC: attribute-error draws per uncertainty draw of the population, spread
        over its rows (:meth:`uncertainty_rfc_draws`); never more per row than
        ``rfc_draws``.
    n_draws : int, default 200
        Uncertainty draws for the intervals (0: none).
    interval : float, default 0.95
        Coverage of the intervals.
    seed : int, default 0
        Seeds the uncertainty draws (drawn once, reused by every market, so markets
        are compared on the same draws) and the RFC errors (the same for every call).
    threads : int, default 2
    """

    def __init__(
        self,
        population: Population,
        *,
        rule: Rule = "logit",
        scale: float = 1.0,
        attribute_error: float = 0.0,
        product_error: float = 1.0,
        rfc_draws: int = 1,
        rfc_draw_errors: int | None = None,
        n_draws: int = 200,
        interval: float = 0.95,
        seed: int = 0,
        threads: int = 2,
    ) -> None:
        if rule not in RULES:
            raise OfferlabError(f"rule must be one of {list(RULES)}; got {rule!r}")
        for label, value in (
            ("scale", scale),
            ("attribute_error", attribute_error),
            ("product_error", product_error),
        ):
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise OfferlabError(f"{label} must be a finite number >= 0; got {value!r}")
        if scale <= 0:
            raise OfferlabError(f"scale must be positive; got {scale!r}")
        if not (isinstance(rfc_draws, int) and rfc_draws >= 1):
            raise OfferlabError(f"rfc_draws must be an int >= 1; got {rfc_draws!r}")
        if rfc_draw_errors is None:
            rfc_draw_errors = RFC_DRAW_ERRORS
        if not (isinstance(rfc_draw_errors, int) and rfc_draw_errors >= 1):
            raise OfferlabError(f"rfc_draw_errors must be an int >= 1; got {rfc_draw_errors!r}")
        if not (isinstance(n_draws, int) and n_draws >= 0):
            raise OfferlabError(f"n_draws must be an int >= 0; got {n_draws!r}")
        if not 0 < interval < 1:
            raise OfferlabError(f"interval must lie in (0, 1); got {interval!r}")
        if n_draws and not population.has_uncertainty:
            n_draws = 0  # nothing to draw from: point shares only
        self.population = population
        self.rule: Rule = rule
        self.scale = float(scale)
        self.attribute_error = float(attribute_error)
        self.product_error = float(product_error)
        self.rfc_draws = rfc_draws
        self.rfc_draw_errors = rfc_draw_errors
        self.n_draws = n_draws
        self.interval = interval
        self.seed = seed
        self.threads = threads
        self._draws: np.ndarray | None = None
        # Segments: codes 0..G−1 for the population rows (and the draw rows).
        seg = population.segments
        if seg is None:
            self.segment_labels: tuple[object, ...] = ("all",)
            self._codes = None
        else:
            labels, codes = np.unique(seg, return_inverse=True)
            self.segment_labels = tuple(labels.tolist())
            self._codes = codes

    @property
    def provenance(self) -> Provenance:
        """Which model, level, rule and draws this simulator's numbers come from."""
        pop = self.population
        return Provenance(
            model=pop.model or "unnamed population",
            level=pop.level or ("aggregate" if pop.n_rows == 1 else "individual"),
            rule=RULE_TITLES[self.rule],
            n_draws=self.n_draws,
            scale=self.scale,
            rows=pop.n_rows,
        )

    # -- draws -----------------------------------------------------------------------------
    def uncertainty_draws(self) -> np.ndarray | None:
        """The population's uncertainty draws (S, R_u, K), drawn once."""
        if self.n_draws == 0:
            return None
        if self._draws is None:
            self._draws = self.population.draws(self.n_draws, self._draw_rng())
        return self._draws

    def _draw_rng(self) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, 1]))

    def draw_respondents(self) -> np.ndarray | None:
        """Which respondent (0-based, in the fit's order) each row of each uncertainty draw
        is, shape (S, R_u), where the draws are bootstrap samples of respondents (HB);
        else None."""
        respondents = getattr(self.population.uncertainty, "respondents", None)
        if self.n_draws == 0 or respondents is None:
            return None
        return respondents(self.n_draws, self._draw_rng())

    def _draw_codes(self, R_u: int) -> np.ndarray | None:
        seg = self.population.draw_segments(R_u)
        if seg is None:
            return None
        lookup = {label: i for i, label in enumerate(self.segment_labels)}
        try:
            return np.array([lookup[s] for s in seg.tolist()], dtype=np.int64)
        except KeyError as exc:
            raise OfferlabError(f"uncertainty segment {exc} is not a population segment") from None

    def uncertainty_rfc_draws(self, rows_per_draw: int) -> int:
        """RFC error draws per row of an uncertainty draw of ``rows_per_draw`` rows.

        Each uncertainty draw's shares are a mean over its rows; its RFC error draws need
        only make that mean precise (:attr:`rfc_draw_errors` of them in all), not each
        row's. With HB's 1,000 respondents per draw that is 5 a row, while the point
        shares keep :attr:`rfc_draws` per row (20 per row made the optimiser's
        1,000 x 1,000 HB case take 386 s). The price: the errors' Monte Carlo noise widens
        the spread of the draws a little (about 6% in SD there; 1.5% with 20 a row)."""
        if self.rule != "rfc":
            return 1
        return min(self.rfc_draws, max(1, -(-self.rfc_draw_errors // max(1, rows_per_draw))))

    def _kernel(self, B: np.ndarray, w: np.ndarray, group: np.ndarray | None, n_groups: int,
                market: Market, rfc_draws: int | None = None) -> np.ndarray:  # fmt: skip
        return grouped_shares(
            B, w, market.X, market.offset, group=group, n_groups=n_groups, rule=self.rule,
            scale=self.scale, attribute_error=self.attribute_error,
            product_error=self.product_error,
            rfc_draws=self.rfc_draws if rfc_draws is None else rfc_draws,
            seed=np.random.SeedSequence([self.seed, 2]), threads=self.threads,
            levels=market.level_ids if self.rule == "rfc" else None,
        )  # fmt: skip

    # -- shares ----------------------------------------------------------------------------
    def share_draws(self, market: Market, *, draws: bool = True) -> ShareDraws:
        """Point shares (G, J) and, with ``draws``, their uncertainty draws (S, G, J)."""
        self._check(market)
        G = len(self.segment_labels)
        pop = self.population
        point = self._kernel(pop.B, pop.w, self._codes, G, market)
        D = self.uncertainty_draws() if draws else None
        out = None
        if D is not None:
            S, R_u, K = D.shape
            w = np.tile(self.population.draw_weights(R_u), S)
            codes = self._draw_codes(R_u)
            base = np.zeros(R_u, dtype=np.int64) if codes is None else codes
            group = (np.arange(S)[:, None] * G + base[None, :]).ravel()
            flat = self._kernel(
                D.reshape(S * R_u, K), w, group, S * G, market, self.uncertainty_rfc_draws(R_u)
            )
            out = flat.reshape(S, G, market.n_alternatives)
        return ShareDraws(market.names, self.segment_labels, point, out)

    def shares(
        self,
        market: Market,
        *,
        by_segment: bool = False,
        costs: Mapping[str, float] | None = None,
    ) -> pd.DataFrame:
        """Shares of every alternative with intervals; revenue per head where priced.

        Returns
        -------
        DataFrame
            Columns ``segment`` (with ``by_segment``), ``alternative``, ``kind``,
            ``ours``, ``price``, ``share`` (they sum to 1 in every segment), and with
            uncertainty draws ``lower``, ``upper`` (percentile interval over the draws)
            and ``se`` (their SD); ``revenue`` = price × share (per person in the market)
            for priced alternatives, with ``revenue_lower``/``revenue_upper``. With
            ``costs`` (cost per alternative, e.g. :meth:`MarketSpec.offer_costs`):
            ``cost``, ``margin`` (price − cost) and ``profit`` = margin × share, with
            ``profit_lower``/``profit_upper`` from the same draws as the shares.
        """
        sd = self.share_draws(market)
        point, draws = sd.point, sd.draws
        labels: tuple[object, ...] = sd.segments
        if not by_segment and len(self.segment_labels) > 1:
            point, draws = self._whole_market(sd)
            point, labels = point[None, :], ("all",)
            draws = None if draws is None else draws[:, None, :]
        frames = []
        tail = (1 - self.interval) / 2
        for g, label in enumerate(labels):
            frame = pd.DataFrame(
                {
                    "alternative": list(market.names),
                    "kind": list(market.kinds),
                    "ours": list(market.ours),
                    "price": market.prices,
                    "share": point[g],
                }
            )
            if draws is not None:
                frame["lower"] = np.quantile(draws[:, g], tail, axis=0)
                frame["upper"] = np.quantile(draws[:, g], 1 - tail, axis=0)
                frame["se"] = draws[:, g].std(axis=0, ddof=1) if len(draws) > 1 else np.nan
            frame["revenue"] = market.prices * point[g]
            if draws is not None:
                rev = draws[:, g] * market.prices
                frame["revenue_lower"] = np.quantile(rev, tail, axis=0)
                frame["revenue_upper"] = np.quantile(rev, 1 - tail, axis=0)
            if costs is not None:
                cost = np.array([costs.get(n, np.nan) for n in market.names], dtype=float)
                margin = market.prices - cost
                frame["cost"] = cost
                frame["margin"] = margin
                frame["profit"] = margin * point[g]
                if draws is not None:
                    profit = draws[:, g] * margin
                    frame["profit_lower"] = np.quantile(profit, tail, axis=0)
                    frame["profit_upper"] = np.quantile(profit, 1 - tail, axis=0)
            if by_segment:
                frame.insert(0, "segment", label)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def whole_market(
        self, market: Market, *, draws: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Whole-market shares of every alternative: point (J,) and draws (S, J) or None,
        the segments weighted by their population mass (the same draws as :meth:`shares`;
        none with ``draws=False``)."""
        return self._whole_market(self.share_draws(market, draws=draws))

    def _whole_market(self, sd: ShareDraws) -> tuple[np.ndarray, np.ndarray | None]:
        point = self._segment_mass() @ sd.point
        if sd.draws is None:
            return point, None
        return point, np.einsum("g,sgj->sj", self._draw_mass(), sd.draws)

    def _segment_mass(self) -> np.ndarray:
        if self._codes is None:
            return np.ones(1)
        return np.bincount(
            self._codes, weights=self.population.w, minlength=len(self.segment_labels)
        )

    def _draw_mass(self) -> np.ndarray:
        D = self.uncertainty_draws()
        assert D is not None
        R_u = D.shape[1]
        codes = self._draw_codes(R_u)
        w = self.population.draw_weights(R_u)
        if codes is None:
            return np.ones(1)
        return np.bincount(codes, weights=w, minlength=len(self.segment_labels))

    def _check(self, market: Market) -> None:
        K = len(self.population.names)
        if market.X.shape[1] != K:
            raise OfferlabError(
                f"the market is coded in {market.X.shape[1]} columns, the population has {K}"
            )
        if market.coding is not None and tuple(market.coding.names) != self.population.names:
            raise OfferlabError(
                "the market's coding and the population name different coefficients: "
                f"{list(market.coding.names)} vs {list(self.population.names)}"
            )

    # -- one alternative across variations -------------------------------------------------
    def share_of(
        self, markets: Sequence[Market], name: str | Sequence[str], *, draws: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Whole-market share of ``name`` (or the summed share of several) per market.

        Returns (point (M,), draws (S, M) or None).
        """
        names = [name] if isinstance(name, str) else list(name)
        points, all_draws = [], []
        mass = self._segment_mass()
        for market in markets:
            idx = [market.index(n) for n in names]
            sd = self.share_draws(market, draws=draws)
            points.append(float(mass @ sd.point[:, idx].sum(axis=1)))
            if sd.draws is not None:
                all_draws.append(
                    np.einsum("g,sg->s", self._draw_mass(), sd.draws[:, :, idx].sum(2))
                )
        return np.asarray(points), (np.stack(all_draws, axis=1) if all_draws else None)


def simulate_market(
    results: Any,
    offers: Iterable[Mapping[str, object]],
    *,
    status_quo: Iterable[Mapping[str, object]] = (),
    none: bool = True,
    rule: Rule = "logit",
    scale: float = 1.0,
    n: int = 1000,
    n_draws: int = 200,
    interval: float = 0.95,
    segments: Sequence[object] | None = None,
    by_segment: bool = False,
    seed: int = 0,
    **rfc: Any,
) -> pd.DataFrame:
    """Shares of a scenario from any fitted conjoint model, in one call.

    Builds the population (:func:`~offerlab.decide.population_from_results`), codes the
    market (:meth:`Market.from_offers`) and returns :meth:`MarketSimulator.shares`.
    ``rfc`` passes ``attribute_error``, ``product_error`` and ``rfc_draws``.
    """
    from offerlab.decide._population import population_from_results

    coding = getattr(results, "coding", None)
    if coding is None:
        raise OfferlabError("the market simulator needs a conjoint fit (fit(data, study=...))")
    pop = (
        decision_population(results, n=n, seed=seed)
        if segments is None
        else population_from_results(results, n=n, rng=seed, segments=segments)
    )
    market = Market.from_offers(coding, offers, status_quo=status_quo, none=none)
    sim = MarketSimulator(
        pop, rule=rule, scale=scale, n_draws=n_draws, interval=interval, seed=seed, **rfc
    )
    return sim.shares(market, by_segment=by_segment)


#: The rules by their short names (the CLI's ``--rule``, the console's form).
RULE_NAMES: dict[str, Rule] = {"sop": "logit", "fc": "first_choice", "rfc": "rfc"}
RULE_TITLES: dict[str, str] = {
    "logit": "share of preference",
    "first_choice": "first choice",
    "rfc": "randomized first choice",
}
#: RFC's error draws per population row, at least; a small population (one MNL row, a
#: few classes) gets more, so every simulation averages over RFC_TOTAL_DRAWS draws.
RFC_DRAWS = 5
RFC_TOTAL_DRAWS = 20_000


def simulator_for(
    results: Any,
    rule: str = "sop",
    scale: float = 1.0,
    *,
    n_draws: int = 200,
    seed: int = 0,
    error: float = 1.0,
    aggregate: bool = False,
) -> MarketSimulator:
    """A market simulator on a fit's population, with its uncertainty and segments.

    ``rule`` is ``sop`` (share of preference), ``fc`` (first choice) or ``rfc``
    (randomized first choice: level and product errors of total size ``error``, see
    :func:`rfc_errors`, :data:`RFC_DRAWS` draws per row; as a first choice does not
    change when utilities and errors are scaled together, ``scale`` alone tunes it).
    The population is :func:`~offerlab.decide._population.decision_population`'s:
    individual-level (HB), class-level (latent class) or the estimated distribution
    (mixed logit) when the fit has it; ``aggregate`` asks for one average consumer
    instead.
    """
    if rule not in RULE_NAMES:
        raise OfferlabError(f"rule must be sop, fc or rfc; got {rule!r}")
    population = decision_population(results, seed=seed, aggregate=aggregate)
    extra: dict[str, Any] = {}
    if rule == "rfc":
        coding = getattr(results, "coding", None)
        n_attributes = len(coding.blocks) if coding is not None else len(population.names)
        sigma_a, sigma_p = rfc_errors(error, n_attributes)
        per_row = max(RFC_DRAWS, -(-RFC_TOTAL_DRAWS // population.n_rows))
        extra = {"attribute_error": sigma_a, "product_error": sigma_p, "rfc_draws": per_row}
    return MarketSimulator(
        population, rule=RULE_NAMES[rule], scale=scale, n_draws=n_draws, seed=seed, **extra
    )  # type: ignore[arg-type]

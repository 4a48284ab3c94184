"""Decide: the market simulator, sensitivity and demand, the optimiser, pricing studies,
and summaries of needs, motives and obstacles."""

from offerlab.decide._calibrate import ScaleCalibration, calibrate_scale
from offerlab.decide._kernels import grouped_shares
from offerlab.decide._market import (
    Market,
    MarketSimulator,
    Provenance,
    ShareDraws,
    rfc_errors,
    simulate_market,
    simulator_for,
)
from offerlab.decide._market_file import (
    MarketFile,
    MarketSpec,
    load_market,
    optimise_market,
    parse_market,
)
from offerlab.decide._needs import (
    group_open_text,
    none_choosers,
    option_frequencies,
    scale_means,
    segments_from,
    top_obstacles,
    wilson_interval,
)
from offerlab.decide._optimise import OfferSpace, OptimisationResult, offer_cost, optimise_offers
from offerlab.decide._population import (
    Population,
    decision_population,
    mnl_population,
    population_from_results,
)
from offerlab.decide._pricing import (
    GaborGrangerResult,
    VanWestendorpResult,
    gabor_granger,
    gabor_granger_frame,
    van_westendorp,
    van_westendorp_frame,
)
from offerlab.decide._sensitivity import (
    arc_elasticity,
    demand_curve,
    price_elasticity,
    sample_scenarios,
    sensitivity,
    tornado,
    wtp_by_simulation,
    wtp_ratio,
)

__all__ = [
    "GaborGrangerResult",
    "Market",
    "MarketFile",
    "MarketSimulator",
    "MarketSpec",
    "OfferSpace",
    "OptimisationResult",
    "Population",
    "Provenance",
    "ScaleCalibration",
    "ShareDraws",
    "VanWestendorpResult",
    "arc_elasticity",
    "calibrate_scale",
    "decision_population",
    "demand_curve",
    "gabor_granger",
    "gabor_granger_frame",
    "group_open_text",
    "grouped_shares",
    "load_market",
    "mnl_population",
    "none_choosers",
    "offer_cost",
    "optimise_market",
    "optimise_offers",
    "option_frequencies",
    "parse_market",
    "population_from_results",
    "price_elasticity",
    "rfc_errors",
    "sample_scenarios",
    "scale_means",
    "segments_from",
    "sensitivity",
    "simulate_market",
    "simulator_for",
    "top_obstacles",
    "tornado",
    "van_westendorp",
    "van_westendorp_frame",
    "wilson_interval",
    "wtp_by_simulation",
    "wtp_ratio",
]

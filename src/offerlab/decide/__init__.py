"""Decide: the market simulator, sensitivity and demand, the optimiser, pricing studies,
and summaries of needs, motives and obstacles."""

from offerlab.decide._calibrate import ScaleCalibration, calibrate_scale
from offerlab.decide._concepts import (
    DEFAULT_INTENT_WEIGHTS,
    calibrated_intent,
    compare_concepts,
    holm,
    order_effects,
    sequential_orders,
    top_box,
)
from offerlab.decide._conjoint_price import ConjointPrice
from offerlab.decide._findings import (
    Finding,
    edge_caution,
    edge_finding,
    recommendation_verdict,
    verdict_findings,
)
from offerlab.decide._gabor_granger import GaborGrangerResult, gabor_granger, gabor_granger_frame
from offerlab.decide._importance import Drivers, choice_drivers, drivers_of
from offerlab.decide._kano import (
    KANO_ANSWERS,
    KANO_CATEGORIES,
    KanoFeature,
    kano_category,
    kano_evaluation,
)
from offerlab.decide._kernels import grouped_shares
from offerlab.decide._market import (
    RULE_NAMES,
    RULE_TITLES,
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
    Objective,
    load_market,
    optimise_market,
    parse_market,
)
from offerlab.decide._money import (
    Costs,
    MarketMoney,
    edge_of_range,
    format_number,
    market_money,
    price_edge,
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
from offerlab.decide._needs_results import (
    ConceptResults,
    NeedsOptions,
    NeedsResults,
    concept_results,
    needs_results,
)
from offerlab.decide._offer_space import OfferSpace, offer_cost
from offerlab.decide._optimise import optimise_offers
from offerlab.decide._population import (
    Population,
    decision_population,
    mnl_population,
    population_from_results,
)
from offerlab.decide._pricing_study import PricingStudy, money_text, pricing_study
from offerlab.decide._profile_segments import (
    ProfileFilter,
    filtered_shares,
    profile_filters,
    profile_questions,
)
from offerlab.decide._recommendation import OptimisationResult
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
from offerlab.decide._trust import holdout_check, model_check_findings, model_checks
from offerlab.decide._truth import TrueMarket, coded_truth
from offerlab.decide._turf import (
    TurfBundle,
    TurfResult,
    reach_above_threshold,
    reach_from_scores,
    turf,
)
from offerlab.decide._van_westendorp import (
    VanWestendorpResult,
    van_westendorp,
    van_westendorp_frame,
)

__all__ = [
    "DEFAULT_INTENT_WEIGHTS",
    "KANO_ANSWERS",
    "KANO_CATEGORIES",
    "RULE_NAMES",
    "RULE_TITLES",
    "ConceptResults",
    "ConjointPrice",
    "Costs",
    "Drivers",
    "Finding",
    "GaborGrangerResult",
    "KanoFeature",
    "Market",
    "MarketFile",
    "MarketMoney",
    "MarketSimulator",
    "MarketSpec",
    "NeedsOptions",
    "NeedsResults",
    "Objective",
    "OfferSpace",
    "OptimisationResult",
    "Population",
    "PricingStudy",
    "ProfileFilter",
    "Provenance",
    "ScaleCalibration",
    "ShareDraws",
    "TrueMarket",
    "TurfBundle",
    "TurfResult",
    "VanWestendorpResult",
    "arc_elasticity",
    "calibrate_scale",
    "calibrated_intent",
    "choice_drivers",
    "coded_truth",
    "compare_concepts",
    "concept_results",
    "decision_population",
    "demand_curve",
    "drivers_of",
    "edge_caution",
    "edge_finding",
    "edge_of_range",
    "filtered_shares",
    "format_number",
    "gabor_granger",
    "gabor_granger_frame",
    "group_open_text",
    "grouped_shares",
    "holdout_check",
    "holm",
    "kano_category",
    "kano_evaluation",
    "load_market",
    "market_money",
    "mnl_population",
    "model_check_findings",
    "model_checks",
    "money_text",
    "needs_results",
    "none_choosers",
    "offer_cost",
    "optimise_market",
    "optimise_offers",
    "option_frequencies",
    "order_effects",
    "parse_market",
    "population_from_results",
    "price_edge",
    "price_elasticity",
    "pricing_study",
    "profile_filters",
    "profile_questions",
    "reach_above_threshold",
    "reach_from_scores",
    "recommendation_verdict",
    "rfc_errors",
    "sample_scenarios",
    "scale_means",
    "segments_from",
    "sensitivity",
    "sequential_orders",
    "simulate_market",
    "simulator_for",
    "top_box",
    "top_obstacles",
    "tornado",
    "turf",
    "van_westendorp",
    "van_westendorp_frame",
    "verdict_findings",
    "wilson_interval",
    "wtp_by_simulation",
    "wtp_ratio",
]

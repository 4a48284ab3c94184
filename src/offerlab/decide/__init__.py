"""Decide: the market simulator, sensitivity and demand, the optimiser, pricing studies,
and summaries of needs, motives and obstacles."""

from offerlab.decide._kernels import grouped_shares
from offerlab.decide._market import Market, MarketSimulator, ShareDraws, simulate_market
from offerlab.decide._population import Population, mnl_population, population_from_results

__all__ = [
    "Market",
    "MarketSimulator",
    "Population",
    "ShareDraws",
    "grouped_shares",
    "mnl_population",
    "population_from_results",
    "simulate_market",
]

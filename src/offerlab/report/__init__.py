"""Reports: tables and plots from results."""

from offerlab.report._plots import plot_importance, plot_partworths, plot_shares, plot_wtp

__all__ = ["plot_importance", "plot_partworths", "plot_shares", "plot_wtp"]

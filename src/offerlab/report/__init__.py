"""Reports: tables and plots from results."""

from offerlab.report._decide_plots import (
    plot_demand,
    plot_gabor_granger,
    plot_tornado,
    plot_van_westendorp,
)
from offerlab.report._excel import write_excel
from offerlab.report._hb_plots import plot_hb_trace
from offerlab.report._html import build_report, simulator_data, write_html
from offerlab.report._json import json_for_html
from offerlab.report._pdf import write_pdf
from offerlab.report._plots import plot_importance, plot_partworths, plot_shares, plot_wtp

__all__ = [
    "build_report",
    "json_for_html",
    "plot_demand",
    "plot_gabor_granger",
    "plot_hb_trace",
    "plot_importance",
    "plot_partworths",
    "plot_shares",
    "plot_tornado",
    "plot_van_westendorp",
    "plot_wtp",
    "simulator_data",
    "write_excel",
    "write_html",
    "write_pdf",
]

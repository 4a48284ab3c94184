"""Reports: the decision report (HTML, PDF, Excel), and tables and plots from results.

:func:`build_report` computes the report once (options as :class:`ReportOptions` or by
keyword); :func:`write_html`, :func:`write_pdf` and :func:`write_excel` write it. They
are loaded on first use, so importing a plot does not load the whole report.
"""

from typing import TYPE_CHECKING, Any

from offerlab.report._css import css_string
from offerlab.report._decide_plots import (
    plot_demand,
    plot_gabor_granger,
    plot_tornado,
    plot_van_westendorp,
)
from offerlab.report._hb_plots import hb_diagnostics, plot_hb_trace
from offerlab.report._json import json_for_html
from offerlab.report._plots import plot_importance, plot_partworths, plot_shares, plot_wtp
from offerlab.report._texts import report_catalogue

if TYPE_CHECKING:
    from offerlab.report._content import ReportContent, ReportOptions, build_report
    from offerlab.report._excel import write_excel
    from offerlab.report._html import render_html, write_html
    from offerlab.report._pdf import pdf_document, write_pdf, write_pdf_document
    from offerlab.report._simulator_data import (
        SIMULATOR_LOCALES,
        profile_filter_data,
        simulator_data,
    )

__all__ = [
    "SIMULATOR_LOCALES",
    "ReportContent",
    "ReportOptions",
    "build_report",
    "css_string",
    "hb_diagnostics",
    "json_for_html",
    "pdf_document",
    "plot_demand",
    "plot_gabor_granger",
    "plot_hb_trace",
    "plot_importance",
    "plot_partworths",
    "plot_shares",
    "plot_tornado",
    "plot_van_westendorp",
    "plot_wtp",
    "profile_filter_data",
    "render_html",
    "report_catalogue",
    "simulator_data",
    "write_excel",
    "write_html",
    "write_pdf",
    "write_pdf_document",
]

_LAZY = {
    "ReportContent": "offerlab.report._content",
    "ReportOptions": "offerlab.report._content",
    "build_report": "offerlab.report._content",
    "render_html": "offerlab.report._html",
    "write_html": "offerlab.report._html",
    "write_pdf": "offerlab.report._pdf",
    "pdf_document": "offerlab.report._pdf",
    "write_pdf_document": "offerlab.report._pdf",
    "write_excel": "offerlab.report._excel",
    "simulator_data": "offerlab.report._simulator_data",
    "profile_filter_data": "offerlab.report._simulator_data",
    "SIMULATOR_LOCALES": "offerlab.report._simulator_data",
}


def __getattr__(name: str) -> Any:
    """The report's builders and writers, imported when first asked for."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'offerlab.report' has no attribute {name!r}")

"""Experimental designs for choice-based conjoint, and their diagnostics.

Make a design with :func:`make_design` (random, balanced or D-efficient), keep
it as a :class:`Design` (tidy CSV/Parquet I/O) and check it with
:func:`diagnose`. :func:`information_matrix`, :func:`d_error` and
:func:`street_burgess_bound` are the pure numerics behind them.
"""

from offerlab.design._bounds import street_burgess_bound
from offerlab.design._design import Design
from offerlab.design._diagnostics import DesignDiagnostics, diagnose
from offerlab.design._information import d_error, information_matrix
from offerlab.design._make import METHODS, make_design
from offerlab.design._maxdiff import (
    MaxDiffDesign,
    MaxDiffDiagnostics,
    make_maxdiff_design,
    maxdiff_d_error,
)

__all__ = [
    "METHODS",
    "Design",
    "DesignDiagnostics",
    "MaxDiffDesign",
    "MaxDiffDiagnostics",
    "d_error",
    "diagnose",
    "information_matrix",
    "make_design",
    "make_maxdiff_design",
    "maxdiff_d_error",
    "street_burgess_bound",
]

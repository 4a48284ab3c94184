"""The fixed choices of command-line options, as ``Literal`` types.

Typer turns a ``Literal`` into a choice: a typo gets "'robst' is not one of 'classic',
'robust', 'cluster'" naming the option, and ``--help`` lists the values.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "Coding",
    "CovType",
    "CovariancePrior",
    "Criterion",
    "DrawType",
    "Dual",
    "HessianKind",
    "InterweaveCoordinates",
    "Language",
    "Method",
    "Model",
]

Coding = Literal["effects", "dummy"]
CovType = Literal["classic", "robust", "cluster"]
Dual = Literal["sawtooth", "joint"]
Language = Literal["de", "fr", "it", "en"]
Method = Literal["efficient", "balanced", "random"]
Model = Literal["mnl", "lc", "mxl", "hb"]
Criterion = Literal["bic", "aic", "caic"]
DrawType = Literal["halton", "scrambled_halton", "sobol", "pseudo"]
HessianKind = Literal["numerical", "bhhh"]
CovariancePrior = Literal["inverse-wishart", "huang-wand"]
# the sampler's own (offerlab.numerics.InterweaveCoordinates): not imported, so that
# the command line starts without numpy
InterweaveCoordinates = Literal["entries", "row-ratios"]

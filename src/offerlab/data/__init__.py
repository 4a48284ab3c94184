"""Choice data: one documented long format, CSV/Parquet I/O, converters from peer formats,
and the cell rule of every CSV and Excel file we hand out (:func:`neutralise_formula`)."""

from offerlab.data._cells import (
    FORMULA_STARTS,
    neutralise_formula,
    neutralise_formulas,
    plain_spaces,
    write_csv,
)
from offerlab.data._choice_data import RESERVED_COLUMNS, ChoiceData, read_table, write_table
from offerlab.data._wide import WideAlternative, evaluate, wide_to_long

__all__ = [
    "FORMULA_STARTS",
    "RESERVED_COLUMNS",
    "ChoiceData",
    "WideAlternative",
    "evaluate",
    "neutralise_formula",
    "neutralise_formulas",
    "plain_spaces",
    "read_table",
    "wide_to_long",
    "write_csv",
    "write_table",
]

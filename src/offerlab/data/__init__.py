"""Choice data: one documented long format, CSV/Parquet I/O, and converters from peer formats."""

from offerlab.data._choice_data import RESERVED_COLUMNS, ChoiceData, read_table, write_table
from offerlab.data._wide import WideAlternative, evaluate, wide_to_long

__all__ = [
    "RESERVED_COLUMNS",
    "ChoiceData",
    "WideAlternative",
    "evaluate",
    "read_table",
    "wide_to_long",
    "write_table",
]

"""JSON for a page: the one way data goes into a ``<script type="application/json">`` block.

Inside a script element the HTML parser ends the element at the first ``</script``
and reads ``<!--`` as the start of an escaped-text state, whatever the JSON means;
older JavaScript engines ended a string at U+2028 and U+2029. So ``<``, ``>``, ``&``,
U+2028 and U+2029 are written as ``\\uXXXX`` escapes (JSON.parse gives the same
text back), and every character outside ASCII too (a lone surrogate cannot break
the page's UTF-8). JSON has no NaN or infinity: a non-finite number becomes
``null``, as JavaScript's JSON.stringify writes it.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["json_for_html"]

_HTML_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_for_html(value: Any) -> str:
    """``value`` as compact JSON that is safe inside a ``<script type="application/json">``
    element of an HTML page (put it there unescaped: ``{{ data | safe }}``)."""
    text = json.dumps(_finite(value), ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.translate(_HTML_ESCAPES)


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (NumPy's too) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value

"""The offline report's Content-Security-Policy, as a ``<meta>`` tag in the file itself.

The report is one file opened from disk or a mail attachment: no server sends headers.
Its only script is inline (the market simulator); the policy allows exactly that script
by its SHA-256 hash, so a script that an injection might add would not run. Styles and
images are inline too (``<style>``, ``data:`` PNGs); nothing is loaded from anywhere,
nothing posts anywhere. ``frame-ancestors`` cannot be set from a meta tag.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

__all__ = ["with_content_security_policy"]

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_CHARSET = '<meta charset="utf-8">'
_SIMULATOR_JS = Path(__file__).parent / "templates" / "_simulator.js"


def with_content_security_policy(page: str) -> str:
    """``page`` with a policy meta tag after its charset. Inline scripts are allowed by
    hash when they are the simulator's script, and only then: anything else that looks
    like a script stays blocked."""
    ours = _SIMULATOR_JS.read_text(encoding="utf-8").strip()
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in dict.fromkeys(_INLINE_SCRIPT.findall(page))
        if s.strip() == ours
    ]
    scripts = " ".join(hashes) or "'none'"
    policy = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src {scripts}; "
        "base-uri 'none'; form-action 'none'; object-src 'none'"
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    if _CHARSET not in page:
        raise ValueError("the report's template lost its charset meta tag")
    return page.replace(_CHARSET, _CHARSET + "\n" + meta, 1)

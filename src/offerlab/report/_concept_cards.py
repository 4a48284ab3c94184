"""The concept page's cards as respondents saw them: each concept's title, its image (read
and checked when the study was loaded, offerlab.study.concept_image) and its text.

The report's HTML and PDF hold PNG figures only: a JPEG or WebP image is decoded (Pillow,
which matplotlib already needs) and written again as a PNG no wider than
:data:`_MAX_SIDE` pixels; an image that does not decode, or decodes to more than
:data:`_MAX_PIXELS` pixels (a decompression bomb), is left out with no figure.
"""

from __future__ import annotations

import io
from typing import Any

from offerlab.report._texts import ReportTexts
from offerlab.study import ConceptImage, ConceptTestPage, Study, concept_image

__all__ = ["concept_card_blocks"]

_MAX_SIDE = 1200
_MAX_PIXELS = 40_000_000


def as_png(image: ConceptImage) -> bytes | None:
    """The image as a PNG at most ``_MAX_SIDE`` wide or high; None if it does not decode."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image.data)) as picture:
            if picture.width * picture.height > _MAX_PIXELS:
                return None
            picture.thumbnail((_MAX_SIDE, _MAX_SIDE))
            out = io.BytesIO()
            picture.convert("RGBA" if "A" in picture.getbands() else "RGB").save(out, "PNG")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return out.getvalue()


def concept_card_blocks(
    study: Study, page: ConceptTestPage | None, t: ReportTexts, figures: Any, block: type
) -> list[Any]:
    """One block per concept with an image: the title as heading, the image as its figure
    (alt text and caption: the concept's ``alt``, else its title), the text as a line.
    ``figures`` is the page's figure collection (``png``, ``captions``, ``on``); ``block``
    the page's block type."""
    if page is None or not figures.on:
        return []
    blocks = []
    for concept in page.concepts:
        image = concept_image(study, page.id, concept.name)
        png = as_png(image) if image is not None else None
        if png is None:
            continue
        title = study.text(concept.title, t.language)
        name = f"concept_card_{concept.name}"
        figures.png[name] = png
        alt = concept.alt if concept.alt is not None else concept.title
        figures.captions[name] = study.text(alt, t.language)
        blocks.append(block(title, lines=[study.text(concept.text, t.language)], figure=name))
    return blocks

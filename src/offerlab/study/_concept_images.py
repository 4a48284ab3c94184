"""Concept cards' images: read once from the study's folder when the study file is loaded,
each checked before anything shows it.

A study file names an image relative to its folder (``image: pictures/flex.png``). The
image is read only if, with every symbolic link resolved, it is a regular file inside that
folder (no ``..``, no absolute path, no link leading out), at most
:data:`MAX_CONCEPT_IMAGE_BYTES`, and its first bytes are those of the type its name says
(PNG, JPEG or WebP: an HTML or SVG file renamed ``.png`` is refused). A study given as text
(uploaded in the console) has no folder: its concept cards show no image.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from offerlab.exceptions import StudyProblem

if TYPE_CHECKING:
    from offerlab.study._model import Study

__all__ = ["MAX_CONCEPT_IMAGE_BYTES", "ConceptImage", "concept_image", "read_concept_images"]

#: The largest concept image read (a phone downloads it with the page).
MAX_CONCEPT_IMAGE_BYTES = 1_500_000

#: Each image type: the suffixes it is named with, and how its content starts.
_TYPES: dict[str, tuple[tuple[str, ...], Callable[[bytes], bool]]] = {
    "image/png": ((".png",), lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/jpeg": ((".jpg", ".jpeg"), lambda b: b.startswith(b"\xff\xd8\xff")),
    "image/webp": ((".webp",), lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
}


@dataclass(frozen=True)
class ConceptImage:
    """A checked image: its media type (from its content) and bytes."""

    media_type: str
    data: bytes

    @property
    def data_uri(self) -> str:
        import base64

        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


class ConceptImageError(ValueError):
    """Why an image cannot be shown (the message names the problem, not a traceback)."""


def read_concept_image(folder: Path, name: str) -> ConceptImage:
    """The image ``name`` (relative to ``folder``), checked as the module says.

    Raises :class:`ConceptImageError` with a sentence saying what is wrong."""
    relative = PurePosixPath(name.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or ":" in name or not relative.parts:
        raise ConceptImageError("an image is a file inside the study's folder")
    suffix = relative.suffix.lower()
    expected = next((t for t, (suffixes, _) in _TYPES.items() if suffix in suffixes), None)
    if expected is None:
        raise ConceptImageError("an image is a .png, .jpg, .jpeg or .webp file")
    root = folder.resolve()
    path = (root / Path(*relative.parts)).resolve()
    if not path.is_relative_to(root):
        raise ConceptImageError("the image leads out of the study's folder (a link)")
    try:
        # O_NOFOLLOW is not needed: ``path`` is already resolved; O_NONBLOCK keeps a FIFO
        # from blocking the open (it is then refused as not a regular file).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        raise ConceptImageError(f"no image file {name!r} in the study's folder") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConceptImageError(f"{name!r} is not a file")
        data = b""
        while len(data) <= MAX_CONCEPT_IMAGE_BYTES:
            piece = os.read(fd, MAX_CONCEPT_IMAGE_BYTES + 1 - len(data))
            if not piece:
                break
            data += piece
    finally:
        os.close(fd)
    if len(data) > MAX_CONCEPT_IMAGE_BYTES:
        raise ConceptImageError(
            f"the image is larger than {MAX_CONCEPT_IMAGE_BYTES // 1000:,} kB: make it smaller"
        )
    if not _TYPES[expected][1](data):
        raise ConceptImageError(f"{name!r} is not a {expected.split('/')[1].upper()} image")
    return ConceptImage(expected, data)


def read_concept_images(
    study: Study, folder: Path, locate: Callable[[tuple], tuple[int | None, int | None]]
) -> list[StudyProblem]:
    """Read every concept card's image from ``folder`` into the study; the problems of
    those that cannot be shown (each placed at its ``image`` field)."""
    from offerlab.study._checks import field_path
    from offerlab.study._maxdiff_kano_concept import ConceptTestPage

    problems = []
    pages = study.questionnaire.pages if study.questionnaire is not None else []
    for p, page in enumerate(pages):
        if not isinstance(page, ConceptTestPage):
            continue
        for j, concept in enumerate(page.concepts):
            if concept.image is None:
                continue
            where = ("questionnaire", "pages", p, "concepts", j, "image")
            try:
                study._concept_images[(page.id, concept.name)] = read_concept_image(
                    folder, concept.image
                )
            except ConceptImageError as exc:
                line, column = locate(where)
                problems.append(StudyProblem(str(exc), field_path(where), line, column))
    return problems


def concept_image(study: Study, page_id: str, concept: str) -> ConceptImage | None:
    """The checked image of ``concept`` on page ``page_id``; None when it has none (or the
    study was given as text, without a folder)."""
    return study._concept_images.get((page_id, concept))

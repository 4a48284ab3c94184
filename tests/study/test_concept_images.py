"""Concept images: read from the study's folder only, checked by content and size, and
refused with a message naming the file, line and field for every hostile case."""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

import pytest

from offerlab.exceptions import StudyError
from offerlab.study import MAX_CONCEPT_IMAGE_BYTES, concept_image, load_study, parse_study

STUDY = Path(__file__).resolve().parents[1] / "field" / "page_types_study.yaml"


def png(width: int = 4, height: int = 3) -> bytes:
    """A real PNG (grey pixels), written by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


def study_with_image(folder: Path, image: str, alt: bool = True) -> Path:
    """The page-types study in ``folder`` whose concept 'trial' shows ``image``."""
    text = STUDY.read_text(encoding="utf-8")
    extra = f"          image: {image!r}\n"
    if alt:
        extra += ("          alt: {de: Ein blaues Elektroauto, fr: Une voiture électrique bleue,"
                  " it: Un'auto elettrica blu, en: A blue electric car}\n")  # fmt: skip
    text = text.replace("        - name: trial\n", "        - name: trial\n" + extra)
    path = folder / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_image_inside_the_folder_is_read_once_with_its_type_from_its_content(tmp_path):
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "trial.png").write_bytes(png())
    study = load_study(study_with_image(tmp_path, "pictures/trial.png"))
    page = next(p for p in study.questionnaire.pages if p.type == "concept_test")
    image = concept_image(study, page.id, "trial")
    assert image is not None and image.media_type == "image/png" and image.data == png()
    assert image.data_uri.startswith("data:image/png;base64,iVBORw0KGgo")
    assert concept_image(study, page.id, "flex") is None  # a concept without an image
    # a study given as text has no folder: no image, and no error
    text = study_with_image(tmp_path, "pictures/trial.png").read_text(encoding="utf-8")
    assert concept_image(parse_study(text, "upload.yaml"), page.id, "trial") is None


def _hostile(tmp_path: Path, case: str) -> str:
    """Set up the hostile ``case`` in ``tmp_path`` (the study's folder); the image name."""
    outside = tmp_path.parent / f"outside-{case}"
    outside.mkdir(exist_ok=True)
    (outside / "secret.png").write_bytes(png())
    if case == "missing":
        return "pictures/none.png"
    if case == "link_out":
        os.symlink(outside / "secret.png", tmp_path / "link.png")
        return "link.png"
    if case == "folder_link_out":
        os.symlink(outside, tmp_path / "pictures")
        return "pictures/secret.png"
    if case == "html_as_png":
        (tmp_path / "page.png").write_bytes(b"<html><script>alert(1)</script></html>")
        return "page.png"
    if case == "svg_as_png":
        (tmp_path / "logo.png").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
        return "logo.png"
    if case == "jpeg_named_png":
        (tmp_path / "photo.png").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
        return "photo.png"
    if case == "too_big":
        (tmp_path / "big.png").write_bytes(png() + b"\0" * MAX_CONCEPT_IMAGE_BYTES)
        return "big.png"
    if case == "a_folder":
        (tmp_path / "dir.png").mkdir()
        return "dir.png"
    if case == "fifo":
        os.mkfifo(tmp_path / "pipe.png")
        return "pipe.png"
    if case == "dot_dot":
        return "../outside-dot_dot/secret.png"
    if case == "absolute":
        return str(outside / "secret.png")
    if case == "backslashes":
        return "..\\outside-backslashes\\secret.png"
    raise AssertionError(case)


HOSTILE = {
    "missing": "no image file 'pictures/none.png'",
    "link_out": "leads out of the study's folder",
    "folder_link_out": "leads out of the study's folder",
    "html_as_png": "is not a PNG image",
    "svg_as_png": "is not a PNG image",
    "jpeg_named_png": "is not a PNG image",
    "too_big": "larger than 1,500 kB",
    "a_folder": "is not a file",
    "fifo": "is not a file",
    "dot_dot": "an image is a file inside the study's folder",
    "absolute": "an image is a file inside the study's folder",
    "backslashes": "an image is a file inside the study's folder",
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_image_is_refused_naming_file_line_and_field(tmp_path, case):
    folder = tmp_path / "study"
    folder.mkdir()
    name = _hostile(folder, case)
    path = study_with_image(folder, name)
    with pytest.raises(StudyError) as caught:
        load_study(path)
    message = str(caught.value)
    assert str(path) in message and HOSTILE[case] in message, message
    assert re.search(r":\d+:\d+: questionnaire\.pages\[3\]\.concepts\[1\]\.image:", message)
    assert "Traceback" not in message

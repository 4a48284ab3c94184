"""The report's concept page shows each concept's image as respondents saw it (a JPEG of the
study's folder, embedded as a PNG no wider than 1,200 px) with its alt text in the report's
language, in the HTML and in the PDF; page screenshots go to tests/artifacts/report/."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from offerlab.report import build_report, render_html, write_pdf
from offerlab.simulate import simulate_needs_answers
from offerlab.study import load_study

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "report"
ALT = {"de": "Ein blaues Elektroauto an einer Ladesäule", "fr": "Une voiture électrique bleue"}


def _picture() -> bytes:
    """A 2000 x 1000 JPEG: a blue car-like shape on a light ground."""
    picture = Image.new("RGB", (2000, 1000), (232, 238, 244))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((300, 380, 1700, 720), radius=120, fill=(30, 90, 200))
    draw.rounded_rectangle((650, 220, 1350, 420), radius=80, fill=(30, 90, 200))
    for x in (600, 1400):
        draw.ellipse((x - 130, 620, x + 130, 880), fill=(40, 40, 40))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def study_with_picture(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study-folder")
    (folder / "pictures").mkdir()
    (folder / "pictures" / "e_starter.jpg").write_bytes(_picture())
    text = (ROOT / "examples" / "car_subscription.yaml").read_text(encoding="utf-8")
    extra = (
        "          image: pictures/e_starter.jpg\n"
        f"          alt: {{de: {ALT['de']}, fr: {ALT['fr']}, it: Un'auto elettrica blu,"
        " en: A blue electric car}\n"
    )
    assert "        - name: e_starter\n" in text
    text = text.replace("        - name: e_starter\n", "        - name: e_starter\n" + extra)
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    return load_study(folder / "study.yaml")


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_concept_page_shows_the_concepts_image_with_its_alt_text(
    example, study_with_picture, language, tmp_path
) -> None:
    needs = simulate_needs_answers(
        study_with_picture, example.truth["respondent"], language=language, rng=11
    )
    content = build_report(
        example.results, example.data, study_with_picture, model="mnl", language=language,
        concepts=needs.concepts,
    )  # fmt: skip
    page = render_html(content)
    section = page.split('<section id="concepts">')[1].split("</section>")[0]
    images = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]+)">', section)
    shown = {html.unescape(alt): data for alt, data in images}
    assert ALT[language] in shown, list(shown)
    picture = Image.open(io.BytesIO(base64.b64decode(shown[ALT[language]])))
    assert picture.format == "PNG" and picture.size == (1200, 600)
    assert section.index("E-Starter") < section.index(ALT[language])
    pdf = write_pdf(content, tmp_path / "report.pdf")
    if shutil.which("pdfimages") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is missing (pdfimages, pdftoppm)")
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    pages = text.split("\f")
    where = next(i for i, p in enumerate(pages) if ALT[language] in p)  # the caption
    on_page = [line.split()[0] for line in listing.splitlines()[2:]]
    assert str(where + 1) in on_page, "the PDF page of the caption holds no image"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(where + 1), "-l", str(where + 1), str(pdf),
         str(ARTIFACTS / f"concept_card_pdf_{language}")],
        check=True,
    )  # fmt: skip
    (ARTIFACTS / f"concept_card_{language}.html").write_text(page, encoding="utf-8")

"""The report as a PDF, with matplotlib's PdfPages: no new dependency.

A4 pages: the recommendation and the pricing sentences, the sample, each figure with
its caption, the main tables, and the method in plain words. Text is real PDF text
(searchable, selectable); figures are the report's PNGs.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from offerlab.report._html import ReportContent, _fmt_cell, _optimisation_percent

__all__ = ["write_pdf"]

A4 = (8.27, 11.69)
WRAP = 95


class _TextPage:
    """Lines of text flowing down A4 pages."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.fig: plt.Figure | None = None
        self.y = 0.0

    def _new(self) -> None:
        self.close()
        self.fig = plt.figure(figsize=A4)
        self.y = 0.95

    def line(self, text: str, *, size: float = 10, bold: bool = False, gap: float = 0.0) -> None:
        for part in textwrap.wrap(text, int(WRAP * 10 / size)) or [""]:
            if self.fig is None or self.y < 0.06:
                self._new()
            assert self.fig is not None
            self.fig.text(0.07, self.y, part, fontsize=size,
                          fontweight="bold" if bold else "normal", va="top")  # fmt: skip
            self.y -= size * 0.0019
        self.y -= gap

    def table(self, frame: pd.DataFrame | None, title: str, percent: tuple[str, ...] = ()) -> None:
        if frame is None or frame.empty:
            return
        self.line(title, size=12, bold=True, gap=0.005)
        head = "  ".join(f"{str(c)[:18]:>18}" for c in frame.columns)
        self.line(head, size=7, bold=True)
        for row in frame.itertuples(index=False):
            cells = [
                _fmt_cell(v, c in percent)[:18] for c, v in zip(frame.columns, row, strict=True)
            ]
            self.line("  ".join(f"{c:>18}" for c in cells), size=7)
        self.y -= 0.015

    def close(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.fig = None


def _figure_page(pdf: PdfPages, png: bytes, caption: str) -> None:
    image = plt.imread(io.BytesIO(png), format="png")
    fig = plt.figure(figsize=A4)
    h, w = image.shape[:2]
    width = 0.86
    height = min(0.8, width * h / w * A4[0] / A4[1])
    ax = fig.add_axes((0.07, 0.9 - height, width, height))
    ax.imshow(image)
    ax.axis("off")
    fig.text(0.07, 0.9 - height - 0.02, "\n".join(textwrap.wrap(caption, 100)), fontsize=9,
             va="top", color="#4a5568")  # fmt: skip
    pdf.savefig(fig)
    plt.close(fig)


def write_pdf(content: ReportContent, path: Path | str) -> Path:
    """Write the PDF to ``path`` atomically (a half-written file never remains)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with PdfPages(tmp, metadata={"Title": content.title, "Creator": "offerlab"}) as pdf:
        text = _TextPage(pdf)
        text.line(content.title, size=16, bold=True, gap=0.01)
        text.line("Recommendation", size=13, bold=True, gap=0.004)
        for line in content.recommendation or ["No optimisation was run (no market file)."]:
            text.line(line, gap=0.004)
        for note in content.notes:
            text.line(note, size=8, gap=0.003)
        if content.pricing is not None:
            text.line("Pricing", size=13, bold=True, gap=0.004)
            for line in content.pricing.comparison:
                text.line(line, gap=0.004)
            text.table(content.pricing.table, "Price points")
        text.table(content.sample, "The sample")
        text.table(content.quality, "Quality flags (web survey)")
        text.table(content.holdouts, "Holdout tasks: observed and predicted shares",
                   percent=("observed", "predicted"))  # fmt: skip
        text.close()
        for name, png in content.figures.items():
            _figure_page(pdf, png, content.captions.get(name, name))
        text = _TextPage(pdf)
        if content.sources.get("drivers"):
            text.line(content.sources["drivers"], size=8, gap=0.003)
        text.table(content.importance[["attribute", "importance", "lower", "upper"]],
                   "Importance (%)")  # fmt: skip
        if content.wtp is not None:
            text.table(content.wtp[["attribute", "level", "wtp", "lower", "upper"]],
                       f"Willingness to pay ({content.currency} a month)")  # fmt: skip
        if content.shares is not None:
            cols = [c for c in ("alternative", "share", "lower", "upper", "revenue", "profit")
                    if c in content.shares.columns]  # fmt: skip
            text.table(content.shares[cols], "Shares of the market", ("share", "lower", "upper"))
        text.table(content.segments, "Segments")
        if content.optimisation is not None:
            best = content.optimisation.table.drop(columns=["lineup"]).head(5)
            percent = _optimisation_percent(content.objective)
            text.table(best, "Best candidates of the optimiser", percent)
        text.line("The method in plain words", size=13, bold=True, gap=0.004)
        for paragraph in content.method:
            text.line(paragraph, gap=0.006)
        text.close()
    tmp.replace(path)
    return path

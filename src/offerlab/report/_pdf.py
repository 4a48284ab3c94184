"""The report as a PDF, with matplotlib's PdfPages: no new dependency.

A4 pages in the order of the HTML report: headings, sentences, figures with their
captions and every table. Tables fit the page: each column gets the width its text needs,
long cells wrap at word boundaries inside their column, a table too wide for a portrait
page goes on a landscape one (then in a smaller font), and long tables continue on the
next page under a repeated header -- no cell is cut and no column is dropped. Text is
real PDF text (TrueType, searchable and extractable); figures are the report's PNGs.

Writing is two steps: :func:`pdf_document` lays the report out as a list of drawing
steps (paragraphs, headings, figures, tables, all text) that is plain JSON, and
:func:`write_pdf_document` draws them. The console keeps the document of a published
version and draws its PDF only when somebody first downloads it.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from offerlab.report._content import ReportContent
from offerlab.report._needs_pages import write_pages
from offerlab.report._png import printable_texts, visible
from offerlab.report._tables import Table

__all__ = ["PDF_DOCUMENT_FORMAT", "pdf_document", "write_pdf", "write_pdf_document"]

#: The version of :func:`pdf_document`'s layout; a stored document of another one is refused.
PDF_DOCUMENT_FORMAT = 1

PORTRAIT = (8.27, 11.69)  # A4, inches
MARGIN = 0.6
POINT = 1 / 72
PAD = 4.0  # points between a cell's text and its column's edge
INK = "#1a202c"
GREY = "#4a5568"
_TO_PATH = TextToPath()


@cache
def _width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in points, as matplotlib will draw it."""
    if not text:
        return 0.0
    props = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = _TO_PATH.get_text_width_height_descent(visible(text), props, ismath=False)
    return float(width)


def _wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` in lines no wider than ``width`` points, broken between words only."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):  # not at no-break spaces ("10 to 15")
            if not word:
                continue
            trial = f"{line} {word}" if line else word
            if line and _width(trial, size, bold) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines or [""]


class _Flow:
    """Text, tables and figures flowing down pages (inches from the top of the page)."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.fig: plt.Figure | None = None
        self.size = PORTRAIT
        self.y = 0.0

    # -- pages ---------------------------------------------------------------------------
    @property
    def text_width(self) -> float:
        return (self.size[0] - 2 * MARGIN) / POINT

    def _page(self, size: tuple[float, float] = PORTRAIT) -> None:
        self.close()
        self.size = size
        self.fig = plt.figure(figsize=size)
        self.y = MARGIN

    def _room(self, height: float) -> None:
        """A new page unless ``height`` inches fit below the cursor."""
        if self.fig is None or self.y + height > self.size[1] - MARGIN:
            self._page(self.size if self.fig is not None else PORTRAIT)

    def _text(self, x: float, line: str, size: float, *, bold: bool = False,
              color: str = INK, align: str = "left") -> None:  # fmt: skip
        assert self.fig is not None
        self.fig.text(x / self.size[0], 1 - self.y / self.size[1], line, fontsize=size,
                      fontweight="bold" if bold else "normal", color=color, va="top",
                      ha=align)  # fmt: skip

    def close(self) -> None:
        if self.fig is not None:
            printable_texts(self.fig)
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.fig = None

    # -- content -------------------------------------------------------------------------
    def paragraph(self, text: str, *, size: float = 10, bold: bool = False,
                  color: str = INK, gap: float = 0.08) -> None:  # fmt: skip
        if not text:
            return
        line_height = 1.35 * size * POINT
        for line in _wrap(text, self.text_width, size, bold):
            self._room(line_height)
            self._text(MARGIN, line, size, bold=bold, color=color)
            self.y += line_height
        self.y += gap

    def heading(self, text: str, size: float = 14) -> None:
        self._room(2.0)  # never alone at the foot of a page: with room for what follows
        self.y += 0.1
        self.paragraph(text, size=size, bold=True, gap=0.06)

    def subheading(self, text: str) -> None:
        self._room(2.0)  # kept with what follows
        self.paragraph(text, size=11, bold=True, gap=0.03)

    def figure(self, png: bytes, caption: str) -> None:
        image = plt.imread(io.BytesIO(png), format="png")
        h, w = image.shape[:2]
        width = min(self.size[0] - 2 * MARGIN, w / 144)  # the PNGs are drawn at 144 dpi
        height = width * h / w
        limit = self.size[1] - 2 * MARGIN - 0.6
        if height > limit:
            width, height = width * limit / height, limit
        self._room(height + 0.4)
        assert self.fig is not None
        W, H = self.size
        ax = self.fig.add_axes((MARGIN / W, 1 - (self.y + height) / H, width / W, height / H))
        ax.imshow(image)
        ax.axis("off")
        self.y += height + 0.05
        self.paragraph(caption, size=8.5, color=GREY, gap=0.15)

    def table(self, table: Table | None) -> None:
        if table is None or table.empty:
            return
        layout = _layout(table, self.text_width)
        if layout is None:  # too wide for a portrait page: a landscape page of its own
            wide = (PORTRAIT[1] - 2 * MARGIN) / POINT
            layout = _layout(table, wide, smallest=5.5)
            if layout is None:  # too wide even so: split by columns, the first in each
                parts = _split(table, wide)
                if len(parts) > 1:
                    for part in parts:
                        self.table(part)
                    return
                layout = _squeezed(table, wide)  # two columns of words wider than a page
            self._page((PORTRAIT[1], PORTRAIT[0]))
        if table.title:  # kept with the header and the first rows
            self._room(0.3 + 6 * 1.3 * 8 * POINT)
            self.paragraph(table.title, size=11, bold=True, gap=0.03)
        size, widths = layout
        line_height = 1.3 * size * POINT
        header = [_wrap(str(c).strip(), w - 2 * PAD, size, True)
                  for c, w in zip(table.frame.columns, widths, strict=True)]  # fmt: skip
        self._room(line_height * (max(map(len, header)) + 2))
        self._row(header, widths, size, table, bold=True)
        for row in table.frame.itertuples(index=False):
            cells = [_wrap(str(v), w - 2 * PAD, size) for v, w in zip(row, widths, strict=True)]
            needed = line_height * max(map(len, cells)) + 0.04
            if self.y + needed > self.size[1] - MARGIN:
                self._page(self.size)
                self._row(header, widths, size, table, bold=True)
            self._row(cells, widths, size, table)
        self.y += 0.15

    def _row(self, cells: list[list[str]], widths: list[float], size: float, table: Table,
             *, bold: bool = False) -> None:  # fmt: skip
        assert self.fig is not None
        line_height = 1.3 * size * POINT
        top = self.y
        x = MARGIN
        for lines, width, column in zip(cells, widths, table.frame.columns, strict=True):
            right = column in table.numeric
            self.y = top
            for line in lines:
                at = x + (width - PAD) * POINT if right else x + PAD * POINT
                self._text(at, line, size, bold=bold, align="right" if right else "left")
                self.y += line_height
            x += width * POINT
        self.y = top + line_height * max(map(len, cells)) + 0.04
        y = 1 - (self.y - 0.02) / self.size[1]
        self.fig.add_artist(plt.Line2D([MARGIN / self.size[0], x / self.size[0]], [y, y],
                                       color="#cbd5e0" if not bold else GREY, linewidth=0.5,
                                       transform=self.fig.transFigure))  # fmt: skip


def _layout(
    table: Table, available: float, smallest: float = 7.0
) -> tuple[float, list[float]] | None:
    """Font size and column widths (points) that fit ``available`` without breaking a word;
    None when even the ``smallest`` size does not fit."""
    size = 8.0
    while size >= smallest - 1e-9:
        columns = [str(c).strip() for c in table.frame.columns]
        natural, minimum = [], []
        for j, name in enumerate(columns):
            texts = [str(v) for v in table.frame.iloc[:, j]]
            natural.append(max([_width(name, size, True)] + [_width(t, size) for t in texts]))
            words = [w for t in texts for w in t.split(" ")]
            minimum.append(max([_width(w, size, True) for w in name.split(" ")] +
                               [_width(w, size) for w in words] + [0.0]))  # fmt: skip
        natural = [n + 2 * PAD for n in natural]
        minimum = [m + 2 * PAD for m in minimum]
        if sum(natural) <= available:
            return size, natural
        if sum(minimum) <= available:
            spare = available - sum(minimum)
            want = [n - m for n, m in zip(natural, minimum, strict=True)]
            total = sum(want) or 1.0
            return size, [m + spare * w / total for m, w in zip(minimum, want, strict=True)]
        size -= 0.5
    return None


def _squeezed(table: Table, available: float) -> tuple[float, list[float]]:
    """The last resort: the smallest font, columns in proportion to their longest word."""
    size = 5.5
    longest = [
        max([_width(w, size) for v in table.frame.iloc[:, j] for w in str(v).split(" ")] + [1.0])
        for j in range(table.frame.shape[1])
    ]
    total = sum(longest)
    return size, [available * x / total for x in longest]


def _split(table: Table, available: float) -> list[Table]:
    """The table as several, each with the first column and as many of the next ones as
    fit ``available`` points (a column that fits with none other stands alone, cut words
    and all)."""
    columns = list(table.frame.columns)
    groups: list[list[int]] = []
    group = [0]
    for j in range(1, len(columns)):
        trial = table.frame.iloc[:, [*group, j]]
        if len(group) > 1 and _layout(Table("", trial), available, smallest=5.5) is None:
            groups.append(group)
            group = [0]
        group.append(j)
    groups.append(group)
    parts = []
    for n, cols in enumerate(groups, start=1):
        frame = table.frame.iloc[:, cols]
        numeric = tuple(c for c in frame.columns if c in table.numeric)
        title = f"{table.title} ({n}/{len(groups)})" if table.title else f"({n}/{len(groups)})"
        parts.append(Table(title, frame, numeric))
    return parts


def write_pdf(content: ReportContent, path: Path | str) -> Path:
    """Write the PDF to ``path`` atomically (a half-written file never remains)."""
    return write_pdf_document(pdf_document(content), path)


def pdf_document(content: ReportContent) -> dict[str, Any]:
    """The report's PDF as JSON-able drawing steps, for :func:`write_pdf_document`: the
    text of every paragraph and table cell as the PDF shows it, the figures as PNG."""
    recorder = _Recorder()
    _write(recorder, content)  # type: ignore[arg-type]  # it takes the flow's calls
    return {
        "format": PDF_DOCUMENT_FORMAT,
        "title": content.title,
        "steps": recorder.steps,
        "figures": [base64.b64encode(png).decode("ascii") for png in recorder.figures],
    }


def write_pdf_document(document: dict[str, Any], path: Path | str) -> Path:
    """Draw a :func:`pdf_document` into the PDF at ``path`` atomically.

    Raises
    ------
    ValueError
        A document of another layout version, or not one of ours.
    """
    if not isinstance(document, dict) or document.get("format") != PDF_DOCUMENT_FORMAT:
        raise ValueError(f"not a PDF document of layout version {PDF_DOCUMENT_FORMAT}")
    figures = [base64.b64decode(png) for png in document["figures"]]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        with (
            matplotlib.rc_context({"pdf.fonttype": 42}),
            PdfPages(tmp, metadata={"Title": document["title"], "Creator": "offerlab"}) as pdf,
        ):
            flow = _Flow(pdf)
            for step in document["steps"]:
                _draw(flow, step, figures)
            flow.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path


class _Recorder:
    """Takes :class:`_Flow`'s calls and keeps them as JSON-able steps (each figure once)."""

    def __init__(self) -> None:
        self.steps: list[list[Any]] = []
        self.figures: list[bytes] = []
        self._seen: dict[bytes, int] = {}

    def paragraph(self, text: str, *, size: float = 10, bold: bool = False,
                  color: str = INK, gap: float = 0.08) -> None:  # fmt: skip
        self.steps.append(["paragraph", str(text), size, bold, color, gap])

    def heading(self, text: str, size: float = 14) -> None:
        self.steps.append(["heading", str(text), size])

    def subheading(self, text: str) -> None:
        self.steps.append(["subheading", str(text)])

    def figure(self, png: bytes, caption: str) -> None:
        if png not in self._seen:
            self._seen[png] = len(self.figures)
            self.figures.append(png)
        self.steps.append(["figure", self._seen[png], str(caption)])

    def table(self, table: Table | None) -> None:
        if table is None or table.empty:
            return
        frame = table.frame
        self.steps.append([
            "table",
            str(table.title),
            [str(c) for c in frame.columns],
            [[str(v) for v in row] for row in frame.itertuples(index=False)],
            [str(c) for c in frame.columns if c in table.numeric],
        ])  # fmt: skip


def _draw(flow: _Flow, step: list[Any], figures: list[bytes]) -> None:
    """One recorded step into the flow."""
    kind, *args = step
    if kind == "paragraph":
        text, size, bold, color, gap = args
        flow.paragraph(text, size=size, bold=bold, color=color, gap=gap)
    elif kind == "heading":
        flow.heading(args[0], size=args[1])
    elif kind == "subheading":
        flow.subheading(args[0])
    elif kind == "figure":
        flow.figure(figures[args[0]], args[1])
    elif kind == "table":
        title, columns, rows, numeric = args
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
        flow.table(Table(title, frame, tuple(numeric)))
    else:
        raise ValueError(f"unknown PDF step {kind!r}")


def _write(flow: _Flow, c: ReportContent) -> None:
    t, tables, figs, caps = c.t, c.tables, c.figures, c.captions

    def figure(name: str) -> None:
        if name in figs:
            flow.figure(figs[name], caps.get(name, ""))

    def empty(name: str) -> bool:
        if name in c.empty:
            flow.paragraph(c.empty[name], color=GREY)
            return True
        return False

    flow.paragraph(c.title, size=17, bold=True, gap=0.04)
    flow.paragraph(t("model_line", model=c.model_words), size=9, color=GREY)
    flow.heading(t("h_recommendation"))
    if not empty("recommendation"):
        flow.paragraph(t("launch"), bold=True, gap=0.02)
        for line in c.launch:
            flow.paragraph("• " + line, gap=0.03)
        for line in c.verdict:  # an unconverged fit stands out, as on the page
            alarm = "not converged" in line
            flow.paragraph(line, bold=alarm, color="#9b2c2c" if alarm else INK, gap=0.05)
        flow.paragraph(c.sources.get("decisions", ""), size=8.5, color=GREY)
        flow.table(tables.get("candidates"))
        objective = t(f"objective_{c.objective}") if c.objective else ""
        flow.paragraph(t("candidates_note", objective=objective), size=8.5, color=GREY)
    else:
        for line in c.verdict:
            flow.paragraph(line, gap=0.05)
    for note in c.notes:
        flow.paragraph(note, size=8.5, color=GREY)

    title = t("h_pricing")
    if c.pricing is not None and c.pricing.offer:
        title = t("h_pricing_offer", offer=c.pricing.offer)
    flow.heading(title)
    if not empty("pricing") and c.pricing is not None:
        for line in c.pricing_lines:
            flow.paragraph(line, gap=0.05)
        flow.table(tables.get("pricing"))
        if c.pricing.demand is not None:
            flow.paragraph(t("source_conjoint", source=c.sources.get("decisions", "")), size=8.5,
                           color=GREY)  # fmt: skip
        for name in ("demand", "van_westendorp", "gabor_granger"):
            figure(name)

    flow.heading(t("h_sample"))
    flow.table(tables.get("sample"))
    flow.subheading(t("h_quality"))
    if not empty("quality"):
        flow.paragraph(t("quality_note"), size=8.5, color=GREY)
        flow.table(tables.get("quality"))
    flow.subheading(t("h_holdouts"))
    if not empty("holdouts"):
        for line in c.holdout_lines:
            flow.paragraph(line, gap=0.05)
        if "holdouts" in tables:
            flow.paragraph(t("holdout_note"), size=8.5, color=GREY)
            flow.table(tables["holdouts"])
    flow.subheading(t("h_fit"))
    flow.paragraph(c.sources.get("fit", ""), size=8.5, color=GREY)
    flow.table(tables.get("fit"))

    flow.heading(t("h_drivers"))
    flow.paragraph(c.sources.get("drivers", ""), size=8.5, color=GREY)
    figure("importance")
    flow.table(tables.get("importance"))
    flow.subheading(t("h_partworths"))
    figure("partworths")
    flow.table(tables.get("partworths"))

    flow.heading(t("h_wtp"))
    if not empty("wtp"):
        flow.paragraph(c.sources.get("wtp", ""), size=8.5, color=GREY)
        figure("wtp")
        flow.table(tables.get("wtp"))

    if c.segments is not None:
        flow.heading(t("h_segments"))
        flow.paragraph(t("segments_lead"))
        for name in ("segments", "segment_importance", "segment_shares"):
            flow.table(tables.get(name))

    flow.heading(t("h_market"))
    if not empty("market"):
        figure("shares")
        flow.paragraph(c.sources.get("decisions", "") + " " + t("market_note"), size=8.5,
                       color=GREY)  # fmt: skip
        flow.table(tables.get("shares"))
        figure("tornado")

    flow.heading(t("h_needs"))
    if not empty("needs"):
        flow.table(tables.get("obstacles"))
        if c.needs_tables:
            flow.paragraph(t("needs_note"), size=8.5, color=GREY)
        for table in c.needs_tables:
            flow.table(table)

    write_pages(flow, c.pages, figs, caps, GREY)

    flow.heading(t("h_method"))
    for paragraph in c.method:
        flow.paragraph(paragraph, gap=0.1)

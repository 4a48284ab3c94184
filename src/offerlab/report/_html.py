"""The report business units open: one self-contained HTML file.

:func:`~offerlab.report.build_report` computes everything once into a
:class:`ReportContent`; :func:`write_html` renders it with the Jinja2 template
``templates/report.html``: CSS inline, figures as base64 ``data:`` URIs, the simulator as
a small script on embedded part-worths, no reference to anything outside the file (it
opens offline, and a mail filter that strips links leaves it whole). On a phone every
table turns into one card per row, so nothing scrolls sideways.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path

from offerlab.decide import PricingStudy, edge_caution
from offerlab.report._content import ReportContent, ReportOptions, build_report, tidy_answers
from offerlab.report._css import css_string
from offerlab.report._json import json_for_html
from offerlab.report._page_policy import with_content_security_policy
from offerlab.report._simulator_data import SIMULATOR_LOCALES, simulator_data
from offerlab.report._tables import Table
from offerlab.report._texts import ReportTexts, report_catalogue
from offerlab.study import Study

#: The pricing page is :class:`offerlab.decide.PricingStudy`: computed in decide, drawn here.
PricingPage = PricingStudy

__all__ = [
    "PricingPage",
    "ReportContent",
    "ReportOptions",
    "build_report",
    "render_html",
    "simulator_data",
    "table_html",
    "tidy_answers",
    "write_html",
]


def table_html(table: Table | None) -> str:
    """A table (escaped): numbers right-aligned; each cell names its column (``data-label``)
    so that a phone shows one card per row."""
    if table is None or table.empty:
        return ""
    columns = [str(c) for c in table.frame.columns]
    head = "".join(f'<th scope="col">{html.escape(c.strip())}</th>' for c in columns)
    body = []
    for row in table.frame.itertuples(index=False):
        cells = []
        for col, value in zip(columns, row, strict=True):
            css = ' class="num"' if col in table.numeric else ""
            label = html.escape(col.strip(), quote=True)
            cells.append(f'<td{css} data-label="{label}">{html.escape(str(value))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    title = f"<h3>{html.escape(table.title)}</h3>" if table.title else ""
    wrap = "table-wrap cards" if table.wide else "table-wrap"
    return (
        f'{title}<div class="{wrap}"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def simulator_texts(t: ReportTexts) -> str:
    """The offline simulator script's words in the report's language, as page JSON
    (``#simulator-texts``; the script keeps its English defaults for anything missing)."""
    words = {
        key[len("sim_js_") :]: t(key) for key in report_catalogue() if key.startswith("sim_js_")
    }
    return json_for_html({**words, "locale": SIMULATOR_LOCALES.get(t.language, "en-GB")})


def render_html(content: ReportContent) -> str:
    """The report as one HTML document (string)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["css_string"] = css_string
    images = {
        k: "data:image/png;base64," + base64.b64encode(v).decode()
        for k, v in content.figures.items()
    }
    tables = {k: table_html(v) for k, v in content.tables.items()}
    needs = [table_html(table) for table in content.needs_tables]
    simulator_json = json_for_html(content.simulator) if content.simulator is not None else None
    return env.get_template("report.html").render(
        simulator_texts=simulator_texts(content.t) if simulator_json else None,
        c=content,
        t=content.t,
        images=images,
        tables=tables,
        simulator_json=simulator_json,
        needs=needs,
        model_words=content.model_words,
        table_html=table_html,
    )


def write_html(content: ReportContent, path: Path | str) -> Path:
    """Write the report to ``path`` (UTF-8), atomically: a half-written file never remains."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(with_content_security_policy(render_html(content)), encoding="utf-8")
    tmp.replace(path)
    return path


def _edge_of_range(
    study: Study, offer: Mapping[str, object], currency: str, head: str
) -> list[str]:
    """:func:`offerlab.decide.edge_caution` (kept for callers of the report module)."""
    return edge_caution(study, offer, head)

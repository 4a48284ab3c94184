"""decide's findings in the report's words: one sentence of ``report_texts.yaml`` per
:class:`offerlab.decide.Finding` key, its values formatted as the report formats numbers
and money in each language."""

from __future__ import annotations

import math
from typing import Any

from offerlab.decide import Finding
from offerlab.report._texts import ReportTexts

__all__ = ["finding_text", "finding_texts", "measure_row"]


def finding_text(finding: Finding, t: ReportTexts, study: Any, currency: str) -> str:
    """``finding`` as one sentence in ``t``'s language."""
    v = finding.values
    if finding.key in ("edge_highest", "edge_lowest"):
        return t(finding.key, price=t.amount(float(v["price"]), currency))
    if finding.key == "verdict_value":
        objective = v["objective"]

        def fmt(x: float) -> str:
            if objective == "share":
                return t.percent(x)
            return t.amount(x, currency, 2)

        return t(
            "verdict_value", what=t(f"verdict_what_{objective}"), expected=fmt(v["expected"]),
            lower=fmt(v["lower"]), upper=fmt(v["upper"]), pessimistic=fmt(v["pessimistic"]),
        )  # fmt: skip
    if finding.key == "verdict_sure":
        return t(
            "verdict_sure", n_listed=t.number(v["n_listed"]), p_best=t.percent(v["p_best"], 0),
            method=t(f"verdict_method_{v['method']}"), n_candidates=t.number(v["n_candidates"]),
        )  # fmt: skip
    if finding.key.startswith("check_"):
        # a converged R-hat is shown to 3 decimals (1.004), a failing one to 2, as the CLI does
        digits = 3 if finding.key == "check_hb_converged" else 2
        return t(
            finding.key, rhat=t.number(v.get("rhat", math.nan), digits),
            ess=t.number(v.get("ess", math.nan)), hit=t.percent(v.get("hit", math.nan), 0),
        )  # fmt: skip
    if finding.key.startswith("pricing_"):
        return _pricing_text(finding, t, currency)
    return t(finding.key, **{k: str(x) for k, x in v.items()})


def _pricing_text(finding: Finding, t: ReportTexts, currency: str) -> str:
    """A pricing comparison's finding (:attr:`offerlab.decide.PricingStudy.findings`)."""
    v, key = finding.values, finding.key

    def m(x: object) -> str:
        return _amount_or_dash(x, t, currency)

    def pct(x: float) -> str:
        return t.percent(x, 0)

    if key in ("pricing_no_market", "pricing_no_costs"):
        return t(key)
    if key == "pricing_profit":
        price = m(v["price"])
        if v["interval"] is not None:
            lower, upper = (m(x) for x in v["interval"])
            price = t("pricing_with_interval", price=price, lower=lower, upper=upper)
        text = t(key, cost=m(v["cost"]), offer=v["offer"], price=price)
        if v["revenue_vs_cost"] is not None:
            text += t(f"pricing_revenue_{v['revenue_vs_cost']}_cost", price=m(v["revenue_price"]))
        return text + "."
    if key.startswith("pricing_edge_"):
        return t(key, what=t(f"pricing_what_{v['what']}"), offer=v["offer"], price=m(v["price"]))
    if key == "pricing_vw_range":
        price = m(v["price"])
        if v["interval"] is not None:
            lower, upper = (m(x) for x in v["interval"])
            price = t("pricing_vw_interval", price=price, lower=lower, upper=upper)
        return t(
            key, offer=v["offer"], price=price, where=t(f"pricing_where_{v['where']}"),
            pmc=m(v["pmc"]), pme=m(v["pme"]),
        )  # fmt: skip
    if key == "pricing_cannot_compare":
        where = []
        if v["direct_edge"]:
            where.append(t(f"pricing_direct_at_edge_{v['direct_edge']}", method=v["method"]))
        if v["conjoint_edge"]:
            where.append(t(f"pricing_conjoint_at_edge_{v['conjoint_edge']}"))
        return t(
            key, method=v["method"], price=m(v["price"]), best=m(v["best"]),
            where=t("pricing_and").join(where),
        )  # fmt: skip
    if key == "pricing_agree":
        return t(key, method=v["method"], price=m(v["price"]))
    if key == "pricing_disagree":
        return t(
            f"pricing_disagree_{v['side']}", method=v["method"], price=m(v["price"]),
            best=m(v["best"]), lower=m(v["lo"]), upper=m(v["hi"]),
        )  # fmt: skip
    if key == "pricing_stated":
        text = t(
            key, p1=m(v["p1"]), p2=m(v["p2"]), stated=pct(v["stated"]), chosen=pct(v["chosen"])
        )
        if v["interval"] is None:
            return text + "."
        lower, upper = (pct(x) for x in v["interval"])
        text += t("pricing_stated_interval", lower=lower, upper=upper)
        return text + t(f"pricing_stated_{v['verdict']}")
    return t(key)


def _amount_or_dash(x: object, t: ReportTexts, currency: str) -> str:
    """An amount in ``currency``, or a dash where there is none."""
    if x is None or not math.isfinite(float(x)):  # type: ignore[arg-type]
        return "–"
    return t.amount(float(x), currency)  # type: ignore[arg-type]


def finding_texts(findings: list[Finding], t: ReportTexts, study: Any, currency: str) -> list[str]:
    """Each of ``findings`` as a sentence in ``t``'s language."""
    return [finding_text(f, t, study, currency) for f in findings]


def measure_row(measure: Finding, t: ReportTexts, currency: str) -> tuple[str, str]:
    """A price point (:attr:`offerlab.decide.PricingStudy.measures`): its name and value."""
    v = measure.values

    def m(x: object) -> str:
        return _amount_or_dash(x, t, currency)

    name = t(measure.key, offer=v.get("offer"))
    if v["kind"] == "range":
        value = t("measure_range", lower=m(v["lower"]), upper=m(v["upper"]))
    elif v["kind"] == "count":
        value = t.number(v["value"]) + (f" ({t.number(v['left_out'])})" if "left_out" in v else "")
    elif v["kind"] == "interval" and v["interval"] is not None:
        lower, upper = (m(x) for x in v["interval"])
        value = t("pricing_with_interval", price=m(v["value"]), lower=lower, upper=upper)
    else:
        value = m(v["value"])
    return name, value

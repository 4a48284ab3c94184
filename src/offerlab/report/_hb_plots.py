"""Trace plot of a hierarchical Bayes fit: is the sampler done wandering?

One panel per coefficient with the population mean α_k and the population SD √D_kk
of every chain over all iterations (burn-in shaded), and a last panel with the
acceptance rate. Flat, overlapping bands after the burn-in line are what
converged chains look like; the R-hat and ESS of each parameter are in the panel
titles, so the picture and the numbers are read together.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from offerlab.report._png import save_figure
from offerlab.study import typeset

if TYPE_CHECKING:
    from offerlab.models._hb import HBResults

__all__ = ["hb_diagnostics", "hb_diagnostics_note", "plot_hb_trace"]

# Vehtari et al. (2021): trust a posterior summary when R-hat < 1.01 and ESS > 400.
_RHAT_MAX = 1.01
_ESS_MIN = 400.0

_GROUPS = {
    "en": ("population means", "covariance entries", "individual part-worths"),
    "de": ("Mittelwerte der Population", "Kovarianzen", "individuelle Teilnutzen"),
    "fr": ("moyennes de la population", "covariances", "utilités individuelles"),
    "it": ("medie della popolazione", "covarianze", "utilità individuali"),
}
_SENTENCE = {
    "en": ("Hierarchical Bayes convergence (R-hat < 1.01, ESS > 400)", "passes", "FAILS"),
    "de": ("Konvergenz des hierarchischen Bayes (R-hat < 1,01, ESS > 400)", "erfüllt",
           "NICHT erfüllt"),
    "fr": ("Convergence du Bayes hiérarchique (R-hat < 1,01, ESS > 400)", "atteinte",
           "NON atteinte"),
    "it": ("Convergenza del Bayes gerarchico (R-hat < 1,01, ESS > 400)", "raggiunta",
           "NON raggiunta"),
}  # fmt: skip


def hb_diagnostics(results: HBResults) -> pd.DataFrame:
    """Worst R-hat and smallest bulk/tail ESS of each group of quantities of a fit.

    Rows: population means, covariance entries and (when diagnosed) the individual
    part-worths whose means the decisions use; ``passes`` is R-hat < 1.01 and both
    ESS > 400.
    """
    conv = results.convergence
    K = len(results.names)
    rows = {
        "population means": conv.iloc[:K],
        "covariance entries": conv.iloc[K:],
    }
    out = {
        label: (float(t["rhat"].max()), float(t["ess_bulk"].min()), float(t["ess_tail"].min()))
        for label, t in rows.items()
    }
    individual = getattr(results, "convergence_individual", None)
    if individual is not None:
        out["individual part-worths"] = (
            individual["rhat"],
            individual["ess_bulk"],
            individual["ess_tail"],
        )
    frame = pd.DataFrame.from_dict(
        out, orient="index", columns=["max R-hat", "min bulk ESS", "min tail ESS"]
    )
    frame["passes"] = (frame["max R-hat"] < _RHAT_MAX) & (
        frame[["min bulk ESS", "min tail ESS"]].min(axis=1) > _ESS_MIN
    )
    frame.index.name = "quantities"
    return frame


def hb_diagnostics_note(results: HBResults, language: str = "en") -> str:
    """One sentence for the report: each group's worst R-hat and smallest ESS, pass or fail."""
    table = hb_diagnostics(results)
    lead, ok, fails = _SENTENCE.get(language, _SENTENCE["en"])
    labels = dict(zip(_GROUPS["en"], _GROUPS.get(language, _GROUPS["en"]), strict=True))
    decimal = "," if language in ("de", "fr", "it") else "."
    gap = " " if language == "fr" else ""  # French spaces its colons and semicolons
    parts = []
    for name, row in table.iterrows():
        rhat = f"{row['max R-hat']:.3f}".replace(".", decimal)
        ess = min(row["min bulk ESS"], row["min tail ESS"])
        verdict = ok if row["passes"] else fails
        parts.append(f"{labels[str(name)]}{gap}: R-hat ≤ {rhat}, ESS ≥ {ess:.0f} – {verdict}")
    return typeset(f"{lead}{gap}: " + f"{gap}; ".join(parts) + ".", language)


_MAX_POINTS = 2000  # per chain and line: enough to see trends, small PNG


def plot_hb_trace(
    results: HBResults,
    path: Path | str,
    *,
    params: list[str] | None = None,
    title: str = "",
) -> Path:
    """Write a trace plot PNG of the population means and SDs of a hierarchical Bayes fit.

    Parameters
    ----------
    results : HBResults
    path : path of the PNG to write
    params : list of str, optional
        Coefficients to show (default: all, at most 16).
    title : str, optional
    """
    names = list(results.names)
    chosen = params if params is not None else names[:16]
    unknown = [p for p in chosen if p not in names]
    if unknown:
        from offerlab.exceptions import OfferlabError

        raise OfferlabError(f"plot_hb_trace: unknown coefficient(s) {unknown}; known: {names}")
    alpha = results.alpha_trace  # (C, I, K), θ scale
    sd = results.sd_trace
    C, n_iter, _ = alpha.shape
    step = max(1, n_iter // _MAX_POINTS)
    its = np.arange(0, n_iter, step)
    burn = results.settings.burn_in
    conv = results.convergence
    n_panels = len(chosen) + 1
    cols = 2 if n_panels > 4 else 1
    rows = int(np.ceil(n_panels / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 2.1 * rows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    flat = axes.ravel()
    for ax, name in zip(flat, chosen, strict=False):
        k = names.index(name)
        for c in range(C):
            colour = colours[c % len(colours)]
            ax.plot(its, alpha[c, its, k], color=colour, lw=0.6, label=f"chain {c + 1} mean")
            ax.plot(its, sd[c, its, k], color=colour, lw=0.6, ls=":", label=f"chain {c + 1} SD")
        ax.axvspan(0, burn, color="0.9", zorder=0)
        r_mean = conv.loc[f"mean[{name}]"]
        r_var = conv.loc[f"cov[{name},{name}]"]
        scale = " (log scale)" if results.signs[name] != 0 else ""
        ax.set_title(
            f"{name}{scale}: mean R-hat {r_mean.rhat:.3f} ESS {r_mean.ess_bulk:.0f}; "
            f"var R-hat {r_var.rhat:.3f} ESS {r_var.ess_bulk:.0f}",
            fontsize=8,
        )
        ax.tick_params(labelsize=7)
    ax = flat[len(chosen)]
    for c in range(C):
        ax.plot(its, results.acceptance_trace[c, its], color=colours[c % len(colours)], lw=0.6)
    ax.axhline(results.settings.target_acceptance, color="k", lw=0.8, ls="--")
    ax.axvspan(0, burn, color="0.9", zorder=0)
    ax.set_title("acceptance rate (target dashed; burn-in shaded)", fontsize=8)
    ax.tick_params(labelsize=7)
    for extra in flat[n_panels:]:
        extra.set_visible(False)
    flat[0].legend(fontsize=6, loc="best")
    fig.suptitle(title or "Hierarchical Bayes: population means (solid) and SDs (dotted)")
    return save_figure(fig, path, dpi=120)

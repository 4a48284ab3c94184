"""Results of a latent class fit: class shares and coefficients, posteriors, predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models._constraints import COV_TYPES
from offerlab.models._contract import row_probabilities
from offerlab.models._results import CovKind, MNLResults, Summary, WaldResults
from offerlab.numerics import (
    ClassMap,
    lc_probabilities,
    log_class_shares,
)

__all__ = ["LatentClassResults"]


class LatentClassResults(WaldResults):
    """A fitted latent class logit.

    Attributes
    ----------
    params : Series
        θ by name: class constants ``constant[class c]`` (c ≥ 2), shared coefficients
        by their own name, class-specific ones as ``NAME[class c]``.
    cov, cov_robust, cov_cluster : DataFrame
        Classic (−H)⁻¹ from the analytic Hessian; sandwich H⁻¹BH⁻¹ over the
        likelihood's units (respondents in a panel, tasks in a cross-section); and
        sandwich over respondents × G/(G−1).
    llf, llnull : float
    nobs, n_tasks, n_respondents : int
    n_classes : int
    panel : bool
    converged : bool
    n_iter : int
        EM and Newton steps of the best start; ``n_em`` of them EM steps.
    start_llf : ndarray
        Log-likelihood reached by every start.
    starts : DataFrame
        Per start: ``llf``, ``em_steps``, ``newton_steps``, ``converged``.
    source : DesignSource
        The study's coding or the spec, given at construction (``coding``, ``spec``).
    """

    converged: bool = True
    n_iter: int = 0
    n_em: int = 0
    seed: int | None = None

    def __init__(
        self,
        *,
        cmap: ClassMap,
        coef_names: list[str],
        status: np.ndarray,
        posterior: np.ndarray,
        unit_ids: np.ndarray,
        panel: bool,
        **estimates: Any,
    ) -> None:
        """``estimates``: those of :class:`WaldResults` (params, the covariances, the fit)."""
        super().__init__(**estimates)
        self.cmap = cmap
        self.coef_names = list(coef_names)
        self.status = status
        self.posterior = posterior
        self.unit_ids = unit_ids
        self.panel = panel
        self.start_llf = np.array([self.llf])
        self.starts: pd.DataFrame | None = None

    # -- basic quantities ------------------------------------------------------------------
    @property
    def coefficient_names(self) -> list[str]:
        """The K coefficients of every class (the columns of population_coefficients)."""
        return list(self.coding.names) if self.coding is not None else list(self.coef_names)

    @property
    def n_classes(self) -> int:
        return self.cmap.n_classes

    @property
    def classes(self) -> list[int]:
        return list(range(1, self.n_classes + 1))

    # -- classes ---------------------------------------------------------------------------
    @property
    def shares(self) -> np.ndarray:
        """Class shares π (C,)."""
        return np.exp(log_class_shares(self.params.to_numpy(), self.n_classes))

    def _share_jacobian(self) -> np.ndarray:
        """∂π/∂θ, shape (C, P): π_c (1{c=d} − π_d) on the constants, zero elsewhere."""
        pi = self.shares
        C, P = self.n_classes, len(self.params)
        J = np.zeros((C, P))
        J[:, : C - 1] = (np.diag(pi) - np.outer(pi, pi))[:, 1:]
        return J

    def _beta_jacobian(self, c: int) -> np.ndarray:
        """∂β_c/∂θ, shape (K, P): ones where a coefficient of class c is a θ entry."""
        k, pos = self.cmap.positions(c)
        J = np.zeros((self.cmap.n_coefficients, len(self.params)))
        J[k, pos] = 1.0
        return J

    def _delta_se(self, J: np.ndarray, kind: CovKind) -> np.ndarray:
        cov = self.cov_of(kind).to_numpy()
        return np.sqrt(np.maximum(np.einsum("ap,pq,aq->a", J, cov, J), 0.0))

    @property
    def class_shares(self) -> pd.DataFrame:
        """Class shares with delta-method standard errors.

        Columns ``share``, ``se``, ``se_robust``, ``se_cluster``, ``lower``, ``upper``
        (95%, with the SE of ``cov_type``); index ``class`` 1..C.
        """
        J = self._share_jacobian()
        pi = self.shares
        frame = pd.DataFrame(
            {
                "share": pi,
                "se": self._delta_se(J, "classic"),
                "se_robust": self._delta_se(J, "robust"),
                "se_cluster": self._delta_se(J, "cluster"),
            },
            index=pd.Index(self.classes, name="class"),
        )
        se = self._delta_se(J, self.cov_type)
        z = stats.norm.ppf(0.975)
        frame["lower"] = pi - z * se
        frame["upper"] = pi + z * se
        return frame

    @property
    def class_coefficients(self) -> pd.DataFrame:
        """β of every class: one row per coefficient, one column per class."""
        betas = self.cmap.betas(self.params.to_numpy())
        frame = pd.DataFrame(betas.T, index=self.coef_names, columns=self.classes)
        frame.index.name = "parameter"
        frame.columns.name = "class"
        return frame

    def class_results(self, c: int) -> MNLResults:
        """Class ``c`` (1-based) as an :class:`MNLResults`, for part-worths, importance, WTP.

        Every coefficient of the model is there; fixed ones have zero variance.
        """
        if c not in self.classes:
            raise OfferlabError(f"class {c!r} does not exist; classes are {self.classes}")
        J = self._beta_jacobian(c - 1)
        names = self.coef_names

        def frame(kind: CovKind) -> pd.DataFrame:
            m = J @ self.cov_of(kind).to_numpy() @ J.T
            return pd.DataFrame(m, index=names, columns=names)

        return MNLResults(
            params=pd.Series(self.cmap.betas(self.params.to_numpy())[c - 1], index=names),
            cov=frame("classic"),
            cov_robust=frame("robust"),
            cov_cluster=frame("cluster"),
            llf=self.llf,
            llnull=self.llnull,
            nobs=self.nobs,
            n_tasks=self.n_tasks,
            n_respondents=self.n_respondents,
            converged=self.converged,
            n_iter=self.n_iter,
            cov_type=self.cov_type,
            fixed_params=self.fixed_params,
            source=self.source,
        )

    def posterior_probabilities(self) -> pd.DataFrame:
        """Posterior class probabilities, tidy: one row per respondent (or task) and class.

        Panel: columns ``respondent``, ``class``, ``probability``: h_ic = π_c L_ic / L_i
        given all of respondent i's choices. Cross-section: the class is drawn per
        task, so rows are per task: ``respondent``, ``observation`` (0-based task row
        of the model matrix), ``class``, ``probability``.
        """
        G, C = self.posterior.shape
        frame = {"respondent": np.repeat(self.unit_ids, C)}
        if not self.panel:
            frame["observation"] = np.repeat(np.arange(G), C)
        frame["class"] = np.tile(np.arange(1, C + 1), G)
        frame["probability"] = self.posterior.reshape(G * C)
        return pd.DataFrame(frame)

    @property
    def modal_class(self) -> pd.Series:
        """The most probable class of every respondent (panel) or task (cross-section)."""
        return pd.Series(
            self.posterior.argmax(axis=1) + 1,
            index=pd.Index(self.unit_ids, name="respondent"),
            name="class",
        )

    def population_coefficients(
        self, n: int = 1000, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The population as the C class vectors weighted by the class shares.

        The latent class population is a discrete distribution with C points, so it
        is represented exactly: ``n`` and ``rng`` are accepted for the common
        interface and not used.

        Returns
        -------
        B : ndarray, shape (C, K)
            Coefficients of each class in the ModelMatrix (ConjointCoding) order.
        w : ndarray, shape (C,)
            Class shares (sum to 1).
        """
        del n, rng
        return self.cmap.betas(self.params.to_numpy()), self.shares

    # -- fit statistics --------------------------------------------------------------------
    @property
    def n_bic(self) -> int:
        """Sample size in BIC and CAIC: respondents (panel) or tasks (cross-section)."""
        return self.n_respondents if self.panel else self.nobs

    @property
    def caic(self) -> float:
        """Consistent AIC: K (log n + 1) − 2ℓ with n = :attr:`n_bic`."""
        return self.k * (np.log(self.n_bic) + 1) - 2 * self.llf

    @property
    def entropy_r2(self) -> float:
        """How clearly respondents are classified: 1 − Σ −h log h / (G log C); 1 = crisp."""
        if self.n_classes == 1:
            return 1.0
        h = self.posterior
        ent = -np.sum(np.where(h > 0, h * np.log(np.where(h > 0, h, 1.0)), 0.0))
        return float(1 - ent / (h.shape[0] * np.log(self.n_classes)))

    def fit_frame(self) -> pd.DataFrame:
        """Fit statistics as a one-column table (statistic → value)."""
        best = np.nanmax(self.start_llf)
        hits = int(np.sum(np.abs(self.start_llf - best) < 1e-6 * max(1.0, abs(best))))
        model = {
            "classes": self.n_classes,
            "class per": "respondent (panel)" if self.panel else "task (cross-section)",
        }
        criteria = {
            "CAIC": self.caic,
            "entropy R²": self.entropy_r2,
            "starts reaching the best LL": f"{hits} of {len(self.start_llf)}",
        }
        return self._fit_table(model, criteria)

    # -- tables ----------------------------------------------------------------------------
    def to_frame(self, alpha: float = 0.05, kind: CovKind | None = None) -> pd.DataFrame:
        """One row per class and parameter (index levels ``class``, ``parameter``).

        Per class: ``share`` (delta method), ``constant`` (classes 2..C; class 1 is the
        reference), then every coefficient. Columns as :meth:`MNLResults.to_frame`
        (``estimate``, ``se``, ``se_robust``, ``se_cluster``, ``t``, ``p``, ``lower``,
        ``upper``; t, p and the interval with the SE of ``kind``) and ``status``:
        ``membership``, ``class`` (class-specific), ``shared`` (one estimate for
        several classes) or ``fixed`` (not estimated; SEs NaN).
        """
        kind = kind or self.cov_type
        z = stats.norm.ppf(1 - alpha / 2)
        theta = self.params.to_numpy()
        betas = self.cmap.betas(theta)
        C = self.n_classes
        Js = self._share_jacobian()
        rows, index = [], []
        ses = {k: None for k in COV_TYPES}
        for c in range(C):
            blocks = [("share", self.shares[c], Js[c], "membership")]
            if c > 0:
                Jc = np.zeros(len(theta))
                Jc[c - 1] = 1.0
                blocks.append(("constant", theta[c - 1], Jc, "membership"))
            Jb = self._beta_jacobian(c)
            for k, name in enumerate(self.coef_names):
                blocks.append((name, betas[c, k], Jb[k], self.status[c, k]))
            for name, value, J, status in blocks:
                for key in ses:
                    ses[key] = (
                        np.nan if status == "fixed" else float(self._delta_se(J[None], key)[0])
                    )
                se_kind = ses[kind]
                t = value / se_kind if se_kind and np.isfinite(se_kind) else np.nan
                rows.append(
                    {
                        "estimate": value,
                        "se": ses["classic"],
                        "se_robust": ses["robust"],
                        "se_cluster": ses["cluster"],
                        "t": t,
                        "p": 2 * stats.norm.sf(abs(t)) if np.isfinite(t) else np.nan,
                        "lower": value - z * se_kind,
                        "upper": value + z * se_kind,
                        "status": status,
                    }
                )
                index.append((c + 1, name))
        return pd.DataFrame(
            rows, index=pd.MultiIndex.from_tuples(index, names=["class", "parameter"])
        )

    def summary(self, alpha: float = 0.05) -> Summary:
        """Fit statistics, class shares and the estimates as a :class:`Summary`."""
        per = "panel" if self.panel else "cross-section"
        notes = [
            f"t, p and the {100 * (1 - alpha):g}% interval use the {self.cov_type} SE; "
            "shares by the delta method; class 1 is the reference of the class constants; "
            f"BIC and CAIC with n = {self.n_bic} " + ("respondents." if self.panel else "tasks."),
            *self._fit_notes(fixed="fixed in every class"),
        ]
        shares = self.class_shares
        return Summary(
            f"Latent class logit ({self.n_classes} classes, {per})",
            {"fit": self.fit_frame(), "class shares": shares, "estimates": self.to_frame(alpha)},
            notes,
        )

    def __repr__(self) -> str:
        return (
            f"<LatentClassResults: {self.n_classes} classes, {self.k} parameters, "
            f"LL {self.llf:.3f}, {self.nobs} observations, {self.n_respondents} respondents>"
        )

    # -- prediction ------------------------------------------------------------------------
    def predict(self, data: ChoiceData) -> pd.Series:
        """Unconditional choice probability Σ_c π_c P(β_c) of every row of ``data``."""
        design = self.design_of(data)
        P = lc_probabilities(
            self.params.to_numpy(), design.X, self.cmap, design.available, design.offset
        )
        return row_probabilities(data, P)

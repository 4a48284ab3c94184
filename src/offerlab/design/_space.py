"""The design space of a study as arrays: level codings, concept ids, validity of moves.

Shapes: B designs searched side by side, T tasks per design, m concepts per
task, A attributes, P coded parameters, K candidate moves for one cell.
"""

from __future__ import annotations

import numpy as np

from offerlab.design._rules import TaskRules
from offerlab.numerics import code_levels, level_coding_matrix
from offerlab.study import Study

__all__ = ["DesignSpace"]

# Largest full factorial for which allowed-ness is looked up in a table.
_LOOKUP_LIMIT = 4_000_000


class DesignSpace:
    """Arrays describing a study's concepts, for fast checks inside a search.

    Parameters
    ----------
    study : Study
        The study; every attribute is coded as part-worths with ``coding``.
    coding : {"effects", "dummy"}
        Coding of the design matrix.
    """

    def __init__(self, study: Study, coding: str) -> None:
        self.study = study
        self.coding = coding
        self.n_levels = tuple(int(n) for n in study.n_levels)
        self.A = len(self.n_levels)
        self.m = study.tasks.alternatives
        self.codes = [level_coding_matrix(n, coding) for n in self.n_levels]  # (L_a, L_a − 1)
        bounds = np.cumsum([0] + [n - 1 for n in self.n_levels])
        self.cols = [slice(int(bounds[a]), int(bounds[a + 1])) for a in range(self.A)]
        self.P = int(bounds[-1])
        self.rules = TaskRules(study)
        self._offdiag = ~np.eye(self.m, dtype=bool)
        # Mixed-radix concept ids: id = Σ_a level_a · radix_a (exact in int64 when small).
        radix = np.cumprod([1, *self.n_levels[::-1]])[:-1][::-1]
        full = int(np.prod([float(n) for n in self.n_levels]))
        self.use_ids = full < 2**62
        self.radix = radix.astype(np.int64) if self.use_ids else None
        self.lookup: np.ndarray | None = None
        if self.rules.has_prohibitions and full <= _LOOKUP_LIMIT:
            self.lookup = np.zeros(full, dtype=bool)
            self.lookup[self.ids(study.allowed_concepts)] = True
        # Candidate tasks must be built level by level when ids cannot decide validity.
        self.need_levels = (
            self.rules.forbid_dominated
            or not self.use_ids
            or (self.rules.has_prohibitions and self.lookup is None)
        )

    def code(self, levels: np.ndarray) -> np.ndarray:
        """Coded design (..., P) from level indices (..., A)."""
        return code_levels(levels, self.n_levels, self.coding)  # type: ignore[arg-type]

    def ids(self, levels: np.ndarray) -> np.ndarray:
        """Concept ids (...) from level indices (..., A)."""
        return np.asarray(levels, dtype=np.int64) @ self.radix

    def candidates_valid(
        self,
        task: np.ndarray,
        task_ids: np.ndarray | None,
        j: int,
        a: int,
        new_j: np.ndarray,
        others: np.ndarray,
    ) -> np.ndarray:
        """Which moves on cell (concept j, attribute a) keep a task valid.

        Parameters
        ----------
        task : ndarray, shape (B, m, A)
            Current tasks (valid).
        task_ids : ndarray, shape (B, m), or None
            Their concept ids (``None`` when ids are not used).
        j, a : int
            The concept and attribute of the cell.
        new_j : ndarray, shape (B, L_a)
            Level-change moves: concept j takes level ``new_j[b, l]`` on attribute a.
        others : ndarray, shape (m − 1,)
            Swap moves: concept j and concept ``others[k]`` exchange their level of a.

        Returns
        -------
        ndarray of bool, shape (B, L_a + m − 1)
        """
        B, m, _ = task.shape
        La = new_j.shape[1]
        K = La + m - 1
        cur = task[:, :, a]  # (B, m)
        ks = np.arange(m - 1)
        ok = np.ones((B, K), dtype=bool)
        if self.use_ids:
            r = self.radix[a]
            cand_ids = np.broadcast_to(task_ids[:, None], (B, K, m)).copy()
            cand_ids[:, :La, j] += (new_j - cur[:, j, None]) * r
            delta = (cur[:, others] - cur[:, j, None]) * r  # (B, m − 1)
            cand_ids[:, La + ks, j] += delta
            cand_ids[:, La + ks, others] -= delta
            same = cand_ids[..., :, None] == cand_ids[..., None, :]
            ok &= ~(same & self._offdiag).any(axis=(-1, -2))
            if self.lookup is not None:
                ok &= self.lookup[cand_ids].all(axis=-1)
        if not self.need_levels:
            return ok
        cand = np.broadcast_to(task[:, None], (B, K, m, self.A)).copy()
        cand[:, :La, j, a] = new_j
        cand[:, La + ks, j, a] = cur[:, others]
        cand[:, La + ks, others, a] = cur[:, j, None]
        if not self.use_ids:
            ok &= ~self.rules.has_duplicates(cand)
        if self.rules.has_prohibitions and self.lookup is None:
            ok &= self.rules.allowed(cand).all(axis=-1)
        if self.rules.forbid_dominated:
            ok &= ~self.rules.has_dominated(cand)
        return ok

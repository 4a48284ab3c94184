"""The console's hierarchical Bayes fits, shared between the tests that fit the same answers.

Several console tests publish an HB simulator (or report) on the very same completes with
the web's settings (``WEB_FIT``, seed 0): the sampler is seeded, so each of them would run
the same 20-30 CPU seconds of sampling to the same draws. :func:`sharing_hb_fits` makes the
console's ``fit_decision_model`` look up such a fit by everything it is a function of --
the model, the settings, the study and the choice data -- in a folder of the test run
(shared by the xdist workers, new each run: never a fit of an older sampler); the first
test to need a fit makes it with the console's own call, the others read it back. The fit's
warnings (convergence…) are kept with it and raised again on every use, so the page shows
the same notes. A file lock makes a worker wait for the other's fit instead of repeating it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest


def _key(model: str, data: Any, study: Any, args: tuple, kwargs: dict) -> str:
    digest = hashlib.sha256()
    for part in (model, repr(args), repr(sorted(kwargs.items())), study.model_dump_json(),
                 data.frame.to_csv(index=False)):  # fmt: skip
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _fit_or_read(fit: Any, folder: Path, model: str, data: Any, study: Any, *args: Any) -> Any:
    path = folder / f"{model}-{_key(model, data, study, args, {})}.pickle"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            results, caught = pickle.loads(path.read_bytes())
        else:
            with warnings.catch_warnings(record=True) as recorded:
                warnings.simplefilter("always")
                results = fit(model, data, study, *args)
            caught = [(w.category, str(w.message)) for w in recorded]
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(pickle.dumps((results, caught)))
            partial.replace(path)
    for category, message in caught:  # as the fit itself raised them, to the caller's filters
        warnings.warn(message, category, stacklevel=2)
    return results


def sharing_hb_fits(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """The console's HB fits (simulator and report) through the run's shared folder; the
    other models fit as before."""
    import offerlab.field._publications as publications
    import offerlab.field._simulator as simulator

    for module in (simulator, publications):

        def shared(model, data, study, *args, _fit=module.fit_decision_model, **kwargs):
            if model != "hb" or kwargs:
                return _fit(model, data, study, *args, **kwargs)
            return _fit_or_read(_fit, folder, model, data, study, *args)

        monkeypatch.setattr(module, "fit_decision_model", shared)


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run that every xdist worker of it sees (the workers' base
    temporary folders are siblings), new each run."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "shared-hb-fits"
    folder.mkdir(exist_ok=True)
    return folder

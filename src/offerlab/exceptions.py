"""Errors and warnings raised by offerlab.

Error tree::

    OfferlabError                 base of every error offerlab raises on purpose
    ├── StudyError                a study file is broken (names file, line and field)
    ├── ChoiceDataError           choice data is malformed (names the rows)
    ├── SpecError                 a model specification file is broken
    ├── DesignError               no design can satisfy the study's rules
    └── EstimationError           a model could not be estimated (e.g. singular Hessian)

    OfferlabWarning               base of every warning, so users can filter them
    └── ConvergenceWarning        an optimiser stopped before meeting its tolerance

The command line turns every ``OfferlabError`` into one message and exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ChoiceDataError",
    "ConvergenceWarning",
    "DesignError",
    "EstimationError",
    "OfferlabError",
    "OfferlabWarning",
    "SpecError",
    "StudyError",
    "StudyProblem",
]


class OfferlabError(Exception):
    """Base class of the errors offerlab raises on purpose."""


@dataclass(frozen=True)
class StudyProblem:
    """One thing wrong in a study (or spec) file.

    ``field`` is a dotted path such as ``attributes[2].levels[1].name``;
    ``line`` and ``column`` are 1-based, or ``None`` when unknown.
    """

    message: str
    field: str = ""
    line: int | None = None
    column: int | None = None

    def render(self, path: Path | str | None) -> str:
        where = str(path) if path is not None else "<study>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class StudyError(OfferlabError):
    """A study file is broken. ``problems`` lists every problem found."""

    def __init__(self, problems: list[StudyProblem], path: Path | str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [p.render(self.path) for p in self.problems]
        where = f"in {self.path}" if self.path is not None else "found"
        head = "" if len(lines) == 1 else f"{len(lines)} problems {where}:\n"
        return head + "\n".join(lines)


class SpecError(StudyError):
    """A model specification file is broken."""


class ChoiceDataError(OfferlabError):
    """Choice data is malformed; the message names the offending rows."""


class DesignError(OfferlabError):
    """No design satisfies the study's prohibitions and task rules."""


class EstimationError(OfferlabError):
    """A model could not be estimated."""


class OfferlabWarning(UserWarning):
    """Base class of offerlab's warnings.

    The message is English, for the analyst's console. A warning that a page may show
    carries its ``reason`` (a stable name) and the ``fields`` its sentence needs, so that
    the page can say it in the reader's language (see :meth:`because`); other warnings
    have an empty reason.
    """

    reason: str = ""
    fields: dict[str, str | int | float] = {}  # noqa: RUF012 - replaced, never mutated

    @classmethod
    def because(cls, reason: str, message: str, **fields: str | int | float) -> OfferlabWarning:
        """A warning of this class with ``message``, its ``reason`` and ``fields``."""
        warning = cls(message)
        warning.reason, warning.fields = reason, dict(fields)
        return warning


class ConvergenceWarning(OfferlabWarning):
    """An optimiser stopped before meeting its tolerance."""

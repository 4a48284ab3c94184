"""Fielding: the web survey respondents take (Starlette, server-rendered pages).

:class:`Fielding` registers a study with its questionnaire and design on a
database and runs entries, pages, submits and quotas; :func:`create_app` is the
respondent web app on it; :class:`Survey` is the questionnaire's logic alone.
"""

from offerlab.field._app import create_app
from offerlab.field._auth import add_member
from offerlab.field._export import concept_data, concept_ratings, kano_data, maxdiff_data
from offerlab.field._flow import AnswerError, Survey
from offerlab.field._service import Fielding, Snapshot, SubmitResult, new_token

__all__ = [
    "AnswerError",
    "Fielding",
    "Snapshot",
    "SubmitResult",
    "Survey",
    "add_member",
    "concept_data",
    "concept_ratings",
    "create_app",
    "kano_data",
    "maxdiff_data",
    "new_token",
]

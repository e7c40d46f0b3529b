"""Possible duplicates across reporters (:mod:`geo_p4gn.duplicates`), for managers and admins to review."""

from __future__ import annotations

import pandas as pd

from .. import duplicates
from ..filters import Filters
from ..identity import User, authorize
from .records import list_interventions


def list_duplicates(store, user: User, filters: Filters | None = None, *, days: int | None = None,
                    similarity: float | None = None) -> pd.DataFrame:
    """The possible duplicates among the (filtered) records (:func:`geo_p4gn.duplicates.possible_duplicates`;
    ``days`` and ``similarity`` default to the settings). Managers and admins (``review_duplicates``)."""
    authorize(user, "review_duplicates")
    records = list_interventions(store, user, filters)
    return duplicates.possible_duplicates(records, days=days, similarity=similarity)

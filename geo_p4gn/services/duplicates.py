"""Possible duplicates across reporters (:mod:`geo_p4gn.duplicates`), for managers and admins to review.

A review decision (``review_duplicates``: managers and admins) is stored in the store
(:mod:`geo_p4gn.store._reviews`), audited and reversible; a record confirmed as a duplicate of another is left
out of every coverage figure: the services' coverage inputs (:func:`coverage_records`), the exports and the
app's cached records read the records through :func:`without_duplicates`.
"""

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


def review_list(store, user: User, filters: Filters | None = None, *, days: int | None = None,
                similarity: float | None = None) -> pd.DataFrame:
    """:func:`list_duplicates` with the decision taken on each pair (:func:`geo_p4gn.duplicates.with_reviews`:
    ``decision`` pending / distinct / duplicate, ``duplicate_id``). Managers and admins."""
    pairs = list_duplicates(store, user, filters, days=days, similarity=similarity)
    return duplicates.with_reviews(pairs, store.duplicate_reviews())


def duplicate_decisions(store, user: User) -> pd.DataFrame:
    """Every review decision stored (:data:`geo_p4gn.store._reviews.REVIEW_FIELDS`), oldest first."""
    authorize(user, "review_duplicates")
    return store.duplicate_reviews()


def mark_duplicate(store, user: User, record_id: str, of: str) -> str:
    """Confirm ``record_id`` as a duplicate of ``of`` (the record kept): from then on it counts in no coverage
    figure. Audited; ``"created"``, ``"updated"`` or ``"unchanged"``. Managers and admins."""
    authorize(user, "review_duplicates")
    return store.review_duplicate(record_id, of, "duplicate", user=user.name)


def keep_both(store, user: User, record_a: str, record_b: str) -> str:
    """Decide that a flagged pair is two events (both count). Audited. Managers and admins."""
    authorize(user, "review_duplicates")
    return store.review_duplicate(record_a, record_b, "distinct", user=user.name)


def unmark_duplicate(store, user: User, record_id: str, other_id: str | None = None) -> int:
    """Undo ``record_id``'s duplicate mark (or, with ``other_id``, any decision on that pair); the figures are
    as before the mark. Audited; returns how many decisions were undone. Managers and admins."""
    authorize(user, "review_duplicates")
    return store.unreview_duplicate(record_id, other_id, user=user.name)


def without_duplicates(store, records: pd.DataFrame) -> pd.DataFrame:
    """``records`` (already read through a service) without the store's confirmed duplicates: the one place
    coverage inputs drop them (:func:`geo_p4gn.duplicates.without_confirmed`)."""
    confirmed = getattr(store, "confirmed_duplicates", None)  # a stand-in store without reviews: none confirmed
    return duplicates.without_confirmed(records, confirmed() if confirmed is not None else frozenset())


def coverage_records(store, user: User, filters: Filters | None = None) -> pd.DataFrame:
    """The records a coverage figure counts: :func:`list_interventions` without confirmed duplicates."""
    return without_duplicates(store, list_interventions(store, user, filters))

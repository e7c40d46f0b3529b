"""The service layer: every action a person can take, each checked against their role first.

The app's pages and the ``geo-p4gn`` command are thin entry points over these functions, so a page that
is bypassed (a crafted request, a script, the CLI) gets the same answer as the UI: permissions live here,
never only in hidden buttons. Each function takes the store and a :class:`User` (a verified identity
already mapped to a role, see :mod:`geo_p4gn.auth`), calls :func:`authorize`, then the store.

The roles and what each may do are :mod:`geo_p4gn.identity` (``ROLE_ACTIONS``, the whole matrix;
``tests/integration/test_auth_matrix.py`` walks every cell).

Nothing here keeps state between calls: no module-level caches, no current user. Frames returned are
fresh objects; an app that caches them must key the cache on the user's role and name (see
:func:`cache_scope`).

Examples
--------
>>> list(ROLES)
['petugas', 'perencana', 'pimpinan', 'admin']
"""

from __future__ import annotations

from ..identity import (
    ACTIONS,
    OWN_ACTIONS,
    ROLE_ACTIONS,
    ROLES,
    SINGLE_USER,
    User,
    allowed_actions,
    authorize,
    cache_scope,
    can,
)
from .admin import (
    add_user,
    audit_log,
    backup_store,
    grant_app_role,
    list_users,
    remove_user,
    restore_store,
    seed_actions,
    seed_store,
    set_password,
    set_role,
)
from .data import (
    compare_periods,
    coverage_table,
    export_html,
    export_records,
    gap_list,
    import_file,
    resolve_filters,
)
from .duplicates import (
    coverage_records,
    duplicate_decisions,
    keep_both,
    list_duplicates,
    mark_duplicate,
    review_list,
    unmark_duplicate,
    without_duplicates,
)
from .ikrn import (
    ikrn_basis,
    ikrn_before_after,
    ikrn_grades,
    ikrn_history,
    import_ikrn,
    window_sites,
)
from .records import (
    delete_intervention,
    edit_intervention,
    get_intervention,
    list_interventions,
    list_sites,
    record_history,
    record_intervention,
    restore_intervention,
    sees_authors,
    site_history,
    upsert_site,
)
from .taxonomy import (
    add_taxonomy_term,
    edit_taxonomy_labels,
    replace_taxonomy,
)

__all__ = [
    "ACTIONS",
    "OWN_ACTIONS",
    "ROLES",
    "ROLE_ACTIONS",
    "SINGLE_USER",
    "User",
    "add_taxonomy_term",
    "add_user",
    "allowed_actions",
    "audit_log",
    "authorize",
    "backup_store",
    "cache_scope",
    "can",
    "compare_periods",
    "coverage_records",
    "coverage_table",
    "delete_intervention",
    "duplicate_decisions",
    "edit_intervention",
    "edit_taxonomy_labels",
    "export_html",
    "export_records",
    "gap_list",
    "get_intervention",
    "grant_app_role",
    "ikrn_basis",
    "ikrn_before_after",
    "ikrn_grades",
    "ikrn_history",
    "import_file",
    "import_ikrn",
    "keep_both",
    "list_duplicates",
    "list_interventions",
    "list_sites",
    "list_users",
    "mark_duplicate",
    "record_history",
    "record_intervention",
    "remove_user",
    "replace_taxonomy",
    "resolve_filters",
    "restore_intervention",
    "restore_store",
    "review_list",
    "seed_actions",
    "seed_store",
    "sees_authors",
    "set_password",
    "set_role",
    "site_history",
    "unmark_duplicate",
    "upsert_site",
    "window_sites",
    "without_duplicates",
]

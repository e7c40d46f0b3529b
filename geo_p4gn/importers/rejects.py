from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely.geometry

from .._errors import P4gnError
from .._files import replacing
from ..records import is_blank
from ..spreadsheet import neutralise
from ._common import ALL_REJECT_COLUMNS, normalise_column
from .check import Checked, Reject
from .reasons import reject_columns


# -- rejects file --------------------------------------------------------------------------------
def _cell_text(value: Any) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, shapely.Geometry):
        return shapely.to_wkt(value, rounding_precision=-1)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_rejects(checked: Checked, rejects: Sequence[Reject], out: str | os.PathLike, lang: str = "id") -> None:
    """Write the rejects file (see the module docstring) with its reasons and its own columns in ``lang``
    (``_baris, _kolom, _alasan`` in Bahasa Indonesia, ``_row, _field, _reason`` in English); written whole,
    then moved into place."""
    table, out = checked.table, Path(out)
    header = [h for h in table.header if normalise_column(h) not in ALL_REJECT_COLUMNS]
    keep = [i for i, h in enumerate(table.header) if normalise_column(h) not in ALL_REJECT_COLUMNS]
    id_col = checked.columns.fields.get("id")
    add_id = id_col is None
    if add_id:
        header = ["id", *header]
    rows = []
    for r in rejects:
        cells = table.row_cells(r.pos)
        made = checked.ids[r.pos] if checked.generated[r.pos] else None
        if id_col is not None and made:
            cells[id_col] = made
        out_cells = [_cell_text(cells[i]) for i in keep]
        if add_id:
            out_cells = [made or "", *out_cells]
        rows.append([*(neutralise(c, keep_numbers=True) for c in out_cells), r.row, r.field, neutralise(r.reason_in(lang))])
    try:
        with replacing(out) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, delimiter=table.delimiter or ",")
            w.writerow([*header, *reject_columns(lang)])
            w.writerows(rows)
    except OSError as exc:
        msg = f"cannot write the rejects file {out}: {exc.strerror or exc}"
        raise P4gnError(msg) from exc

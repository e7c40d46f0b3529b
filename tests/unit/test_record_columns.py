"""records.RecordColumns: many records as columns hash, index and compare as the same Interventions do."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_p4gn.records import Intervention, RecordColumns, _content_hashes_plain, content_hashes

BASE = Intervention(id="a", date=dt.date(2024, 5, 1), type_key="sosialisasi", actor_key="pemerintah",
                    organisation='BNNP DKI "Jakarta" é', geometry=shapely.Point(106.8272, -6.1754))
POLY = shapely.Polygon([(106.8, -6.2), (106.81, -6.2), (106.81, -6.19), (106.8, -6.2)])

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
records = st.builds(
    lambda i, day, end, org, notes, site, part, poly, x, y: dataclasses.replace(
        BASE, id=f"id-{i}", date=dt.date(2024, 1, 1) + dt.timedelta(days=day),
        end_date=None if end is None else dt.date(2024, 1, 1) + dt.timedelta(days=day + end), organisation=org,
        notes=notes, site_id=site, participants=part, geometry=POLY if poly else shapely.Point(x, y)),
    st.integers(0, 5), st.integers(0, 400), st.none() | st.integers(1, 30), text, text, st.none() | text,
    st.none() | st.integers(0, 10**12), st.booleans(), st.floats(106, 107), st.floats(-6.5, -5.9))


@settings(max_examples=60, deadline=None)
@given(st.lists(records, max_size=25))
def test_hashes_equal_the_plain_encoding(recs):
    assert content_hashes(recs) == _content_hashes_plain(recs)
    assert RecordColumns.from_records(recs).content_hashes() == _content_hashes_plain(recs)


def test_a_batch_is_a_sequence_of_the_same_records():
    recs = [BASE, dataclasses.replace(BASE, id="b", participants=3, notes="x", kelurahan_code="31.73.01.1004"),
            dataclasses.replace(BASE, id="c", geometry=POLY, end_date=dt.date(2024, 5, 9), site_id="s-1")]
    batch = RecordColumns.from_records(recs)
    assert len(batch) == 3 and list(batch) == recs and batch[1] == recs[1]
    assert list(batch.take(np.array([2, 0]))) == [recs[2], recs[0]]
    assert list(batch[1:]) == recs[1:]
    assert batch.ids.tolist() == ["a", "b", "c"]
    assert RecordColumns.from_records(batch) is batch
    assert content_hashes([]) == [] and len(RecordColumns.from_records([])) == 0


def test_new_row_columns_hash_as_the_row_snapshots_do():
    from geo_p4gn.store import _logic

    recs = [BASE, dataclasses.replace(BASE, id="b", participants=3, notes='x "y"\n', site_id="s-1",
                                      end_date=dt.date(2024, 5, 9)),
            dataclasses.replace(BASE, id="c", geometry=POLY, organisation="Ünïcode ☃")]
    codes = ["31.73.01.1004", None, "31.71.01.1001"]
    rows = _logic.record_rows(recs, codes)
    for r in rows:
        r.update(created_by="u", created_at="2026-01-01T00:00:00.000Z", updated_by="u",
                 updated_at="2026-01-01T00:00:00.000Z", deleted=False, version=1, created_hash=r["content_hash"])
    cols = _logic.new_row_columns(RecordColumns.from_records(recs), np.array(codes, dtype=object), "u",
                                  "2026-01-01T00:00:00.000Z")
    assert [cols[f][k] for k in range(3) for f in ('id', 'kelurahan_code', 'created_by', 'version')] == [
        r[f] for r in rows for f in ('id', 'kelurahan_code', 'created_by', 'version')]
    assert list(cols["content_hash"][0:3]) == [r["content_hash"] for r in rows]

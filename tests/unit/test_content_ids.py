"""Issue 13: a row without an id gets a stable id made from its content and source (content_ids).

Exact ids are pinned: they must never change, or every file imported before would be stored again.
"""

from __future__ import annotations

import json
import uuid

import numpy as np

from geo_p4gn.importers import content_ids, map_columns, read_rows
from geo_p4gn.importers.check import ROW_ID_NAMESPACE

CSV = ("tanggal,jenis,aktor,organisasi,peserta,lintang,bujur,keterangan_lain\n"
       "2024-08-17,seni_budaya,komunitas,Karang Taruna RW 07,120,-6.151539,106.760338,a\n"
       "2024-08-17,seni_budaya,komunitas,Karang Taruna RW 07,120,-6.151539,106.760338,b\n"  # same content
       "17/08/2024,deklarasi,pemerintah,BNNP DKI Jakarta,250,-6.108734,106.885901,\n")


def _ids(tmp_path, text: str, name: str = "laporan.csv", source: str | None = None) -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    table = read_rows(path)
    return content_ids(table, map_columns(table), np.arange(len(table)), str(path) if source is None else source)


def test_the_ids_are_pinned(tmp_path):
    assert _ids(tmp_path, CSV) == [
        "f2c80eb3-2bb0-5b4e-baab-c0e7a3409dd5",
        "269e8461-e08a-52ba-b7eb-5545dc62e1b3",
        "3d15b8cf-ca6b-5175-9a1b-3e7f27ebf2e0",
    ]
    # the recipe, spelled out for the first row: UUID5(namespace, source \x1f cells of the fields read \x1f copy)
    cells = [["actor", "komunitas"], ["date", "2024-08-17"], ["lat", "-6.151539"], ["lon", "106.760338"],
             ["organisation", "Karang Taruna RW 07"], ["participants", "120"], ["type", "seni_budaya"]]
    name = "laporan.csv\x1f" + json.dumps(cells, ensure_ascii=False) + "\x1f0"
    assert str(uuid.uuid5(ROW_ID_NAMESPACE, name)) == "f2c80eb3-2bb0-5b4e-baab-c0e7a3409dd5"


def test_same_content_and_source_same_ids(tmp_path):
    first = _ids(tmp_path, CSV)
    assert len(set(first)) == 3  # two identical rows of one file stay two records
    # the same file elsewhere, columns reordered, extra spaces, an ignored column changed: the same ids
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    reordered = ("bujur,lintang,tanggal,jenis,aktor,organisasi,peserta,keterangan_lain\n"
                 "106.760338,-6.151539,2024-08-17,seni_budaya,komunitas,Karang  Taruna RW 07 ,120,x\n"
                 "106.760338,-6.151539,2024-08-17,seni_budaya,komunitas,Karang Taruna RW 07,120,y\n"
                 "106.885901,-6.108734,17/08/2024,deklarasi,pemerintah,BNNP DKI Jakarta,250,z\n")
    assert _ids(moved, reordered, "LAPORAN.csv") == first


def test_another_source_or_content_other_ids(tmp_path):
    first = _ids(tmp_path, CSV)
    assert set(_ids(tmp_path, CSV, "laporan-kelurahan.csv")).isdisjoint(first)
    changed = _ids(tmp_path, CSV.replace(",250,", ",251,"))
    assert changed[:2] == first[:2] and changed[2] != first[2]

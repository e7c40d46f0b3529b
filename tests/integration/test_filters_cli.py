"""Issue 13: the CLI's filters by name, the area rule over the real boundaries, exit status 2 for a value
that matches nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo_p4gn import cli, duplicates


@pytest.fixture
def seeded(tmp_path, boundaries):
    path = tmp_path / "s.gpkg"
    assert cli.main(["init", "--store", str(path)]) == 0
    return str(path)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_gaps_by_kota_name(seeded, capsys):
    capsys.readouterr()
    assert cli.main(["gaps", "--level", "site", "--kota", "Jakarta Barat", "--store", seeded]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows and all(r["kota_code"] == "31.73" for r in rows)
    assert {r["code"] for r in rows} == {"kampung-ambon", "kampung-boncos"}


def test_a_kota_and_a_kecamatan_inside_it_narrow(seeded, capsys):
    capsys.readouterr()
    assert cli.main(["coverage", "--level", "kelurahan", "--kota", "jakarta barat", "--kecamatan", "Cengkareng",
                     "--store", seeded]) == 0
    codes = [r["code"] for r in _rows(capsys.readouterr().out)]
    assert len(codes) == 6 and all(c.startswith("31.73.01.") for c in codes)  # Cengkareng's 6 kelurahan
    assert cli.main(["coverage", "--level", "kota", "--kota", "31.73", "--kecamatan", "Cengkareng",
                     "--kecamatan", "Tanjung Priok", "--store", seeded]) == 0
    assert [r["code"] for r in _rows(capsys.readouterr().out)] == ["31.72", "31.73"]  # branches add up


@pytest.mark.parametrize("command", [["gaps"], ["coverage"], ["export", "csv", "OUT"]])
def test_a_value_that_matches_nothing_exits_2_naming_it(seeded, capsys, tmp_path, command):
    command = [str(tmp_path / "out.csv") if c == "OUT" else c for c in command]
    capsys.readouterr()
    assert cli.main([*command, "--kota", "Jakarta Bart", "--store", seeded]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "geo-p4gn: error: --kota 'Jakarta Bart': no kota has this code or name\n"
    assert not (tmp_path / "out.csv").exists()


def test_coverage_compare_two_periods(seeded, capsys):
    """Issue 13: geo-p4gn coverage --compare FROM..TO FROM..TO (the starter data is of 2024)."""
    capsys.readouterr()
    assert cli.main(["coverage", "--level", "site", "--compare", "2023", "2024-01-01..2024-12-31",
                     "--store", seeded]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows and {r["change"] for r in rows} <= {"new", "neither"}
    assert any(r["change"] == "new" and r["interventions_a"] == "0" for r in rows)
    assert cli.main(["coverage", "--compare", "2024", "2025", "--from", "2024-01-01", "--store", seeded]) == 2
    assert "leave out --from and --to" in capsys.readouterr().err


def test_duplicates_lists_pairs(seeded, capsys, tmp_path):
    """Issue 13: geo-p4gn duplicates --format csv|json (the single local user is an admin)."""
    src = tmp_path / "dua-pelapor.csv"
    src.write_text("tanggal,jenis,aktor,organisasi,lintang,bujur\n"
                   "2025-03-01,deklarasi,pemerintah,BNNK Jakarta Barat,-6.151539,106.760338\n"
                   "2025-03-02,deklarasi,pemerintah,BNNK Jakbar,-6.151539,106.760338\n", encoding="utf-8")
    assert cli.main(["import", str(src), "--store", seeded]) == 0
    capsys.readouterr()
    assert cli.main(["duplicates", "--from", "2025-01-01", "--format", "json", "--store", seeded]) == 0
    pairs = json.loads(capsys.readouterr().out)
    assert [(p["organisation_a"], p["organisation_b"], p["days_apart"], p["place_level"]) for p in pairs] in (
        [("BNNK Jakarta Barat", "BNNK Jakbar", 1, "kelurahan")], [("BNNK Jakbar", "BNNK Jakarta Barat", 1, "kelurahan")])
    assert cli.main(["duplicates", "--from", "2025-01-01", "--similarity", "0.95", "--store", seeded]) == 0
    assert capsys.readouterr().out.splitlines() == [",".join(duplicates.COLUMNS + duplicates.REVIEW_COLUMNS)]

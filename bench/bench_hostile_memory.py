"""Peak memory of the import check (limits + a dry-run import) on hostile files, against their size and a baseline.

Each hostile shape of issue 10 is generated in a temporary folder (nothing is downloaded), then checked in a
fresh subprocess: :func:`geo_p4gn.importers.limits.check_upload` followed by
:func:`geo_p4gn.importers.import_file` with ``dry_run=True`` into a new GeoPackage store, a rejects file
written, as the app and ``geo-p4gn import --dry-run`` do. The child's peak RSS is read with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (each child is its own process, so the figure is that
child's own peak).

Baselines, measured in the same run:

- ``idle``: the same child on a 1-row CSV: the interpreter, geopandas and the boundaries, no data. A
  shape's *extra* memory is its peak minus this.
- ``normal``: a valid CSV of about the size of the largest hostile file (realistic rows).
- ``normal, written``: the same file imported for real (stored, audited, indexed in one transaction), not a
  dry run; held to the same goal.

Goal (issue 10): for every file within the limits, extra memory <= 10x the file size and peak < 1 GB.
A refused file (a limit named) must be refused within the same bound.

Run: ``python -m bench.bench_hostile_memory [--scale F] [--only NAME ...]`` (``GEO_P4GN_BOUNDARY_MIRROR``
set when offline). ``--scale 0.1`` makes every shape ten times smaller (the tests use such shapes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

HEADER = "tanggal,jenis,aktor,organisasi,peserta,catatan,lintang,bujur"
ROW = "2024-08-17,deklarasi,komunitas,Karang Taruna RW 07,120,Pagelaran seni,-6.151539,106.760338"
GOAL_RATIO = 10.0
GOAL_PEAK = 1_000_000_000


# -- the shapes ----------------------------------------------------------------------------------------------
def csv_wide_row(path: Path, scale: float = 1.0) -> Path:
    """A 3.5 MB CSV: a normal header and rows, then one row of 2,000,000 commas, then more rows."""
    rows = max(int(15_000 * scale), 10)
    body = "\n".join([ROW] * rows)
    path.write_text(f"{HEADER}\n{body}\n{',' * int(2_000_000 * scale)}\n{body}\n")
    return path


def csv_wide_cells(path: Path, scale: float = 1.0) -> Path:
    """One row of 1,000,000 two-letter cells (3 MB): each cell would be its own Python string."""
    path.write_text(f"{HEADER}\n{ROW}\n" + ",".join(["ab"] * int(1_000_000 * scale)) + "\n")
    return path


def csv_cr_only(path: Path, scale: float = 1.0, rows: int = 250_000) -> Path:
    """Old-Mac line endings (CR only): 250,000 rows, past the 200,000-row limit."""
    path.write_bytes(("\r".join([HEADER] + [ROW] * int(rows * scale)) + "\r").encode())
    return path


def geojson_non_objects(path: Path, scale: float = 1.0) -> Path:
    """A FeatureCollection whose features are 3,000,000 zeros (6 MB): no object, so no '{' to count."""
    n = int(3_000_000 * scale)
    path.write_text('{"type": "FeatureCollection", "features": [' + ",".join(["0"] * n) + "]}")
    return path


def _xlsx(path: Path, sheet_name: str, sheet: Callable, shared: list[str] | None = None) -> Path:
    """A minimal but valid workbook whose first sheet is the part ``sheet_name``; ``sheet(fh)`` writes it."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sheet.main+xml"/>'
             f'<Override PartName="/{sheet_name}" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.worksheet+xml"/>'
             + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared is not None else "")
             + "</Types>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
                    f'{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}">'
                    '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        target = "/" + sheet_name
        zf.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
                    'http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
                    f'{rel}/worksheet" Target="{target}"/>'
                    + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
                       if shared is not None else "") + "</Relationships>")
        if shared is not None:
            with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
                fh.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="{len(shared)}" '
                         f'uniqueCount="{len(shared)}">'.encode())
                for s in shared:
                    fh.write(b"<si><t>" + s.encode() + b"</t></si>")
                fh.write(b"</sst>")
        with zf.open(sheet_name, "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'.encode())
            sheet(fh)
            fh.write(b"</sheetData></worksheet>")
    return path


def _row(r: int, cells: list[str]) -> bytes:
    return (f'<row r="{r}">' + "".join(cells) + "</row>").encode()


def _inline(col: str, r: int, text: str) -> str:
    return f'<c r="{col}{r}" t="inlineStr"><is><t>{text}</t></is></c>'


def _num(col: str, r: int, v: float) -> str:
    return f'<c r="{col}{r}"><v>{v}</v></c>'


HEAD_CELLS = ["tanggal", "jenis", "aktor", "organisasi", "lintang", "bujur"]


def _data_row(r: int) -> bytes:
    return _row(r, [_inline("A", r, "2024-08-17"), _inline("B", r, "deklarasi"), _inline("C", r, "komunitas"),
                    _inline("D", r, "RW 07"), _num("E", r, -6.151539), _num("F", r, 106.760338)])


def xlsx_sheet_outside_worksheets(path: Path, scale: float = 1.0, rows: int = 250_000) -> Path:
    """250,000 rows in a sheet stored as ``xl/data/rows.bin`` (not under xl/worksheets/, not named .xml)."""
    def sheet(fh):
        fh.write(_row(1, [_inline("ABCDEF"[i], 1, h) for i, h in enumerate(HEAD_CELLS)]))
        for r in range(2, int(rows * scale) + 2):
            fh.write(_data_row(r))
    return _xlsx(path, "xl/data/rows.bin", sheet)


def xlsx_huge_shared_strings(path: Path, scale: float = 1.0) -> Path:
    """About 42 MB: 40 shared strings of 1,000,000 random letters each, used by 100,000 rows' organisation and
    participants (so every row is rejected with a reason that could repeat the cell)."""
    import random

    rnd = random.Random(7)
    n, size = 40, int(1_000_000 * scale)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    shared = ["".join(rnd.choices(letters, k=size)) for _ in range(n)]
    rows = int(100_000 * scale)

    def sheet(fh):
        fh.write(_row(1, [_inline("ABCDEFG"[i], 1, h) for i, h in enumerate([*HEAD_CELLS, "peserta"])]))
        for r in range(2, rows + 2):
            k = r % n
            fh.write(_row(r, [_inline("A", r, "2024-08-17"), _inline("B", r, "deklarasi"),
                              _inline("C", r, "komunitas"), f'<c r="D{r}" t="s"><v>{k}</v></c>',
                              _num("E", r, -6.151539), _num("F", r, 106.760338), f'<c r="G{r}" t="s"><v>{k}</v></c>']))
    return _xlsx(path, "xl/worksheets/sheet1.xml", sheet, shared)


def csv_normal(path: Path, size: int) -> Path:
    """A valid CSV of about ``size`` bytes (the baseline)."""
    rows = max(size // (len(ROW) + 1), 1)
    path.write_text(HEADER + "\n" + "\n".join([ROW] * min(rows, 199_000)) + "\n")
    return path


SHAPES: dict[str, Callable[..., Path]] = {
    "csv_wide_row.csv": csv_wide_row,
    "csv_wide_cells.csv": csv_wide_cells,
    "csv_cr_only.csv": csv_cr_only,
    "geojson_non_objects.geojson": geojson_non_objects,
    "xlsx_sheet_outside_worksheets.xlsx": xlsx_sheet_outside_worksheets,
    "xlsx_huge_shared_strings.xlsx": xlsx_huge_shared_strings,
}


# -- the child: the import check ----------------------------------------------------------------------------
def child(path: str, store_path: str, write: bool = False) -> None:
    """Check ``path`` as the app does (limits, then a dry-run import with a rejects file); print a JSON line.
    With ``write`` the import is a real one (the rows are stored, audited and indexed)."""
    from geo_p4gn import P4gnError, importers
    from geo_p4gn.boundaries import load_boundaries
    from geo_p4gn.importers import limits
    from geo_p4gn.store import open_store
    from geo_p4gn.taxonomy import load_taxonomy

    store = open_store(store_path, boundaries=load_boundaries(), taxonomy=load_taxonomy())
    out: dict = {}
    t0 = time.perf_counter()
    try:
        limits.check_upload(path)
        report = importers.import_file(store, path, user="bench", dry_run=not write,
                                       rejects_path=Path(store_path).with_suffix(".rejects.csv"))
        out.update(outcome="imported", rows=report.rows, accepted=report.accepted, rejected=report.rejected,
                   rejects_bytes=Path(report.rejects_path).stat().st_size)
    except P4gnError as exc:
        out.update(outcome="refused", limit=getattr(exc, "limit", None), message=str(exc)[:300])
    out["seconds"] = round(time.perf_counter() - t0, 2)
    store.close()
    print(json.dumps(out))


def measure(path: Path, folder: Path, timeout: float = 600, write: bool = False) -> dict:
    """Run :func:`child` on ``path`` in a new process; its result and peak RSS (bytes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    store = folder / f"store-{path.stem}{'-written' if write else ''}.gpkg"
    proc = subprocess.run([sys.executable, "-m", "bench.bench_hostile_memory", "--child", str(path), str(store),
                           *(["write"] if write else [])],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kilobytes on Linux
    peak = max(peak, before * 1024)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"outcome": "crashed", "stderr": proc.stderr[-2000:]}
    result.update(size=path.stat().st_size, peak_rss=peak, returncode=proc.returncode)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--child", nargs="+", metavar="FILE STORE [write]", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], write=args.child[2:] == ["write"])
        return 0
    # ru_maxrss of RUSAGE_CHILDREN is the peak of the LARGEST child so far: measure from small to large and
    # run each shape in its own bench process so that an earlier, larger child cannot hide a smaller peak.
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        folder = Path(tmp)
        names = [n for n in SHAPES if not args.only or any(o in n for o in args.only)]
        files = {n: SHAPES[n](folder / n, args.scale) for n in names}
        largest = max((p.stat().st_size for p in files.values()), default=1_000_000)
        rows = [("idle", csv_normal(folder / "idle.csv", 100)),
                ("normal", csv_normal(folder / "normal.csv", largest)), *files.items()]
        results = {}
        for name, path in rows:
            results[name] = _isolated(path, folder)
        results["normal, written"] = _isolated(rows[1][1], folder, write=True)  # a real import of the same file
        idle = results["idle"]["peak_rss"]
        normal = results["normal"]
        print(f"{'file':38} {'size MB':>8} {'peak MB':>8} {'extra MB':>9} {'extra/size':>10} "
              f"{'vs normal':>9}  outcome")
        failed = False
        for name, r in results.items():
            extra = max(r["peak_rss"] - idle, 0)
            ratio = extra / r["size"]
            vs = extra / max(normal["peak_rss"] - idle, 1)
            what = r["outcome"] + (f" ({r['limit']})" if r.get("limit") else "")
            if r["outcome"] == "imported":
                what += f" rows={r['rows']} rejected={r['rejected']} rejects={r['rejects_bytes'] / 1e6:.1f} MB"
            ok = r["outcome"] != "crashed" and r["peak_rss"] < GOAL_PEAK and (name == "idle" or ratio <= GOAL_RATIO)
            failed |= not ok
            print(f"{name:38} {r['size'] / 1e6:8.2f} {r['peak_rss'] / 1e6:8.0f} {extra / 1e6:9.0f} {ratio:10.1f} "
                  f"{vs:9.2f}  {what}  {r.get('seconds', '')}s{'' if ok else '  OVER GOAL'}")
        print(f"goal: extra <= {GOAL_RATIO:g}x the file size and peak < {GOAL_PEAK / 1e9:g} GB; "
              f"idle = {idle / 1e6:.0f} MB")
    return 1 if failed else 0


def _isolated(path: Path, folder: Path, write: bool = False) -> dict:
    """:func:`measure` from a fresh process, so that RUSAGE_CHILDREN holds that child only."""
    code = ("import json, sys; from pathlib import Path; from bench.bench_hostile_memory import measure; "
            "print(json.dumps(measure(Path(sys.argv[1]), Path(sys.argv[2]), write=sys.argv[3] == '1')))")
    proc = subprocess.run([sys.executable, "-c", code, str(path), str(folder), "1" if write else "0"],
                          capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(proc.stdout.splitlines()[-1])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())

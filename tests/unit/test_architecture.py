"""The import graph keeps the layers (issue 15): no cycle, no arrow from a lower layer to a higher one.

Every ``import`` and ``from ... import`` of the project is read with :mod:`ast`, function-local ones and those
under ``if TYPE_CHECKING:`` included, plus ``importlib.import_module("...")`` with a literal name. Nothing is
imported, so the test also sees modules that cannot be imported here (the app pages need Streamlit's runtime).

The layers, lowest first; a module may import its own layer and the layers below it, never above::

    domain    pure rules and data: errors, settings, i18n, regions, files, json, taxonomy, records, sites,
              column codes,
              filters, boundaries, identity, auth
    engines   what works on the domain: store/, importers/ (limits included), coverage, render/, seed
    services  the one door (permissions, identities) for every entry point
    entries   the entry points, side by side: cli/ (+ __main__), http/ or routes/, the Streamlit kit
              geo_p4gn_app/ and its pages app_pages/; one entry point never imports another
    launch    the Streamlit scripts app*.py, which start the app and may wire up any entry point

A module that is in no row of :data:`TABLE` fails the test: a new top-level module of ``geo_p4gn`` must be
given a layer here; a new module inside a layered folder (``render/report.py``, ``store/x.py``) takes its
folder's row. Besides the layers: the core (``geo_p4gn``) never imports Streamlit, and nothing in
``geo_p4gn`` imports the app (``geo_p4gn_app``, ``app_pages``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = "geo_p4gn"

LAYERS = ("domain", "engines", "services", "entries", "launch")

#: module or package (a package's row covers everything inside it) -> (layer, group). The group matters
#: only in the ``entries`` layer, where one entry point may not import another.
TABLE: dict[str, tuple[str, str]] = {
    # -- domain ---------------------------------------------------------------------------------------------
    "geo_p4gn": ("domain", "core"),  # the package's __init__: re-exports errors and domain names only
    "geo_p4gn._errors": ("domain", "core"),
    "geo_p4gn.settings": ("domain", "core"),
    "geo_p4gn.i18n": ("domain", "core"),
    "geo_p4gn.regions": ("domain", "core"),
    "geo_p4gn._files": ("domain", "core"),
    "geo_p4gn.spreadsheet": ("domain", "core"),
    "geo_p4gn._json": ("domain", "core"),
    "geo_p4gn.taxonomy": ("domain", "core"),
    "geo_p4gn.records": ("domain", "core"),
    "geo_p4gn.sites": ("domain", "core"),
    "geo_p4gn.column_codes": ("domain", "core"),
    "geo_p4gn.filters": ("domain", "core"),
    "geo_p4gn.boundaries": ("domain", "core"),
    "geo_p4gn.identity": ("domain", "core"),
    "geo_p4gn.auth": ("domain", "core"),
    # -- engines --------------------------------------------------------------------------------------------
    "geo_p4gn.store": ("engines", "core"),
    "geo_p4gn.importers": ("engines", "core"),
    "geo_p4gn.limits": ("engines", "core"),  # while it is a top-level module (it is moving into importers/)
    "geo_p4gn.coverage": ("engines", "core"),
    "geo_p4gn.compare": ("engines", "core"),  # two periods compared, over coverage
    "geo_p4gn.duplicates": ("engines", "core"),  # the possible-duplicate rule
    "geo_p4gn.ikrn": ("engines", "core"),  # BNN's yearly kelurahan grades read from a file, history, before/after
    "geo_p4gn.render": ("engines", "core"),  # render/report*.py included
    "geo_p4gn.seed": ("engines", "core"),  # writes the starter data into a store it is given
    "geo_p4gn.xform": ("engines", "core"),  # the ODK form from taxonomy, sites and boundaries
    # -- services -------------------------------------------------------------------------------------------
    "geo_p4gn.services": ("services", "core"),
    # -- entry points ---------------------------------------------------------------------------------------
    "geo_p4gn.cli": ("entries", "cli"),
    "geo_p4gn.__main__": ("entries", "cli"),
    "geo_p4gn.http": ("entries", "http"),
    "geo_p4gn.routes": ("entries", "http"),
    "geo_p4gn_app": ("entries", "app"),
    "app_pages": ("entries", "app"),
    # -- the Streamlit scripts ------------------------------------------------------------------------------
    "app": ("launch", "launch"),
    "app_main": ("launch", "launch"),
}

#: where the modules are: packages walked recursively, and the launch scripts at the repository's root
PACKAGES = ("geo_p4gn", "geo_p4gn_app", "app_pages")
SCRIPTS = ("app*.py",)

STREAMLIT = ("streamlit", "streamlit_folium")
APP = ("geo_p4gn_app", "app_pages")


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            rel = f.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            mods[".".join(parts)] = f
        if not (ROOT / pkg / "__init__.py").exists():  # app_pages: scripts in a folder, not a package
            mods.pop(pkg, None)
    for pattern in SCRIPTS:
        for f in sorted(ROOT.glob(pattern)):
            mods[f.stem] = f
    return mods


MODULES = _modules()


def _imported_names(name: str, path: Path) -> list[tuple[str, int]]:
    """Every dotted name ``name`` imports, with its line (``from a import b``: ``a.b``, and ``a`` unless
    ``a.b`` is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                base = ".".join(parts[: len(parts) - node.level + 1])
                src = f"{base}.{node.module}" if node.module else base
            else:
                src = node.module or ""
            # ``from pkg import submodule`` needs the submodule, not the names of pkg's __init__ (which Python
            # runs first for any submodule anyway); ``from pkg import name`` needs the __init__
            subs = [f"{src}.{alias.name}" for alias in node.names]
            needs_init = any(s not in MODULES for s in subs)
            found += [(src, node.lineno)] * needs_init + [(s, node.lineno) for s in subs if s in MODULES]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.args[0].value, node.lineno))
    return found


def _resolve(target: str) -> str | None:
    """The project module a dotted name lives in: ``geo_p4gn.records.x`` -> ``geo_p4gn.records``."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _graph() -> tuple[dict[str, dict[str, int]], dict[str, list[tuple[str, int]]]]:
    """The project's edges (module -> {imported module: first line}) and every module's raw imports."""
    edges: dict[str, dict[str, int]] = {m: {} for m in MODULES}
    raw: dict[str, list[tuple[str, int]]] = {}
    for m, path in MODULES.items():
        raw[m] = _imported_names(m, path)
        for target, line in raw[m]:
            t = _resolve(target)
            if t is not None and t != m:
                edges[m].setdefault(t, line)
    return edges, raw


EDGES, RAW = _graph()


def _row(module: str) -> tuple[str, str] | None:
    """The module's (layer, group): its own row, else the row of the nearest package holding it."""
    name = module
    while name:
        if name in TABLE and (name == module or name != CORE):  # the core's row is its __init__ only
            return TABLE[name]
        name = name.rpartition(".")[0]
    return None


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT)}:{line}"


def test_the_walk_sees_the_whole_project():
    """A guard for the walk itself: it finds the packages and their cross-layer imports."""
    assert {"geo_p4gn", "geo_p4gn.services", "geo_p4gn.cli", "geo_p4gn_app", "app"} <= set(MODULES)
    assert len(MODULES) > 40
    cli = [t for m, ts in EDGES.items() if m == "geo_p4gn.cli" or m.startswith("geo_p4gn.cli.") for t in ts]
    assert any(t.startswith("geo_p4gn.services") for t in cli)
    # function-local imports count: the store's opener imports its backends inside a function
    assert "geo_p4gn.store.geopackage" in EDGES["geo_p4gn.store"]


def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if _row(m) is None)
    assert not missing, ("modules in no row of tests/unit/test_architecture.py TABLE (give each a layer): "
                         + ", ".join(missing))


def test_the_table_names_only_known_layers():
    assert {layer for layer, _ in TABLE.values()} <= set(LAYERS)


def test_no_import_cycle():
    # Tarjan's strongly connected components over every edge (a submodule taking a name from its package's
    # __init__ is an edge too: a cycle when that __init__ imports the submodule)
    graph = {m: list(ts) for m, ts in EDGES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)

    def describe(comp: list[str]) -> str:
        inside = set(comp)
        arrows = [f"{m} -> {t} ({_where(m, line)})"
                  for m in comp for t, line in EDGES[m].items() if t in inside]
        return "cycle among " + ", ".join(comp) + ":\n    " + "\n    ".join(arrows)

    assert not cycles, "\n".join(describe(c) for c in cycles)


def test_no_upward_import_and_no_import_between_entry_points():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    bad = []
    for m, targets in EDGES.items():
        here = _row(m)
        for t, line in targets.items():
            there = _row(t)
            if here is None or there is None:
                continue  # reported by test_every_module_has_a_layer
            if rank[there[0]] > rank[here[0]]:
                bad.append(f"{m} ({here[0]}) imports {t} ({there[0]}) at {_where(m, line)}")
            elif here[0] == there[0] == "entries" and here[1] != there[1]:
                bad.append(f"{m} ({here[1]}) imports {t} ({there[1]}), another entry point, "
                           f"at {_where(m, line)}")
    assert not bad, "imports against the layers:\n  " + "\n  ".join(sorted(bad))


@pytest.mark.parametrize(("forbidden", "why"), [
    (STREAMLIT, "the core never imports Streamlit"),
    (APP, "the core never imports the app"),
])
def test_the_core_stays_free_of_the_app(forbidden, why):
    bad = [f"{_where(m, line)} imports {name}" for m in MODULES if m == CORE or m.startswith(CORE + ".")
           for name, line in RAW[m] if name.split(".")[0] in forbidden]
    assert not bad, why + ":\n  " + "\n  ".join(sorted(set(bad)))


def _local_project_imports(path: Path) -> list[tuple[int, str]]:
    """The imports of project modules inside a function of ``path``: (line number, line)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in ast.walk(node):
            project = (isinstance(sub, ast.ImportFrom) and (sub.level > 0 or (sub.module or "").startswith(CORE))) \
                or (isinstance(sub, ast.Import) and any(a.name.startswith(CORE) for a in sub.names))
            if project:
                found.append((sub.lineno, lines[sub.lineno - 1].strip()))
    return found


def test_the_core_imports_at_the_top_unless_a_comment_says_why():
    """Issue 15: project imports sit at the module top, so the file shows its place in the graph; one
    inside a function (a lazy backend, a costly default, a cycle of a mixin) carries its reason on its line."""
    silent = [f"{path.relative_to(ROOT)}:{n}: {line}"
              for path in sorted((ROOT / CORE).rglob("*.py")) for n, line in _local_project_imports(path)
              if "#" not in line]
    assert not silent, "move to the top, or say why on the line:\n" + "\n".join(silent)


def test_the_local_import_check_sees_one():
    sample = ROOT / "tests" / "unit" / "test_architecture.py"
    assert _local_project_imports(sample) == []  # this file has none ...
    text = "def f():\n    from geo_p4gn import settings\n    return settings\n"
    probe = Path(__import__("tempfile").mkdtemp()) / "probe.py"
    probe.write_text(text, encoding="utf-8")
    assert _local_project_imports(probe) == [(2, "from geo_p4gn import settings")]  # ... and it finds one

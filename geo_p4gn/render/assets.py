"""Offline web assets for maps: Leaflet, its plugins, jQuery and d3 from the installed XStatic packages.

folium's pages load 16 files from CDNs and are blank without internet. The same files come from PyPI
XStatic packages that this project depends on (``xstatic-leaflet``, ``xstatic-leaflet-markercluster``,
``xstatic-jquery``, ``xstatic-d3``); they are read from each package's ``BASE_DIR``, never copied into the
repository. Two ways to use them:

- :func:`offline_html` renders a folium map to ONE self-contained HTML string: every script and style
  inline, CSS ``url()`` as data URIs, Leaflet's default marker icons as data URIs, and every CDN tag replaced
  or removed. It then checks that the page loads nothing from any host (:func:`external_loads`), except a
  tile layer the caller allows.
- :func:`install_static` (``python -m geo_p4gn.render.assets --install static``) copies the files to
  ``static/vendor/`` for Streamlit's static serving, and :func:`use_local_assets` points a map's
  ``default_js`` / ``default_css`` at them (``/app/static/vendor/...``).

Bootstrap, Font Awesome and Leaflet.awesome-markers, which folium lists by default, are left out (5.5 MB
inlined against about 0.2 MB without them): maps here use circle markers and plain styles. A map that
uses awesome-markers (``folium.Icon``) is refused by :func:`offline_html` rather than drawn broken.

Examples
--------
>>> import folium
>>> page = offline_html(folium.Map(tiles=None, max_zoom=19))
>>> external_loads(page)
[]
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import functools
import html.parser
import importlib
import json
import mimetypes
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from .._errors import P4gnError


class AssetError(P4gnError):
    """A web asset is missing, unknown, or would be loaded from another host."""


@dataclasses.dataclass(frozen=True)
class Asset:
    """One JS or CSS file of an XStatic package."""

    key: str
    package: str  # importable xstatic module, e.g. ``xstatic.pkg.leaflet``
    filename: str  # relative to the package's BASE_DIR
    kind: str  # "js" or "css"
    vendor_dir: str  # folder under static/vendor/
    licence: str

    @property
    def module(self):
        try:
            return importlib.import_module(self.package)
        except ImportError as exc:
            pip = self.package.replace("xstatic.pkg.", "xstatic-").replace("_", "-")
            msg = f"asset {self.key}: the package {self.package} is not installed (pip install {pip})"
            raise AssetError(msg) from exc

    @property
    def path(self) -> Path:
        path = Path(self.module.BASE_DIR) / self.filename
        if not path.is_file():
            msg = f"asset {self.key}: {path} is missing from the installed {self.package}"
            raise AssetError(msg)
        return path

    @property
    def version(self) -> str:
        return str(self.module.VERSION)

    @property
    def vendor_path(self) -> str:
        """Path under ``static/vendor/``, e.g. ``leaflet/leaflet.js``."""
        return f"{self.vendor_dir}/{Path(self.filename).name}"


#: The assets that maps may need, by key.
ASSETS: dict[str, Asset] = {
    a.key: a
    for a in (
        Asset("leaflet_js", "xstatic.pkg.leaflet", "leaflet.js", "js", "leaflet", "BSD-2-Clause"),
        Asset("leaflet_css", "xstatic.pkg.leaflet", "leaflet.css", "css", "leaflet", "BSD-2-Clause"),
        Asset("jquery", "xstatic.pkg.jquery", "jquery.min.js", "js", "jquery", "MIT"),
        Asset("markercluster_js", "xstatic.pkg.leaflet_markercluster", "leaflet.markercluster.js", "js",
              "leaflet.markercluster", "MIT"),
        Asset("markercluster_css", "xstatic.pkg.leaflet_markercluster", "MarkerCluster.css", "css",
              "leaflet.markercluster", "MIT"),
        Asset("markercluster_default_css", "xstatic.pkg.leaflet_markercluster", "MarkerCluster.Default.css",
              "css", "leaflet.markercluster", "MIT"),
        Asset("d3", "xstatic.pkg.d3", "d3.js", "js", "d3", "BSD-3-Clause"),
    )
}

# What a CDN (or local) URL of folium, its plugins or branca stands for, by the file's name.
_BY_NAME: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), key)
    for p, key in (
        (r"leaflet(-src)?\.js", "leaflet_js"),
        (r"leaflet\.css", "leaflet_css"),
        (r"jquery(-\d+(\.\d+)*)?(\.min)?\.js", "jquery"),
        (r"leaflet\.markercluster(-src)?\.js", "markercluster_js"),
        (r"markercluster\.css", "markercluster_css"),
        (r"markercluster\.default\.css", "markercluster_default_css"),
        (r"d3(\.v3)?(\.min)?\.js", "d3"),
    )
)
# Files folium lists by default that these maps do without (awesome-markers and what it needs).
_DROPPED = re.compile(r"bootstrap|font-?awesome|awesome[-.]markers|awesome\.rotate|glyphicons", re.IGNORECASE)

_SCRIPT_TAG = re.compile(r'<script src="(?P<url>[^"]*)"></script>')
_LINK_TAG = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]*)"\s*/?>')
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(?P<ref>[^'")]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$", re.MULTILINE)
_DEFAULT_ICONS = {"iconUrl": "marker-icon.png", "iconRetinaUrl": "marker-icon-2x.png",
                  "shadowUrl": "marker-shadow.png"}


def identify(url: str) -> str | None:
    """The asset key a script or stylesheet URL stands for; None for a file that maps do without.

    Raises :class:`AssetError` for a file with no offline copy.
    """
    name = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    for pattern, key in _BY_NAME:
        if pattern.fullmatch(name):
            return key
    if _DROPPED.search(url):
        return None
    msg = (f"no offline copy of {url}: add its XStatic package to geo_p4gn.render.assets.ASSETS, "
           "or build the map without that plugin")
    raise AssetError(msg)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def asset_text(key: str) -> str:
    """The text of an asset, ready to inline: CSS ``url()`` as data URIs, source-map comments removed."""
    asset = ASSETS[key]
    text = asset.path.read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    if asset.kind == "css":
        base = asset.path.parent

        def to_data(m: re.Match) -> str:
            ref = m["ref"].strip()
            if ref.startswith(("data:", "#")):
                return m[0]
            target = (base / ref.split("?")[0].split("#")[0]).resolve()
            if not target.is_file() or base.resolve() not in target.parents:
                msg = f"asset {key}: url({ref}) names no file of {asset.package}"
                raise AssetError(msg)
            return f'url("{_data_uri(target)}")'

        text = _CSS_URL.sub(to_data, text)
    return text


_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_STYLE_END = re.compile(r"</(style)", re.IGNORECASE)


def _inline_script(code: str) -> str:
    # "</script" would end the element and "<!--" switches the HTML parser to its escaped state. The
    # replacements mean the same characters to JavaScript in strings, regular expressions and comments.
    code = _SCRIPT_END.sub(r"<\\/\1", code).replace("<!--", "\\x3C!--")
    return "<script>" + code + "</script>"


def _inline_style(css: str) -> str:
    return "<style>" + _STYLE_END.sub(r"<\\/\1", css) + "</style>"


@functools.cache
def _default_icon_script() -> str:
    """Leaflet's default marker icons as data URIs (its path detection cannot read a data URI)."""
    images = ASSETS["leaflet_js"].path.parent / "images"
    opts = {k: _data_uri(images / v) for k, v in _DEFAULT_ICONS.items()}
    return f"L.Icon.Default.imagePath = '';L.Icon.Default.mergeOptions({json.dumps(opts)});"


_USES_JQUERY = re.compile(r"\$\(|\$\.|\bjQuery\b")


def offline_html(m, *, allow: Iterable[str] = ()) -> str:
    """Render a folium map (or branca Figure) to one self-contained HTML page.

    Parameters
    ----------
    m : folium.Map or branca.element.Figure
    allow : URL prefixes the page may load from (a tile server the user asked for); nothing else.

    Returns
    -------
    str: the page. Scripts and styles are inline, jQuery only when the page's own code uses it.

    Raises
    ------
    AssetError
        A script or stylesheet has no offline copy, the map uses awesome-markers, or the page would
        still load something from a host not in ``allow``.
    """
    page = m.get_root().render()
    if "L.AwesomeMarkers" in page:
        msg = "the map uses folium.Icon (awesome-markers), which is not available offline; use CircleMarker"
        raise AssetError(msg)
    tags = sorted((t.start(), t.end(), t["url"]) for t in (*_SCRIPT_TAG.finditer(page), *_LINK_TAG.finditer(page)))
    pieces, pos = [], 0  # the page between the tags
    for start, end, _ in tags:
        pieces.append(page[pos:start])
        pos = end
    pieces.append(page[pos:])
    wanted = list(dict.fromkeys(key for _, _, url in tags if (key := identify(url))))
    if "jquery" in wanted and not _USES_JQUERY.search("".join(pieces)):
        wanted.remove("jquery")
    wanted.sort(key=lambda k: k != "leaflet_js")  # Leaflet first: plugins extend L

    blocks = []
    for key in wanted:
        if ASSETS[key].kind == "css":
            blocks.append(_inline_style(asset_text(key)))
        else:
            blocks.append(_inline_script(asset_text(key)))
            if key == "leaflet_js":
                blocks.append(_inline_script(_default_icon_script()))
    html = pieces[0] + "\n".join(blocks) + "".join(pieces[1:])
    bad = [u for u in external_loads(html) if not any(u.startswith(p) for p in allow if p)]
    if bad:
        msg = f"the page would still load from other hosts: {sorted(set(bad))[:5]}"
        raise AssetError(msg)
    return html


# What the page itself would fetch, by where it sits. Text the reader sees (escaped user data in a table
# cell, a JSON string inside a script) is never a load, whatever it looks like: the check reads the page with
# an HTML parser and inspects only attributes that load, CSS (style elements and attributes) and the calls
# of a script that fetch. A user string cannot form those calls inside a script: :func:`geo_p4gn.render.maps.to_js`
# writes its quotes as \u0027 or \".
_SRC_TAGS = frozenset({"script", "img", "iframe", "embed", "source", "audio", "video", "track", "input", "frame"})
_CSS_LOADS = (
    re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.IGNORECASE),
    re.compile(r"""@import\s+(?:url\(\s*)?['"]?([^'")\s;]+)""", re.IGNORECASE),
)
_SCRIPT_LOADS = (
    re.compile(r"""L\.tileLayer(?:\.wms)?\(\s*['"]([^'"]+)"""),
    re.compile(r"""\b(?:fetch|importScripts|import|Worker|EventSource|WebSocket)\(\s*['"]([^'"]+)"""),
    re.compile(r"""\.open\(\s*['"][A-Za-z]+['"]\s*,\s*['"]([^'"]+)"""),  # XMLHttpRequest
)
_JSON_TYPES = frozenset({"application/json", "application/ld+json", "application/geo+json"})


class _LoadFinder(html.parser.HTMLParser):
    """Collects what a page would load (see :func:`external_loads`)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in: str | None = None  # "style" or "script" while inside one

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag in _SRC_TAGS and a.get("src"):
            self.found.append(a["src"])
        if tag == "video" and a.get("poster"):
            self.found.append(a["poster"])
        if tag == "link" and a.get("href"):
            self.found.append(a["href"])
        if tag == "object" and a.get("data"):
            self.found.append(a["data"])
        if tag in ("image", "use", "feimage") and (a.get("href") or a.get("xlink:href")):
            self.found.append(a.get("href") or a["xlink:href"])
        if a.get("srcset"):
            self.found += [part.strip().split()[0] for part in a["srcset"].split(",") if part.strip()]
        if a.get("background"):
            self.found.append(a["background"])
        if a.get("style"):
            self._css(a["style"])
        if tag == "style":
            self._in = "style"
        elif tag == "script" and not a.get("src"):
            self._in = None if a.get("type", "").lower() in _JSON_TYPES else "script"

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self._css(data)
        elif self._in == "script":
            for pattern in _SCRIPT_LOADS:
                self.found += [m.group(1) for m in pattern.finditer(data)]

    def _css(self, css: str) -> None:
        for pattern in _CSS_LOADS:
            self.found += [m.group(1) for m in pattern.finditer(css)]


def external_loads(html_text: str) -> list[str]:
    """URLs the page would fetch from a host when opened: script/img/link sources, CSS ``url()`` and
    ``@import`` in style elements and attributes, tile layers and fetches in scripts. Data URIs,
    same-document references and text shown to the reader are not counted.

    Examples
    --------
    >>> external_loads('<script src="https://cdn.example/x.js"></script><img src="data:image/png;base64,">')
    ['https://cdn.example/x.js']
    >>> external_loads('<td>url(https://example.org/a.png)</td>')  # text, not a load
    []
    """
    finder = _LoadFinder()
    finder.feed(html_text)
    finder.close()
    return [u.strip() for u in finder.found
            if u.strip().startswith("//") or re.match(r"[a-z][a-z0-9+.-]*://", u.strip(), re.IGNORECASE)]


# -- local static serving (the Streamlit app) ---------------------------------------------------------
def install_static(static_dir: str | Path) -> list[Path]:
    """Copy every asset (and Leaflet's images) to ``<static_dir>/vendor/``; return the files written.

    Also writes ``vendor/ASSETS.json`` (package, version, licence of each file). Idempotent.
    """
    vendor = Path(static_dir) / "vendor"
    written = []
    manifest = {}
    for asset in ASSETS.values():
        target = vendor / asset.vendor_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset.path, target)
        written.append(target)
        manifest[asset.vendor_path] = {"package": asset.package, "version": asset.version,
                                       "licence": asset.licence}
        images = asset.path.parent / "images"
        if asset.kind == "css" and images.is_dir():
            for img in sorted(images.iterdir()):
                if img.suffix == ".png":
                    dst = vendor / asset.vendor_dir / "images" / img.name
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(img, dst)
                    written.append(dst)
    (vendor / "ASSETS.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.append(vendor / "ASSETS.json")
    return written


def local_url(key: str, prefix: str = "/app/static/vendor") -> str:
    """The URL of an installed asset under Streamlit's static route."""
    return f"{prefix.rstrip('/')}/{ASSETS[key].vendor_path}"


def use_local_assets(m, prefix: str = "/app/static/vendor") -> None:
    """Point the JS/CSS links of a map and its plugins at the installed copies (see :func:`install_static`).

    Each element gets its own lists (folium's ``add_js_link`` would change the class-wide defaults);
    files the maps do without (Bootstrap, Font Awesome, awesome-markers) are dropped. Raises
    :class:`AssetError` for a plugin with no local copy. branca's colour-scale legend adds d3 while the
    page renders, outside these lists: its link is the caller's to rewrite (:func:`identify` names it).
    """
    root = m.get_root()
    stack = [root]
    while stack:
        el = stack.pop()
        stack.extend(el._children.values())
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if not links:
                continue
            local = []
            for name, url in links:
                key = identify(url)
                if key:
                    local.append((name, local_url(key, prefix)))
            setattr(el, attr, local)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geo_p4gn.render.assets", description=__doc__.split("\n")[0])
    parser.add_argument("--install", metavar="STATIC_DIR", required=True,
                        help="copy the assets to STATIC_DIR/vendor/ (Streamlit serves ./static at /app/static)")
    args = parser.parse_args(argv)
    try:
        files = install_static(args.install)
    except AssetError as exc:
        print(f"geo_p4gn.render.assets: error: {exc}", file=sys.stderr)
        return 2
    print(f"installed {len(files)} files under {Path(args.install) / 'vendor'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The intervention taxonomy: types, penta-helix actors and IKRN categories, read from a data file.

The file is ``<data>/interventions/taxonomy.toml``; an administrator edits it for a new year. Nothing
here assumes how many entries there are.

Examples
--------
>>> tax = load_taxonomy()
>>> tax.type_keys[:2]
('pemetaan', 'diskusi_tokoh')
>>> tax.resolve_type("FGD dengan peneliti")
'fgd_peneliti'
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from . import settings
from ._errors import P4gnError, ValidationError


@dataclass(frozen=True)
class Term:
    """One entry of the taxonomy: a stable key and its labels."""

    key: str
    id: str
    en: str
    active: bool = True
    rank: int | None = None
    color: str | None = None

    def label(self, lang: str = "id") -> str:
        return self.en if lang == "en" else self.id


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    return " ".join(text.replace("_", " ").split())


@dataclass(frozen=True)
class Taxonomy:
    year: int | None
    types: tuple[Term, ...]
    actors: tuple[Term, ...]
    ikrn: tuple[Term, ...]

    @property
    def type_keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.types)

    @property
    def actor_keys(self) -> tuple[str, ...]:
        return tuple(a.key for a in self.actors)

    @property
    def ikrn_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in sorted(self.ikrn, key=lambda c: c.rank or 99))

    def _resolve(self, group: str, value: str, field_name: str) -> str:
        terms = getattr(self, group)
        wanted = _norm(value)
        for t in terms:
            if wanted in (_norm(t.key), _norm(t.id), _norm(t.en)):
                return t.key
        known = ", ".join(t.key for t in terms)
        msg = f"{field_name}: {value!r} is not a known {field_name} (known keys: {known})"
        raise ValidationError(msg)

    def resolve_type(self, value: str) -> str:
        """Return the type key for a key or either label (case and spacing ignored)."""
        return self._resolve("types", value, "type")

    def resolve_actor(self, value: str) -> str:
        """Return the actor key for a key or either label."""
        return self._resolve("actors", value, "actor")

    def resolve_ikrn(self, value: str) -> str:
        return self._resolve("ikrn", value, "ikrn")

    def term(self, group: str, key: str) -> Term:
        for t in getattr(self, group):
            if t.key == key:
                return t
        raise KeyError(key)

    def label(self, group: str, key: str, lang: str = "id") -> str:
        """The label of a key, or the key itself when the taxonomy no longer has it."""
        try:
            return self.term(group, key).label(lang)
        except KeyError:
            return key


def _terms(raw: list, group: str, path: Path) -> tuple[Term, ...]:
    out, seen = [], set()
    for i, item in enumerate(raw, 1):
        try:
            term = Term(**item)
        except TypeError as exc:
            msg = f"{path}: {group} entry {i}: {exc}"
            raise P4gnError(msg) from exc
        if not term.key or term.key in seen:
            msg = f"{path}: {group} entry {i}: key {term.key!r} is empty or repeated"
            raise P4gnError(msg)
        seen.add(term.key)
        out.append(term)
    if not out:
        msg = f"{path}: the taxonomy has no {group}"
        raise P4gnError(msg)
    return tuple(out)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read the taxonomy file (default ``<data>/interventions/taxonomy.toml``)."""
    path = Path(path) if path else settings.data_dir / "interventions" / "taxonomy.toml"
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    return Taxonomy(
        year=raw.get("year"),
        types=_terms(raw.get("types", []), "types", path),
        actors=_terms(raw.get("actors", []), "actors", path),
        ikrn=_terms(raw.get("ikrn", []), "ikrn", path),
    )

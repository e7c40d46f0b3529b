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

import dataclasses
import re
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


# -- editing the taxonomy file (administrators, through geo_p4gn.services) ------------------------------
#: The groups of the taxonomy file, in file order.
GROUPS: tuple[str, ...] = ("types", "actors", "ikrn")
#: A key: lowercase snake-case, starting with a letter (it is stored with every record).
KEY_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_TOP_LEVEL = frozenset({"year", *GROUPS})
_TERM_FIELDS = frozenset(f.name for f in dataclasses.fields(Term))


def taxonomy_path() -> Path:
    """The file :func:`load_taxonomy` reads by default (``<data>/interventions/taxonomy.toml``, where
    ``<data>`` is ``GEO_P4GN_DATA``); read at call time."""
    return settings.data_dir / "interventions" / "taxonomy.toml"


def check_group(group: str) -> str:
    if group not in GROUPS:
        msg = f"group {group!r}: not a taxonomy group (groups: {', '.join(GROUPS)})"
        raise ValidationError(msg)
    return group


def check_key(key: object, where: str = "key") -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key) or len(key) > 63:
        msg = (f"{where}: {key!r} is not a valid key (lowercase letters, digits and single underscores, "
               "starting with a letter, at most 63 characters, e.g. 'tes_urine')")
        raise ValidationError(msg)
    return key


def check_label(label: object, where: str) -> str:
    if not isinstance(label, str) or not label.strip():
        msg = f"{where}: the label may not be empty"
        raise ValidationError(msg)
    if len(label) > 200 or any(unicodedata.category(c) == "Cc" for c in label):
        msg = f"{where}: the label must be one line of at most 200 characters"
        raise ValidationError(msg)
    return label.strip()


def _check_term(item: object, group: str, i: int) -> Term:
    where = f"{group} entry {i}"
    if not isinstance(item, dict):
        msg = f"{where}: expected a [[{group}]] table"
        raise ValidationError(msg)
    unknown = sorted(set(item) - _TERM_FIELDS)
    if unknown:
        msg = f"{where}: unknown field(s) {', '.join(unknown)} (fields: key, id, en, active, rank, color)"
        raise ValidationError(msg)
    key = check_key(item.get("key"), f"{where} key")
    where = f"{group} {key!r}"
    labels = {lang: check_label(item.get(lang), f"{where} label {lang!r}") for lang in ("id", "en")}
    active = item.get("active", True)
    if not isinstance(active, bool):
        msg = f"{where}: active must be true or false"
        raise ValidationError(msg)
    rank = item.get("rank")
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 1):
        msg = f"{where}: rank must be a whole number from 1"
        raise ValidationError(msg)
    color = item.get("color")
    if color is not None and (not isinstance(color, str) or not _COLOR.fullmatch(color)):
        msg = f"{where}: color must look like '#b2182b'"
        raise ValidationError(msg)
    return Term(key=key, id=labels["id"], en=labels["en"], active=active, rank=rank, color=color)


def check_taxonomy(tax: Taxonomy) -> None:
    """Raise :class:`ValidationError` unless every group has terms, keys are valid and unique, labels are
    non-empty, and no label of one term is the key or a label of another term of the same group (a value
    in an import would then be ambiguous)."""
    for group in GROUPS:
        terms = getattr(tax, group)
        if not terms:
            msg = f"the taxonomy has no {group}: at least one entry is needed"
            raise ValidationError(msg)
        owner: dict[str, str] = {}
        for i, term in enumerate(terms, 1):
            _check_term(dataclasses.asdict(term), group, i)
            if term.key in {t.key for t in terms[:i - 1]}:
                msg = f"{group}: key {term.key!r} appears more than once"
                raise ValidationError(msg)
            for name in {_norm(term.key), _norm(term.id), _norm(term.en)}:
                if owner.setdefault(name, term.key) != term.key:
                    msg = (f"{group} {term.key!r}: {name!r} is already the key or a label of "
                           f"{owner[name]!r}; labels must tell the entries apart")
                    raise ValidationError(msg)


def parse_taxonomy(text: str, source: str = "taxonomy") -> Taxonomy:
    """A taxonomy from TOML text, strictly checked (what an administrator's new file must pass).

    >>> tax = parse_taxonomy(taxonomy_path().read_text(encoding="utf-8"))
    >>> len(tax.types), len(tax.actors)
    (7, 5)
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{source}: not valid TOML ({exc})"
        raise ValidationError(msg) from None
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        msg = f"{source}: unknown top-level entries {', '.join(unknown)} (expected year, types, actors, ikrn)"
        raise ValidationError(msg)
    year = raw.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        msg = f"{source}: year must be a whole number"
        raise ValidationError(msg)
    groups = {}
    for group in GROUPS:
        items = raw.get(group, [])
        if not isinstance(items, list):
            msg = f"{source}: {group} must be a list of [[{group}]] tables"
            raise ValidationError(msg)
        groups[group] = tuple(_check_term(item, group, i) for i, item in enumerate(items, 1))
    tax = Taxonomy(year=year, **groups)
    check_taxonomy(tax)
    return tax


def taxonomy_dict(tax: Taxonomy) -> dict:
    """The taxonomy as plain data (for JSON output and the audit log)."""
    return {"year": tax.year, **{g: [dataclasses.asdict(t) for t in getattr(tax, g)] for g in GROUPS}}


def diff_taxonomy(old: Taxonomy, new: Taxonomy) -> dict[str, list[str]]:
    """``{"added", "removed", "changed"}``: ``group.key`` names of terms added, removed, or changed."""
    out: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for group in GROUPS:
        before = {t.key: t for t in getattr(old, group)}
        after = {t.key: t for t in getattr(new, group)}
        out["added"] += [f"{group}.{k}" for k in after if k not in before]
        out["removed"] += [f"{group}.{k}" for k in before if k not in after]
        out["changed"] += [f"{group}.{k}" for k in after if k in before and after[k] != before[k]]
    return out


def add_term_text(text: str, group: str, term: Term) -> str:
    """The TOML ``text`` with ``term`` appended to ``group``, comments and layout kept (tomlkit)."""
    import tomlkit

    doc = tomlkit.parse(text)
    entry = {k: v for k, v in dataclasses.asdict(term).items()
             if not (k == "active" and v) and v is not None}
    items = doc.get(group)
    if items is None:
        doc[group] = tomlkit.aot()
        items = doc[group]
    if isinstance(items, tomlkit.items.AoT):
        table = tomlkit.table()
        for k, v in entry.items():
            table.add(k, v)
        if len(items):
            # comments after the group's last entry introduce the next section: they move below the new one
            body = items[-1].value.body
            trailing = []
            while body and body[-1][0] is None:
                trailing.insert(0, body.pop()[1])
            items[-1].add(tomlkit.nl())
            for item in trailing:
                table.add(item)
        items.append(table)
    elif isinstance(items, tomlkit.items.Array):
        inline = tomlkit.inline_table()
        inline.update(entry)
        items.append(inline)
    else:
        msg = f"the taxonomy file's {group} is neither [[{group}]] tables nor an array"
        raise ValidationError(msg)
    return tomlkit.dumps(doc)


def edit_term_text(text: str, group: str, key: str, changes: dict) -> str:
    """The TOML ``text`` with the fields ``changes`` (id, en, active) of ``group``'s ``key`` set."""
    import tomlkit

    doc = tomlkit.parse(text)
    for item in doc.get(group, []):
        if item.get("key") == key:
            trailing = []
            if isinstance(item, tomlkit.items.Table):  # new fields go before the comments that end the entry
                body = item.value.body
                while body and body[-1][0] is None:
                    trailing.insert(0, body.pop()[1])
            for k, v in changes.items():
                if k == "active" and v is True and "active" not in item:
                    continue
                item[k] = v
            for extra in trailing:
                item.add(extra)
            return tomlkit.dumps(doc)
    msg = f"{group}: no entry with key {key!r}"
    raise ValidationError(msg)

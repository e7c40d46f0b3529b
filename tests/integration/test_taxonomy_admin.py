"""Administrators change the taxonomy file (issue 2, issue 7): add a term, change labels, replace the file.

Every test works on a temporary copy of ``data/interventions/taxonomy.toml``; the repository's file is
checked to be untouched at the end of the module.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
import shapely

from geo_p4gn import PermissionDenied, ValidationError, auth, cli, services, settings
from geo_p4gn import taxonomy as tx
from geo_p4gn.services import User
from geo_p4gn.store import open_store
from geo_p4gn.taxonomy import diff_taxonomy, load_taxonomy, parse_taxonomy

REPO_FILE = settings.data_dir / "interventions" / "taxonomy.toml"
REPO_SHA = hashlib.sha256(REPO_FILE.read_bytes()).hexdigest()
ADMIN = User("admin1@example.org", "admin")
OTHERS = [User(f"{role}1@example.org", role) for role in ("petugas", "perencana", "pimpinan")]
POINT = {"lon": 106.758576, "lat": -6.152569}
RECORD = {"date": "2024-08-17", "type": "deklarasi", "actor": "komunitas", "organisation": "RW 03", **POINT}
EXTRA = '\n[[types]]\nkey = "tes_urine"\nid = "Tes urine"\nen = "Urine test"\n'


@pytest.fixture
def tax_path(tmp_path):
    path = tmp_path / "data" / "interventions" / "taxonomy.toml"
    path.parent.mkdir(parents=True)
    shutil.copyfile(REPO_FILE, path)
    return path


@pytest.fixture
def store(tmp_path, tax_path, boundaries):
    """A store with two 'deklarasi' records by 'komunitas' (one of them deleted) and a 'bahaya' site."""
    with open_store(tmp_path / "store.gpkg", boundaries=boundaries, taxonomy=load_taxonomy(tax_path)) as s:
        for i in (1, 2):
            services.record_intervention(s, ADMIN, dict(RECORD, id=str(uuid.UUID(int=i))))
        services.delete_intervention(s, ADMIN, str(uuid.UUID(int=2)))
        services.upsert_site(s, ADMIN, {"id": "kampung-uji", "name": "Kampung Uji", "ikrn": "bahaya",
                                        "geometry": shapely.Point(POINT["lon"], POINT["lat"])})
        yield s


def _state(store, path):
    return path.read_bytes(), store.data_version(), len(store.audit_log()), sorted(os.listdir(path.parent))


def _taxonomy_entries(store):
    log = store.audit_log(entity="taxonomy")
    return [(r.entity_id, r.action, r.who, json.loads(r.before) if r.before else None,
             json.loads(r.after) if r.after else None) for r in log.itertuples()]


# -- add ----------------------------------------------------------------------------------------------------
def test_a_new_type_is_written_audited_and_accepted_by_the_store(store, tax_path):
    version = store.data_version()
    assert len(store.taxonomy.types) == 7
    term = services.add_taxonomy_term(store, ADMIN, "types", "tes_urine", " Tes urine ", "Urine test", path=tax_path)
    assert term == tx.Term("tes_urine", "Tes urine", "Urine test")
    # the file: re-read by load_taxonomy, the new entry last of the types, comments and sources kept
    reread = load_taxonomy(tax_path)
    assert len(reread.types) == 8 and reread.type_keys[-1] == "tes_urine"
    assert reread.actor_keys == ("pemerintah", "swasta", "akademisi", "komunitas", "media")
    text = tax_path.read_text(encoding="utf-8")
    assert "okuekspres.bacakoran.co/read/12005" in text
    assert text.index('key = "tes_urine"') < text.index("# Penta-helix (ABCGM) actor classes.\n[[actors]]")
    original = REPO_FILE.read_text(encoding="utf-8")
    assert text.replace('[[types]]\nkey = "tes_urine"\nid = "Tes urine"\nen = "Urine test"\n\n', "") == original
    # the store checks new records against the new taxonomy at once: N is now 8
    assert store.taxonomy == reread and len(store.taxonomy.type_keys) == 8
    rec, outcome = services.record_intervention(store, ADMIN, dict(RECORD, id=str(uuid.UUID(int=3)),
                                                                   type="Urine test"))
    assert (outcome, rec.type_key) == ("created", "tes_urine")
    # the audit log: who, when, before, after; and the revision moved (caches keyed on it are dropped)
    assert _taxonomy_entries(store) == [("types.tes_urine", "create", ADMIN.name, None, {
        "key": "tes_urine", "id": "Tes urine", "en": "Urine test", "active": True, "rank": None, "color": None})]
    assert store.audit_log(entity="taxonomy")["at"].iloc[0].endswith("Z")
    assert store.data_version() != version


def test_new_actors_and_ikrn_categories(store, tax_path):
    services.add_taxonomy_term(store, ADMIN, "actors", "ormas", "Organisasi kemasyarakatan", "Civil society",
                               active=False, path=tax_path)
    services.add_taxonomy_term(store, ADMIN, "ikrn", "sangat_aman", "Sangat aman", "Very safe", rank=5,
                               color="#2166ac", path=tax_path)
    tax = load_taxonomy(tax_path)
    assert tax.actor_keys[-1] == "ormas" and not tax.term("actors", "ormas").active
    assert tax.ikrn_keys == ("bahaya", "waspada", "siaga", "aman", "sangat_aman")
    assert tax.term("ikrn", "sangat_aman").color == "#2166ac"
    assert tax_path.read_text(encoding="utf-8").endswith('rank = 5\ncolor = "#2166ac"\n')


@pytest.mark.parametrize(("args", "message"), [
    (("jenis", "tes_urine", "Tes urine", "Urine test"), "group 'jenis': not a taxonomy group"),
    (("types", "Tes_Urine", "Tes urine", "Urine test"), "not a valid key"),
    (("types", "tes-urine", "Tes urine", "Urine test"), "not a valid key"),
    (("types", "tes__urine", "Tes urine", "Urine test"), "not a valid key"),
    (("types", "1tes", "Tes urine", "Urine test"), "not a valid key"),
    (("types", "", "Tes urine", "Urine test"), "not a valid key"),
    (("types", "tes_urine", "  ", "Urine test"), "label 'id': the label may not be empty"),
    (("types", "tes_urine", "Tes urine", ""), "label 'en': the label may not be empty"),
    (("types", "tes_urine", "Tes\nurine", "Urine test"), "one line"),
    (("types", "deklarasi", "Deklarasi baru", "New declaration"),
     "types: key 'deklarasi' already exists \\(Deklarasi masyarakat anti narkoba\\)"),
    (("types", "deklarasi_2", "Deklarasi masyarakat anti narkoba", "Declaration 2"),
     "already the key or a label of 'deklarasi'"),
    (("actors", "media_sosial", "Media sosial", "media"), "already the key or a label of 'media'"),
])
def test_bad_new_terms_are_refused_and_nothing_changes(store, tax_path, args, message):
    before = _state(store, tax_path)
    with pytest.raises(ValidationError, match=message):
        services.add_taxonomy_term(store, ADMIN, *args, path=tax_path)
    assert _state(store, tax_path) == before


def test_bad_colours_and_ranks(store, tax_path):
    with pytest.raises(ValidationError, match="color must look like"):
        services.add_taxonomy_term(store, ADMIN, "ikrn", "x", "X", "X", color="red;", path=tax_path)
    with pytest.raises(ValidationError, match="rank must be a whole number"):
        services.add_taxonomy_term(store, ADMIN, "ikrn", "x", "X", "X", rank=0, path=tax_path)
    assert tax_path.read_bytes() == REPO_FILE.read_bytes()


# -- labels -------------------------------------------------------------------------------------------------
def test_labels_of_a_used_key_may_change(store, tax_path):
    term = services.edit_taxonomy_labels(store, ADMIN, "types", "deklarasi", id_label="Deklarasi warga",
                                         en_label="Residents' declaration", active=False, path=tax_path)
    assert (term.key, term.id, term.en, term.active) == ("deklarasi", "Deklarasi warga", "Residents' declaration",
                                                         False)
    tax = load_taxonomy(tax_path)
    assert tax.term("types", "deklarasi") == term and tax.type_keys == store.taxonomy.type_keys
    assert store.taxonomy.label("types", "deklarasi", "en") == "Residents' declaration"
    # records keep their key; the old record still validates and edits
    assert services.edit_intervention(store, ADMIN, str(uuid.UUID(int=1)), {"participants": 4}).type_key == \
        "deklarasi"
    [(entity_id, action, who, before, after)] = _taxonomy_entries(store)
    assert (entity_id, action, who) == ("types.deklarasi", "update", ADMIN.name)
    assert before["id"] == "Deklarasi masyarakat anti narkoba" and before["active"] is True
    assert after == dict(before, id="Deklarasi warga", en="Residents' declaration", active=False)
    # one field at a time; the same values again change nothing and write no audit entry
    services.edit_taxonomy_labels(store, ADMIN, "types", "deklarasi", active=True, path=tax_path)
    state = _state(store, tax_path)
    services.edit_taxonomy_labels(store, ADMIN, "types", "deklarasi", en_label="Residents' declaration",
                                  path=tax_path)
    assert _state(store, tax_path) == state
    assert [e[1] for e in _taxonomy_entries(store)] == ["update", "update"]


def test_label_edits_are_checked(store, tax_path):
    before = _state(store, tax_path)
    with pytest.raises(ValidationError, match="types: no entry with key 'tes_urine'"):
        services.edit_taxonomy_labels(store, ADMIN, "types", "tes_urine", id_label="X", path=tax_path)
    with pytest.raises(ValidationError, match="nothing to change"):
        services.edit_taxonomy_labels(store, ADMIN, "types", "deklarasi", path=tax_path)
    with pytest.raises(ValidationError, match="may not be empty"):
        services.edit_taxonomy_labels(store, ADMIN, "actors", "media", en_label=" ", path=tax_path)
    with pytest.raises(ValidationError, match="already the key or a label of 'pemerintah'"):
        services.edit_taxonomy_labels(store, ADMIN, "actors", "media", en_label="Government", path=tax_path)
    assert _state(store, tax_path) == before


# -- replace ------------------------------------------------------------------------------------------------
def test_replace_for_a_new_year(store, tax_path):
    text = REPO_FILE.read_text(encoding="utf-8")
    new_text = (text.replace("year = 2024", "year = 2025")
                .replace('en = "Arts and culture event"', 'en = "Arts and culture festival"')
                .replace('[[types]]\nkey = "pemetaan"\nid = "Pemetaan kawasan rawan narkoba"\n'
                         'en = "Mapping of drug-prone areas"\n\n', "")  # unused: may go
                + EXTRA)
    old = load_taxonomy(tax_path)
    new = services.replace_taxonomy(store, ADMIN, new_text, path=tax_path)
    assert tax_path.read_text(encoding="utf-8") == new_text  # as written, comments and all
    assert new == load_taxonomy(tax_path) == store.taxonomy
    assert (new.year, len(new.types)) == (2025, 7)
    assert diff_taxonomy(old, new) == {"added": ["types.tes_urine"], "removed": ["types.pemetaan"],
                                       "changed": ["types.seni_budaya"]}
    [(entity_id, action, who, before, after)] = _taxonomy_entries(store)
    assert (entity_id, action, who, before["year"], after["year"]) == ("taxonomy", "replace", ADMIN.name, 2024, 2025)
    assert [t["key"] for t in after["types"]][-1] == "tes_urine"
    assert "pemetaan" in [t["key"] for t in before["types"]]


@pytest.mark.parametrize(("old", "new", "message"), [
    ('key = "deklarasi"', 'key = "deklarasi_warga"',
     (r"^types key 'deklarasi' is used by 2 stored record\(s\) \(deleted ones included\): a key in use can never "
      r"be removed or renamed\. Keep the key and change its labels, or set active = false to stop offering it$")),
    ('key = "komunitas"', 'key = "masyarakat"', r"^actors key 'komunitas' is used by 2 stored record\(s\)"),
    ('key = "bahaya"', 'key = "berbahaya"', r"^ikrn key 'bahaya' is used by 1 site\(s\): a key in use"),
])
def test_a_used_key_can_never_be_removed_or_renamed(store, tax_path, old, new, message):
    text = REPO_FILE.read_text(encoding="utf-8")
    before = _state(store, tax_path)
    with pytest.raises(ValidationError, match=message):
        services.replace_taxonomy(store, ADMIN, text.replace(old, new), path=tax_path)
    assert _state(store, tax_path) == before
    assert len(store.taxonomy.types) == 7


def test_removing_two_used_keys_names_both(store, tax_path):
    text = REPO_FILE.read_text(encoding="utf-8").replace('key = "deklarasi"', 'key = "x_1"').replace(
        'key = "komunitas"', 'key = "x_2"')
    with pytest.raises(ValidationError, match="types key 'deklarasi' is used by 2 .*; actors key 'komunitas'"):
        services.replace_taxonomy(store, ADMIN, text, path=tax_path)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t + "[[types\n", "not valid TOML"),
    (lambda t: t + EXTRA + EXTRA, "types: key 'tes_urine' appears more than once"),
    (lambda t: t.replace('key = "media"', 'key = "Media"'), "not a valid key"),
    (lambda t: t.replace('en = "Media"', 'en = ""'), "may not be empty"),
    (lambda t: t.replace('en = "Media"', 'en = "Media"\nurl = "x"'), r"unknown field\(s\) url"),
    (lambda t: t.replace("[[ikrn]]", "[[ikrns]]"), "unknown top-level entries ikrns"),
    (lambda t: "year = 2025\n", "the taxonomy has no types"),
    (lambda t: t.replace("year = 2024", 'year = "2024"'), "year must be a whole number"),
    (lambda t: 42, "must be TOML text"),
])
def test_bad_files_are_refused_and_nothing_changes(store, tax_path, change, message):
    before = _state(store, tax_path)
    with pytest.raises(ValidationError, match=message):
        services.replace_taxonomy(store, ADMIN, change(REPO_FILE.read_text(encoding="utf-8")), path=tax_path)
    assert _state(store, tax_path) == before


# -- permissions --------------------------------------------------------------------------------------------
TAXONOMY_ACTIONS = {
    "add": lambda s, u, p: services.add_taxonomy_term(s, u, "types", "tes_urine", "Tes urine", "Urine test", path=p),
    "labels": lambda s, u, p: services.edit_taxonomy_labels(s, u, "types", "deklarasi", id_label="X", path=p),
    "replace": lambda s, u, p: services.replace_taxonomy(s, u, p.read_text(encoding="utf-8") + EXTRA, path=p),
    "replace_bad": lambda s, u, p: services.replace_taxonomy(s, u, "not toml [", path=p),
}


@pytest.mark.parametrize("action", sorted(TAXONOMY_ACTIONS))
@pytest.mark.parametrize("user", OTHERS, ids=lambda u: u.role)
def test_only_admins_change_the_taxonomy(store, tax_path, user, action):
    before = _state(store, tax_path)
    with pytest.raises(PermissionDenied, match=f"^{user.name} \\({user.role}, .*\\) may not change the taxonomy$"):
        TAXONOMY_ACTIONS[action](store, user, tax_path)
    assert _state(store, tax_path) == before
    assert store.taxonomy.type_keys == load_taxonomy(tax_path).type_keys


@pytest.mark.parametrize("bad", [None, "admin", {"name": "x", "role": "admin"}])
def test_anything_but_a_user_is_refused(store, tax_path, bad):
    for action in TAXONOMY_ACTIONS.values():
        with pytest.raises(PermissionDenied, match="^no signed-in user"):
            action(store, bad, tax_path)
    assert tax_path.read_bytes() == REPO_FILE.read_bytes()


# -- the file is written atomically, where load_taxonomy reads it --------------------------------------------
def test_the_write_is_atomic(store, tax_path, monkeypatch):
    tax_path.chmod(0o640)
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        # the new file is complete before it takes the old one's place, in the same folder
        seen.append((os.path.dirname(src), os.fspath(dst), len(parse_taxonomy(Path(src).read_text(encoding="utf-8")).types)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    services.add_taxonomy_term(store, ADMIN, "types", "tes_urine", "Tes urine", "Urine test", path=tax_path)
    assert seen == [(str(tax_path.parent), str(tax_path), 8)]
    assert tax_path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tax_path.parent) == ["taxonomy.toml"]  # no temporary file left behind

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    text = tax_path.read_bytes()
    before = _state(store, tax_path)
    with pytest.raises(OSError, match="No space left"):
        services.edit_taxonomy_labels(store, ADMIN, "types", "tes_urine", en_label="Urine screening", path=tax_path)
    assert tax_path.read_bytes() == text and _state(store, tax_path) == before
    assert os.listdir(tax_path.parent) == ["taxonomy.toml"]


def test_no_change_without_its_audit_entry(store, tax_path, monkeypatch):
    def broken(*args, **kw):
        raise ValidationError("the store is read-only")

    monkeypatch.setattr(store, "log_event", broken)
    with pytest.raises(ValidationError, match="read-only"):
        services.add_taxonomy_term(store, ADMIN, "types", "tes_urine", "Tes urine", "Urine test", path=tax_path)
    assert tax_path.read_bytes() == REPO_FILE.read_bytes()
    assert len(store.taxonomy.types) == 7


def test_the_default_file_is_the_one_load_taxonomy_reads(store, tax_path, monkeypatch):
    monkeypatch.setattr(settings, "data_dir", tax_path.parent.parent)
    assert tx.taxonomy_path() == tax_path
    services.add_taxonomy_term(store, ADMIN, "types", "tes_urine", "Tes urine", "Urine test")
    assert load_taxonomy().type_keys[-1] == "tes_urine"
    assert hashlib.sha256(REPO_FILE.read_bytes()).hexdigest() == REPO_SHA


def test_the_store_audit_primitive(store):
    store.log_event("taxonomy", "types.x", "create", "someone", None, {"key": "x"})
    assert _taxonomy_entries(store) == [("types.x", "create", "someone", None, {"key": "x"})]
    for entity in ("intervention", "site", ""):
        with pytest.raises(ValidationError, match="log_event"):
            store.log_event(entity, "x", "create", "someone")
    with pytest.raises(ValidationError, match="log_event"):
        store.log_event("taxonomy", "x", "create", "")


def test_the_repository_file_passes_the_strict_checks():
    tax = parse_taxonomy(REPO_FILE.read_text(encoding="utf-8"))
    assert (len(tax.types), len(tax.actors), len(tax.ikrn)) == (7, 5, 4)
    assert tx.taxonomy_dict(tax)["types"][0] == {"key": "pemetaan", "id": "Pemetaan kawasan rawan narkoba",
                                                 "en": "Mapping of drug-prone areas", "active": True, "rank": None,
                                                 "color": None}


# -- the command line ---------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(store, tax_path, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "users_path", tmp_path / "users.toml")
    monkeypatch.delenv("GEO_P4GN_USER", raising=False)
    for user in (ADMIN, *OTHERS):
        auth.add_user(user.name, user.role, path=tmp_path / "users.toml")
    return ["--store", str(tmp_path / "store.gpkg"), "--taxonomy-file", str(tax_path)]


def test_cli_taxonomy(cli_env, store, tax_path, tmp_path, capsys):
    assert cli.main(["taxonomy", "show", "--json", "--taxonomy-file", str(tax_path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["path"], shown["year"], len(shown["types"]), shown["actors"][4]["en"]) == (
        str(tax_path), 2024, 7, "Media")
    assert cli.main(["taxonomy", "show", "--taxonomy-file", str(tax_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{tax_path} (year 2024): 7 types, 5 actors, 4 ikrn\n")
    assert "deklarasi\tDeklarasi masyarakat anti narkoba\tCommunity anti-drug declaration\tyes\n" in out

    # a planner is refused, and nothing changes
    before = _state(store, tax_path)
    args = ["taxonomy", "add", "types", "tes_urine", "--id", "Tes urine", "--en", "Urine test", *cli_env]
    assert cli.main([*args, "--as", OTHERS[1].name]) == 2
    assert capsys.readouterr().err == (f"geo-p4gn: error: {OTHERS[1].label} may not change the taxonomy\n")
    assert _state(store, tax_path) == before
    # an admin adds a type: N becomes 8
    assert cli.main([*args, "--as", ADMIN.name]) == 0
    assert capsys.readouterr().out == "added types 'tes_urine': Tes urine / Urine test\n"
    assert len(load_taxonomy(tax_path).types) == 8
    assert cli.main([*args, "--as", ADMIN.name]) == 2
    assert "key 'tes_urine' already exists" in capsys.readouterr().err
    # labels
    assert cli.main(["taxonomy", "label", "types", "tes_urine", "--en", "Urine screening", "--inactive", *cli_env,
                     "--as", ADMIN.name]) == 0
    assert capsys.readouterr().out == "types 'tes_urine': Tes urine / Urine screening (inactive)\n"
    # set: a file renaming a used key is refused with the reason; an unused key may go
    bad = tmp_path / "bad.toml"
    bad.write_text(tax_path.read_text(encoding="utf-8").replace('key = "deklarasi"', 'key = "deklarasi_warga"'),
                   encoding="utf-8")
    before = _state(store, tax_path)
    assert cli.main(["taxonomy", "set", str(bad), *cli_env, "--as", ADMIN.name]) == 2
    assert capsys.readouterr().err.startswith(
        "geo-p4gn: error: types key 'deklarasi' is used by 2 stored record(s) (deleted ones included): a key")
    assert _state(store, tax_path) == before
    good = tmp_path / "good.toml"
    good.write_text(tax_path.read_text(encoding="utf-8").replace("year = 2024", "year = 2025").replace(
        '[[types]]\nkey = "tes_urine"\nid = "Tes urine"\nen = "Urine screening"\nactive = false\n', ""),
        encoding="utf-8")
    assert cli.main(["taxonomy", "set", str(good), *cli_env, "--as", ADMIN.name]) == 0
    assert capsys.readouterr().out == f"{tax_path} replaced by {good}: removed: types.tes_urine\n"
    assert load_taxonomy(tax_path).year == 2025
    assert cli.main(["taxonomy", "set", str(tmp_path / "missing.toml"), *cli_env, "--as", ADMIN.name]) == 2
    assert "missing.toml: cannot be read" in capsys.readouterr().err
    # the audit log, as the audit command shows it
    assert cli.main(["audit", "--entity", "taxonomy", "--format", "json", *cli_env[:2], "--as", ADMIN.name]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["entity_id"], r["action"], r["who"]) for r in rows] == [
        ("types.tes_urine", "create", ADMIN.name), ("types.tes_urine", "update", ADMIN.name),
        ("taxonomy", "replace", ADMIN.name)]


def test_the_repository_file_is_untouched():
    assert hashlib.sha256(REPO_FILE.read_bytes()).hexdigest() == REPO_SHA

"""Who may do what, walked cell by cell through the service functions (and the CLI over them).

The expected matrix is written out here by hand, not read from ``geo_p4gn.services``: a change to the
permissions must change this table too. Every denied cell also checks that nothing changed (the store's
revision, its audit log, no file written).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import types
import uuid

import pytest
import shapely

import geo_p4gn
from geo_p4gn import NotFoundError, PermissionDenied, auth, cli, duplicates, services, settings
from geo_p4gn.records import validate_record
from geo_p4gn.services import User
from geo_p4gn.store import open_store
from geo_p4gn.taxonomy import load_taxonomy, taxonomy_path

ROLES = ("petugas", "perencana", "pimpinan", "admin")
ACTIONS = (
    "record", "read_own", "read_sites", "edit_own", "delete_own", "edit_any", "delete_any", "restore", "read",
    "export", "export_public", "import", "manage_sites", "manage_users", "manage_taxonomy", "audit_read",
    "backup", "restore_backup", "manage_database", "review_duplicates",
)
FIELD = {"record", "read_own", "read_sites", "edit_own", "delete_own"}
PLANNER = {"read", "read_own", "read_sites", "export"}
MANAGER = PLANNER | {"export_public", "manage_sites", "import", "review_duplicates"}
EXPECTED = {"petugas": FIELD, "perencana": PLANNER, "pimpinan": MANAGER, "admin": set(ACTIONS)}
USERS = {role: User(f"{role}1@example.org", role) for role in ROLES}
OTHER = "petugas2@example.org"
BASE = {"date": "2024-08-17", "type": "seni_budaya", "actor": "komunitas", "organisation": "Karang Taruna",
        "lon": 106.758576, "lat": -6.152569}
SITE = {"id": "kampung-uji", "name": "Kampung Uji", "geometry": shapely.Point(106.758576, -6.152569)}
IDS = {role: str(uuid.UUID(int=i + 1)) for i, role in enumerate(ROLES)}
OTHER_ID = str(uuid.UUID(int=100))
DELETED_ID = str(uuid.UUID(int=101))


def test_the_matrix_is_the_one_in_the_code():
    assert tuple(services.ACTIONS) == ACTIONS
    assert {r: set(a) for r, a in services.ROLE_ACTIONS.items()} == EXPECTED
    assert services.SINGLE_USER == User("pengguna-lokal", "admin")


@pytest.fixture(scope="module")
def template(tmp_path_factory, boundaries, taxonomy):
    """A store with one record made by each role's user, one by another field team member, one deleted,
    one site; and a backup of it."""
    folder = tmp_path_factory.mktemp("matrix")
    path = folder / "template.gpkg"
    with open_store(str(path), boundaries=boundaries, taxonomy=taxonomy) as store:
        for role, user in USERS.items():
            store.add(validate_record(dict(BASE, id=IDS[role], organisation=f"Org {role}"), taxonomy=taxonomy),
                      user=user.name)
        for rec_id in (OTHER_ID, DELETED_ID):
            store.add(validate_record(dict(BASE, id=rec_id, organisation="Org lain"), taxonomy=taxonomy), user=OTHER)
        store.delete(DELETED_ID, user=OTHER)
        store.upsert_site(SITE, user="seed")
        store.backup(str(folder / "backup.gpkg"))
    return folder


@pytest.fixture
def world(template, tmp_path, boundaries, taxonomy, monkeypatch):
    shutil.copyfile(template / "template.gpkg", tmp_path / "store.gpkg")
    monkeypatch.setattr(settings, "users_path", tmp_path / "users.toml")
    calls = []

    def fake_export_records(store, out, fmt, filters=None, *, public=False, boundaries=None, taxonomy=None):
        calls.append(("records", fmt, public))
        with open(out, "w") as fh:
            fh.write("id\n")

    def fake_export_html(store, out, filters=None, *, public=False, boundaries=None, taxonomy=None):
        calls.append(("html", public))
        return "<html></html>"

    import geo_p4gn.render.data as ed
    import geo_p4gn.render.html as eh

    monkeypatch.setattr(ed, "export_records", fake_export_records)
    monkeypatch.setattr(eh, "export_html", fake_export_html)
    store = open_store(str(tmp_path / "store.gpkg"), boundaries=boundaries, taxonomy=taxonomy)
    csv = tmp_path / "import.csv"
    csv.write_text("tanggal,jenis,aktor,organisasi,lintang,bujur\n"
                   "2024-09-01,deklarasi,komunitas,RW 03,-6.152569,106.758576\n", encoding="utf-8")
    tax = tmp_path / "taxonomy.toml"  # a copy: the repository's file is never changed by a test
    shutil.copyfile(taxonomy_path(), tax)
    yield types.SimpleNamespace(store=store, tmp=tmp_path, backup=template / "backup.gpkg", calls=calls, csv=csv,
                                tax=tax)
    store.close()


def do(action: str, w, user: User):
    """Perform ``action`` through the services; return what the test checks on success."""
    s = w.store
    if action == "record":
        rec, outcome = services.record_intervention(s, user, dict(BASE, id=str(uuid.UUID(int=999))))
        return outcome, rec.created_by
    if action == "read_own":
        return IDS[user.role] in set(services.list_interventions(s, user)["id"])
    if action == "read":
        seen = set(services.list_interventions(s, user)["id"])
        try:
            services.get_intervention(s, user, OTHER_ID)
        except NotFoundError:
            assert OTHER_ID not in seen
            raise PermissionDenied("others' records are hidden") from None
        return OTHER_ID in seen
    if action == "read_sites":
        return list(services.list_sites(s, user)["id"])
    if action == "edit_own":
        return services.edit_intervention(s, user, IDS[user.role], {"participants": 12}).version
    if action == "delete_own":
        services.delete_intervention(s, user, IDS[user.role])
        return s.get(IDS[user.role], include_deleted=True).deleted
    if action == "edit_any":
        return services.edit_intervention(s, user, OTHER_ID, {"participants": 12}).updated_by
    if action == "delete_any":
        services.delete_intervention(s, user, OTHER_ID)
        return s.get(OTHER_ID, include_deleted=True).deleted
    if action == "restore":
        services.restore_intervention(s, user, DELETED_ID)
        return s.get(DELETED_ID).deleted
    if action == "export":
        services.export_records(s, user, w.tmp / "out.csv", "csv")
        services.export_html(s, user, w.tmp / "out.html")
        return w.calls
    if action == "export_public":
        services.export_records(s, user, w.tmp / "out.csv", "csv", public=True)
        services.export_html(s, user, w.tmp / "out.html", public=True)
        return w.calls
    if action == "import":
        report = services.import_file(s, user, w.csv)
        return report.accepted, report.rejected
    if action == "manage_sites":
        return services.upsert_site(s, user, dict(SITE, name="Kampung Uji Baru"))
    if action == "manage_users":
        services.add_user(user, "baru@example.org", "petugas")
        return [u.name for u in auth.list_users()]
    if action == "manage_taxonomy":
        term = services.add_taxonomy_term(s, user, "types", "tes_urine", "Tes urine", "Urine test", path=w.tax)
        services.edit_taxonomy_labels(s, user, "types", "tes_urine", en_label="Urine screening", path=w.tax)
        services.replace_taxonomy(s, user, w.tax.read_text(encoding="utf-8").replace("year = 2024", "year = 2025"),
                                  path=w.tax)
        tax = load_taxonomy(w.tax)
        return term.key, tax.year, len(tax.types), tax.label("types", "tes_urine", "en"), s.taxonomy == tax
    if action == "audit_read":
        return len(services.audit_log(s, user))
    if action == "backup":
        return services.backup_store(s, user, w.tmp / "b.gpkg").exists()
    if action == "restore_backup":
        done = services.restore_store(user, w.backup, str(w.tmp / "store.gpkg"), safety_dir=w.tmp)
        return done["interventions"]
    if action == "manage_database":  # the role check comes first; a GeoPackage has no database roles
        with pytest.raises(geo_p4gn.ValidationError, match="needs a PostGIS store"):
            services.grant_app_role(s, user, "p4gn_app")
        return "checked"
    if action == "review_duplicates":
        return list(services.list_duplicates(s, user).columns)
    raise AssertionError(action)


#: What each allowed action returns, by role where it differs.
RESULTS = {
    "record": lambda u: ("created", u.name),
    "read_own": lambda u: True,
    "read": lambda u: True,
    "read_sites": lambda u: ["kampung-uji"],
    "edit_own": lambda u: 2,
    "delete_own": lambda u: True,
    "edit_any": lambda u: u.name,
    "delete_any": lambda u: True,
    "restore": lambda u: False,
    "export": lambda u: [("records", "csv", False), ("html", False)],
    "export_public": lambda u: [("records", "csv", True), ("html", True)],
    "import": lambda u: (1, 0),
    "manage_sites": lambda u: "updated",
    "manage_users": lambda u: ["baru@example.org"],
    "manage_taxonomy": lambda u: ("tes_urine", 2025, 8, "Urine screening", True),
    "audit_read": lambda u: 8,
    "backup": lambda u: True,
    "restore_backup": lambda u: 6,
    "manage_database": lambda u: "checked",
    "review_duplicates": lambda u: list(duplicates.COLUMNS),
}


def _state(w):
    return (w.store.data_version(), len(w.store.audit_log()), sorted(p.name for p in w.tmp.iterdir()),
            w.tax.read_text(encoding="utf-8"))


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_matrix_cell(world, role, action):
    user = USERS[role]
    if action in EXPECTED[role]:
        assert do(action, world, user) == RESULTS[action](user)
    else:
        before = _state(world)
        with pytest.raises(PermissionDenied):
            do(action, world, user)
        assert _state(world) == before
        assert world.calls == []


def test_refusals_say_who_and_what(world):
    with pytest.raises(PermissionDenied) as exc:
        services.audit_log(world.store, USERS["perencana"])
    assert str(exc.value) == "perencana1@example.org (perencana, planner) may not read the audit log"
    with pytest.raises(PermissionDenied) as exc:
        services.edit_intervention(world.store, USERS["petugas"], OTHER_ID, {"participants": 1})
    assert str(exc.value) == (f"petugas1@example.org (petugas, field team) may not correct this record: record "
                              f"{OTHER_ID} was made by someone else")


def test_field_team_edits_only_within_the_window(world):
    user = USERS["petugas"]
    rec = world.store.get(IDS["petugas"])
    made = dt.datetime.fromisoformat(rec.created_at)
    assert settings.own_edit_days == 7
    inside = made + dt.timedelta(days=7) - dt.timedelta(seconds=1)
    outside = made + dt.timedelta(days=7, seconds=1)
    services.authorize(user, "edit_own", record=rec, now=inside)
    services.authorize(user, "delete_own", record=rec, now=inside)
    for action in ("edit_own", "delete_own"):
        with pytest.raises(PermissionDenied, match="more than 7 days ago; ask an administrator$"):
            services.authorize(user, action, record=rec, now=outside)
    with pytest.raises(PermissionDenied, match="more than 7 days ago"):
        services.edit_intervention(world.store, user, rec.id, {"participants": 3}, now=outside)
    with pytest.raises(PermissionDenied, match="more than 7 days ago"):
        services.delete_intervention(world.store, user, rec.id, now=outside)
    assert world.store.get(rec.id).version == 1
    # an admin may still, at any age
    assert services.edit_intervention(world.store, USERS["admin"], rec.id, {"participants": 3},
                                      now=outside).participants == 3


def test_field_team_sees_only_their_own_records(world):
    user = USERS["petugas"]
    assert list(services.list_interventions(world.store, user)["id"]) == [IDS["petugas"]]
    assert services.get_intervention(world.store, user, IDS["petugas"]).organisation == "Org petugas"
    with pytest.raises(NotFoundError, match=f"^no intervention with id {OTHER_ID}$"):
        services.get_intervention(world.store, user, OTHER_ID)
    with pytest.raises(NotFoundError):
        services.record_history(world.store, user, OTHER_ID)
    assert list(services.record_history(world.store, user, IDS["petugas"])["action"]) == ["create"]
    with pytest.raises(PermissionDenied, match="may not restore deleted records"):
        services.list_interventions(world.store, user, include_deleted=True)
    assert services.cache_scope(user) == ("petugas", "petugas1@example.org")
    assert services.cache_scope(USERS["perencana"]) == ("perencana", "*")


@pytest.mark.parametrize("role", ROLES)
def test_record_history_is_for_admins_and_the_record_s_author(world, role):
    """Who created and edited a record: administrators see it for every record, everyone else only for the
    records they made. Planners and managers read every record, but not who made it."""
    user = USERS[role]
    own = services.record_history(world.store, user, IDS[role])
    assert list(own["action"]) == ["create"] and list(own["who"]) == [user.name]
    if role == "admin":
        assert list(services.record_history(world.store, user, OTHER_ID)["who"]) == [OTHER]
        return
    refused = NotFoundError if role == "petugas" else PermissionDenied
    with pytest.raises(refused):
        services.record_history(world.store, user, OTHER_ID)
    with pytest.raises(refused):
        services.record_history(world.store, user, IDS["admin"])


@pytest.mark.parametrize("role", ROLES)
def test_who_made_a_record_is_shown_to_admins_and_its_author_only(world, role):
    user = USERS[role]
    services.edit_intervention(world.store, USERS["admin"], OTHER_ID, {"participants": 9})
    frame = services.list_interventions(world.store, user)
    mine = services.get_intervention(world.store, user, IDS[role])
    assert (mine.created_by, mine.updated_by) == (user.name, user.name)
    if role == "petugas":  # their own records only, with their own name
        assert set(frame["created_by"]) == {user.name}
        return
    theirs = services.get_intervention(world.store, user, OTHER_ID)
    names = set(frame["created_by"]) | set(frame["updated_by"])
    if role == "admin":
        assert (theirs.created_by, theirs.updated_by) == (OTHER, user.name)
        assert names == {*(u.name for u in USERS.values()), OTHER}
    else:
        assert (theirs.created_by, theirs.updated_by) == (None, None)
        assert frame["created_by"].isna().all() and frame["updated_by"].isna().all()
        assert len(frame) == 5 and theirs.participants == 9  # the records themselves are all there


def test_a_field_team_member_cannot_delete_a_deleted_record_of_their_own_twice_or_restore_it(world):
    user = USERS["petugas"]
    services.delete_intervention(world.store, user, IDS["petugas"])
    with pytest.raises(NotFoundError):
        services.delete_intervention(world.store, user, IDS["petugas"])
    with pytest.raises(PermissionDenied):
        services.restore_intervention(world.store, user, IDS["petugas"])


@pytest.mark.parametrize("bad", [None, "admin", {"name": "x", "role": "admin"}])
def test_anything_but_a_user_is_refused(world, bad):
    with pytest.raises(PermissionDenied, match="^no signed-in user"):
        services.audit_log(world.store, bad)


def test_unknown_actions_and_roles_are_refused():
    with pytest.raises(PermissionDenied, match="^unknown action 'drop_table': refused$"):
        services.authorize(USERS["admin"], "drop_table")
    with pytest.raises(PermissionDenied, match="unknown role 'root'"):
        User("x@example.org", "root")
    with pytest.raises(PermissionDenied, match="user name"):
        User("../etc", "admin")
    with pytest.raises(PermissionDenied, match="decided per record"):
        services.authorize(USERS["petugas"], "edit_own")


def test_everyone_may_change_only_their_own_password(world):
    auth.add_user(USERS["petugas"].name, "petugas", password="lama-sekali-123")
    auth.add_user(OTHER, "petugas", password="punya-orang-456")
    services.set_password(USERS["petugas"], USERS["petugas"].name, "baru-sekali-789")
    assert auth.verify_password(USERS["petugas"].name, "baru-sekali-789") == USERS["petugas"]
    with pytest.raises(PermissionDenied, match="may not manage users and roles"):
        services.set_password(USERS["petugas"], OTHER, "direbut-000000")
    assert auth.verify_password(OTHER, "punya-orang-456").name == OTHER


# -- identities ----------------------------------------------------------------------------------
def test_local_accounts(tmp_path):
    path = tmp_path / "users.toml"
    assert auth.add_user("ani@example.org", "petugas", password="kata-sandi-panjang", path=path) == \
        User("ani@example.org", "petugas")
    auth.add_user("budi", "perencana", path=path)
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "kata-sandi" not in text and '$argon2id$v=19$m=19456,t=2,p=1$' in text
    assert auth.verify_password("ANI@example.org", "kata-sandi-panjang", path=path) == \
        User("ani@example.org", "petugas")
    for name, pw in (("ani@example.org", "salah-salah-salah"), ("nobody", "kata-sandi-panjang"),
                     ("budi", "kata-sandi-panjang")):
        with pytest.raises(PermissionDenied, match=r"^unknown user or wrong password \(after 5 wrong"):
            auth.verify_password(name, pw, path=path)
    with pytest.raises(geo_p4gn.ValidationError, match="^password: 10 to 1024 characters$"):
        auth.add_user("c", "admin", password="pendek", path=path)
    with pytest.raises(geo_p4gn.ValidationError, match="already exists"):
        auth.add_user("budi", "admin", path=path)
    assert auth.set_role("budi", "pimpinan", path=path) == User("budi", "pimpinan")
    assert auth.list_users(path=path) == [User("ani@example.org", "petugas"), User("budi", "pimpinan")]
    auth.remove_user("budi", path=path)
    assert auth.load_users(path=path).keys() == {"ani@example.org"}


def test_lockout_after_five_wrong_passwords(tmp_path):
    path = tmp_path / "users.toml"
    auth.add_user("ani", "petugas", password="kata-sandi-panjang", path=path)
    t0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    for i in range(4):
        with pytest.raises(PermissionDenied, match="^unknown user or wrong password"):
            auth.verify_password("ani", "salah-salah", path=path, now=t0)
        assert auth.load_users(path)["ani"]["failures"] == i + 1
    auth.verify_password("ani", "kata-sandi-panjang", path=path, now=t0)  # a success resets the count
    assert "failures" not in auth.load_users(path)["ani"]
    for _ in range(5):
        with pytest.raises(PermissionDenied, match="wrong password"):
            auth.verify_password("ani", "salah-salah", path=path, now=t0)
    assert auth.load_users(path)["ani"]["locked_until"] == "2026-11-01T08:15:00+00:00"
    with pytest.raises(PermissionDenied, match="^unknown user or wrong password"):  # even the right one
        auth.verify_password("ani", "kata-sandi-panjang", path=path, now=t0 + dt.timedelta(minutes=14))
    assert auth.verify_password("ani", "kata-sandi-panjang", path=path, now=t0 + dt.timedelta(minutes=15)).name == "ani"


def test_a_refused_sign_in_does_not_tell_whether_the_account_exists(tmp_path):
    """A locked account, a wrong password and a name nobody has get the very same answer."""
    path = tmp_path / "users.toml"
    auth.add_user("ani", "petugas", password="kata-sandi-panjang", path=path)
    t0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    answers = {}

    def answer(name, password, when=t0):
        with pytest.raises(PermissionDenied) as exc:
            auth.verify_password(name, password, path=path, now=when)
        return str(exc.value)

    answers["wrong password"] = answer("ani", "salah-salah")
    for _ in range(5):
        answer("ani", "salah-salah")
    answers["locked, right password"] = answer("ani", "kata-sandi-panjang", t0 + dt.timedelta(minutes=1))
    answers["locked, wrong password"] = answer("ani", "salah-salah", t0 + dt.timedelta(minutes=1))
    for _ in range(6):  # the same number of tries on a name that does not exist
        answers["unknown"] = answer("tidak-ada", "salah-salah")
    answers["unknown, right password of another"] = answer("tidak-ada", "kata-sandi-panjang")
    assert len(set(answers.values())) == 1, answers
    text = answers["unknown"]
    assert text == ("unknown user or wrong password (after 5 wrong passwords in a row an account is locked for "
                    "15 minutes)")
    assert "ani" not in text and "locked until" not in text and "tidak-ada" not in text
    assert "tidak-ada" not in auth.load_users(path)  # nothing is stored for unknown names


def test_oidc_identities_map_to_roles_on_the_server(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    auth.add_user("ani@bnn.go.id", "pimpinan", path=path)
    auth.add_user("00u1abcd", "perencana", path=path)
    claims = {"is_logged_in": True, "email": "Ani@BNN.go.id", "email_verified": True, "sub": "00u9zzzz"}
    assert auth.oidc_user(claims, path=path) == User("ani@bnn.go.id", "pimpinan")
    # an unverified e-mail is not trusted: the subject is looked up instead
    unverified = dict(claims, email_verified=False, sub="00u1abcd")
    assert auth.oidc_user(unverified, path=path) == User("00u1abcd", "perencana")
    with pytest.raises(PermissionDenied, match="^'00u9zzzz' has no role in this installation"):
        auth.oidc_user(dict(claims, email_verified=None), path=path)
    monkeypatch.setattr(settings, "oidc_trust_email", True)
    assert auth.oidc_user(dict(claims, email_verified=None), path=path).role == "pimpinan"
    with pytest.raises(PermissionDenied, match="^not signed in$"):
        auth.oidc_user({"is_logged_in": False}, path=path)
    # the role claim of the provider, or anything else the browser sends, is ignored
    assert auth.oidc_user(dict(claims, role="admin", groups=["admin"]), path=path).role == "pimpinan"


def test_modes(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    pg = "postgresql://u@db.example.org/p4gn"
    assert auth.auth_mode(oidc_configured=False, store_url="/x.gpkg", path=path) == "single"
    with pytest.raises(PermissionDenied, match="refusing the single-user mode"):
        auth.auth_mode(oidc_configured=False, store_url=pg, path=path)
    monkeypatch.setattr(settings, "allow_single_user_server", True)
    assert auth.auth_mode(oidc_configured=False, store_url=pg, path=path) == "single"
    assert auth.auth_mode(oidc_configured=True, store_url=pg, path=path) == "oidc"
    auth.add_user("budi", "admin", password="kata-sandi-panjang", path=path)
    assert auth.auth_mode(oidc_configured=False, store_url=pg, path=path) == "local"
    # the CLI: with accounts, --as is required and looked up
    monkeypatch.delenv("GEO_P4GN_USER", raising=False)
    with pytest.raises(PermissionDenied, match="say who you are with --as NAME"):
        auth.cli_user(None, path=path)
    assert auth.cli_user("budi", path=path) == User("budi", "admin")
    assert auth.cli_user(None, path=tmp_path / "none.toml") == services.SINGLE_USER


def test_provider_identities_without_a_provider_never_mean_the_single_user_mode(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    monkeypatch.setattr(settings, "allow_single_user_server", True)
    auth.add_user("ani@bnn.go.id", "admin", path=path)  # an OIDC identity: no password
    auth.add_user("00u1abcd", "petugas", path=path)
    for url in ("/x.gpkg", "postgresql://u@db.example.org/p4gn"):
        with pytest.raises(PermissionDenied, match=r"lists 2 identities of a sign-in provider but no provider "
                                                    r"is configured .*refusing to start"):
            auth.auth_mode(oidc_configured=False, store_url=url, path=path)
    assert auth.auth_mode(oidc_configured=True, store_url="/x.gpkg", path=path) == "oidc"
    auth.set_password("00u1abcd", "kata-sandi-panjang", path=path)
    assert auth.auth_mode(oidc_configured=False, store_url="/x.gpkg", path=path) == "local"
    # a users file that lists nobody is not "no users file" either, in the app or in the CLI
    path.write_text("# emptied by hand\n[users]\n", encoding="utf-8")
    with pytest.raises(PermissionDenied, match="lists nobody: refusing the single-user mode"):
        auth.auth_mode(oidc_configured=False, store_url="/x.gpkg", path=path)
    monkeypatch.delenv("GEO_P4GN_USER", raising=False)
    with pytest.raises(PermissionDenied, match="say who you are with --as NAME"):
        auth.cli_user(None, path=path)
    path.unlink()
    assert auth.auth_mode(oidc_configured=False, store_url="/x.gpkg", path=path) == "single"
    assert auth.cli_user(None, path=path) == services.SINGLE_USER


def test_a_damaged_users_file_is_an_error_not_an_open_door(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text('[users."x"]\nrole = "superuser"\n')
    with pytest.raises(PermissionDenied, match="unknown role 'superuser'"):
        auth.role_for("x", path=path)
    path.write_text("[users\n")
    with pytest.raises(geo_p4gn.P4gnError, match="not valid TOML"):
        auth.role_for("x", path=path)
    with pytest.raises(geo_p4gn.P4gnError, match="not valid TOML"):
        auth.cli_user(None, path=path)


# -- the CLI gets the same answers -------------------------------------------------------------
@pytest.fixture
def cli_world(world, monkeypatch):
    for user in USERS.values():
        auth.add_user(user.name, user.role)
    monkeypatch.delenv("GEO_P4GN_USER", raising=False)
    return world


CLI = {
    "audit_read": lambda w: ["audit", "--out", str(w.tmp / "audit.csv")],
    "backup": lambda w: ["backup", str(w.tmp / "b.gpkg")],
    "restore_backup": lambda w: ["restore", str(w.backup), "--yes", "--safety-dir", str(w.tmp)],
    "manage_users": lambda w: ["user", "add", "baru@example.org", "--role", "petugas"],
    "manage_taxonomy": lambda w: ["taxonomy", "add", "types", "tes_urine", "--id", "Tes urine", "--en", "Urine test",
                                  "--taxonomy-file", str(w.tax)],
}


@pytest.mark.parametrize("action", sorted(CLI))
@pytest.mark.parametrize("role", ROLES)
def test_cli_matrix(cli_world, role, action, capsys):
    w = cli_world
    store_args = [] if action == "manage_users" else ["--store", str(w.tmp / "store.gpkg")]
    before = _state(w)
    code = cli.main([*CLI[action](w), *store_args, "--as", USERS[role].name])
    err = capsys.readouterr().err
    if action in EXPECTED[role]:
        assert code == 0, err
    else:
        assert code == 2
        assert err.startswith(f"geo-p4gn: error: {USERS[role].label} may not ")
        assert _state(w) == before


def test_cli_without_as_is_refused_when_accounts_exist(cli_world, capsys):
    code = cli.main(["audit", "--store", str(cli_world.tmp / "store.gpkg")])
    assert code == 2
    assert "say who you are with --as NAME" in capsys.readouterr().err


def test_first_admin_is_made_in_single_user_mode(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(settings, "users_path", tmp_path / "users.toml")
    monkeypatch.delenv("GEO_P4GN_USER", raising=False)
    assert cli.main(["user", "add", "root@example.org", "--role", "admin"]) == 0
    assert cli.main(["user", "add", "ani@example.org", "--role", "petugas"]) == 2  # now --as is needed
    assert cli.main(["user", "add", "ani@example.org", "--role", "petugas", "--as", "root@example.org"]) == 0
    capsys.readouterr()
    assert cli.main(["user", "list", "--as", "root@example.org"]) == 0
    assert capsys.readouterr().out == ("ani@example.org\tpetugas\tsign-in provider\n"
                                       "root@example.org\tadmin\tsign-in provider\n")


def test_a_double_submit_stores_one_record_and_shows_nobody_else_s_metadata(world):
    raw = dict(BASE, id=str(uuid.UUID(int=500)), organisation="Posko RW 05")
    rec, outcome = services.record_intervention(world.store, USERS["petugas"], raw)
    assert (outcome, rec.created_by, rec.kelurahan_code) == ("created", USERS["petugas"].name, "31.73.01.1004")
    again, outcome = services.record_intervention(world.store, USERS["petugas"], raw)
    assert (outcome, again) == ("unchanged", rec)
    other = User(OTHER, "petugas")
    theirs, outcome = services.record_intervention(world.store, other, raw)  # same id and content: a no-op
    assert (outcome, theirs.created_by, theirs.created_at) == ("unchanged", None, None)
    assert len(world.store.list(include_deleted=True)) == 7


def test_real_exports_through_the_services(template, tmp_path, boundaries, taxonomy):
    shutil.copyfile(template / "template.gpkg", tmp_path / "store.gpkg")
    with open_store(str(tmp_path / "store.gpkg"), boundaries=boundaries, taxonomy=taxonomy) as store:
        assert services.export_records(store, USERS["perencana"], tmp_path / "a.csv", "csv") == 5
        assert services.export_records(store, USERS["pimpinan"], tmp_path / "p.geojson", "geojson", public=True) == 5
        with pytest.raises(PermissionDenied, match="may not make public exports"):
            services.export_records(store, USERS["perencana"], tmp_path / "b.csv", "csv", public=True)
        page = services.export_html(store, USERS["pimpinan"], None, public=True)
    assert page.startswith("<!DOCTYPE html>") and "Org lain" not in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "p.geojson", "store.gpkg"]


def test_audit_export_formats(cli_world, capsys):
    store = ["--store", str(cli_world.tmp / "store.gpkg"), "--as", USERS["admin"].name]
    assert cli.main(["audit", "--format", "json", *store]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["seq"], r["entity"], r["action"], r["who"]) for r in rows] == [
        *((i + 1, "intervention", "create", USERS[role].name) for i, role in enumerate(ROLES)),
        (5, "intervention", "create", OTHER), (6, "intervention", "create", OTHER),
        (7, "intervention", "delete", OTHER), (8, "site", "create", "seed")]
    assert rows[6]["before"]["deleted"] is False and rows[6]["after"]["deleted"] is True
    assert cli.main(["audit", "--entity", "site", *store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "seq,entity,entity_id,action,who,at,before,after"
    assert len(lines) == 2 and lines[1].startswith("8,site,kampung-uji,create,seed,")

"""PostGIS: the app runs as a role that does not own the tables, so the audit log stays append-only even
for someone who would drop or disable its trigger (issue 7: "append-only for everyone else")."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from geo_p4gn import cli
from geo_p4gn.store import open_store
from tests.integration.conftest import pg_schema_url
from tests.integration.test_store_contract import make


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture
def app_role(pg_url, boundaries, taxonomy):
    """A schema made by the owner, seeded with one record, and a fresh login role granted by the CLI."""
    import psycopg

    owner_url = pg_schema_url(pg_url)
    role = "p4gn_app_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    with open_store(owner_url, boundaries=boundaries, taxonomy=taxonomy) as owner:
        rec = make(taxonomy)
        owner.add(rec, user="admin")
    assert cli.main(["db", "grant-app-role", role, "--store", owner_url]) == 0
    yield owner_url, _as_user(owner_url, role), rec
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_the_app_role_does_the_work(app_role, boundaries, taxonomy, tmp_path):
    _, app_url, first = app_role
    with open_store(app_url, boundaries=boundaries, taxonomy=taxonomy) as store:
        assert store.get(first.id).organisation == "Karang Taruna"
        recs = [make(taxonomy, participants=i) for i in range(3)]
        assert store.add_many(recs, user="petugas1").created == 3
        store.update(recs[0].id, {"participants": 99}, user="petugas1")
        store.delete(recs[1].id, user="petugas1")
        store.restore(recs[1].id, user="admin")
        store.upsert_site({"id": "uji", "name": "Situs uji", "geometry": first.geometry}, user="pimpinan")
        assert len(store.list()) == 4
        assert list(store.history(recs[1].id)["action"]) == ["create", "delete", "restore"]
        assert store.check_integrity() == []
        store.backup(str(tmp_path / "app-role.dump"))  # pg_dump as the app role: it reads every table
        assert (tmp_path / "app-role.dump").stat().st_size > 0


@pytest.mark.parametrize("statement", [
    "UPDATE audit SET who = 'someone else'",
    "DELETE FROM audit",
    "TRUNCATE audit",
    "ALTER TABLE audit DISABLE TRIGGER audit_append_only",
    "DROP TRIGGER audit_append_only ON audit",
    "DELETE FROM interventions",
    "DROP TABLE interventions",
])
def test_the_app_role_cannot_rewrite_history(app_role, statement):
    import psycopg

    _, app_url, first = app_role
    with psycopg.connect(app_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM audit WHERE entity_id = %s", (first.id,)).fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM interventions").fetchone()[0] == 1


def test_grant_needs_an_existing_role_and_a_postgis_store(pg_url, tmp_path, capsys):
    url = pg_schema_url(pg_url)
    assert cli.main(["db", "grant-app-role", "no_such_role_p4gn", "--store", url]) == 2
    assert "no database role 'no_such_role_p4gn'" in capsys.readouterr().err
    assert cli.main(["db", "grant-app-role", "x", "--store", str(tmp_path / "s.gpkg")]) == 2
    assert "needs a PostGIS store" in capsys.readouterr().err

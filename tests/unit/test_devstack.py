import os
import pwd
import stat
from pathlib import Path

import pytest

from devstack import postgres
from devstack.postgres import EmbeddedPostgres, choose_home, relocated_home
from devstack.stack import Stack, StackConfig


def test_a_dsn_in_the_environment_replaces_the_embedded_postgres(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal:5432/lapor")
    stack = Stack(StackConfig(home=tmp_path))
    assert stack.database() == "postgresql://app@db.internal:5432/lapor"
    assert not stack.postgres.is_running() and not (tmp_path / "pg").exists()


def test_without_a_dsn_the_embedded_server_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert StackConfig(home=tmp_path).external_database_url is None


# -- embedded PostgreSQL: where data and binaries go when the server user cannot reach the clone

BASE, MOVED = Path("/root/clone/var/pg"), Path("/var/lib/lapor-devstack/pg-x")


@pytest.mark.parametrize("as_root, linked, initialised, reachable, expected", [
    (False, False, False, False, BASE),  # non-root: the server runs as us, nothing moves
    (False, True, False, False, BASE),
    (True, False, False, True, BASE),    # root, folder reachable: as before
    (True, False, False, False, MOVED),  # root, folder unreachable: relocate
    (True, False, True, False, BASE),    # an existing cluster is never moved for you
    (True, True, False, True, MOVED),    # once relocated, stays relocated (same data every start)
])
def test_data_moves_only_when_root_and_the_server_user_cannot_reach_it(
        as_root, linked, initialised, reachable, expected):
    assert choose_home(BASE, MOVED, as_root=as_root, linked=linked, initialised_in_place=initialised,
                       reachable=reachable) == expected


def test_each_base_dir_has_its_own_stable_home_in_the_shared_dir():
    shared = Path("/var/lib/lapor-devstack")
    home = relocated_home(shared, BASE)
    assert home.parent == shared and home == relocated_home(shared, BASE)
    assert relocated_home(shared, BASE / "other") != home


def test_reachability_uses_the_class_the_server_user_falls_in_and_our_umask_for_new_folders():
    nobody = 65534
    assert not postgres._permits(0o700, 0, 0, nobody, nobody, 0o1)  # /root
    assert postgres._permits(0o701, 0, 0, nobody, nobody, 0o1)
    assert postgres._permits(0o710, 0, nobody, nobody, nobody, 0o1)  # via its group
    assert not postgres._permits(0o077, nobody, 0, nobody, nobody, 0o1)  # owner bits rule the owner
    missing = Path("/nonexistent-lapor-test/var/pg")
    assert postgres._reachable(missing, nobody, nobody, umask=0o022)
    assert not postgres._reachable(missing, nobody, nobody, umask=0o077)


def _another_user() -> str:
    """A server user that, unlike whoever runs the tests, cannot enter a 0700 folder of theirs."""
    return next(u.pw_name for u in pwd.getpwall()
                if u.pw_uid not in (0, os.getuid()) and u.pw_gid != os.getgid())


def _pg_as(monkeypatch, euid: int, base: Path, shared: Path) -> EmbeddedPostgres:
    monkeypatch.setenv("DEVSTACK_PG_SHARED_DIR", str(shared))
    monkeypatch.setenv("DEVSTACK_PG_OS_USER", _another_user())
    with monkeypatch.context() as m:
        m.setattr(postgres.os, "geteuid", lambda: euid)
        return EmbeddedPostgres(base, 55432)


def test_as_root_a_base_dir_under_a_private_folder_is_served_from_the_shared_dir(tmp_path, monkeypatch):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    base, shared = private / "clone" / "var" / "pg", tmp_path / "shared"
    pg = _pg_as(monkeypatch, 0, base, shared)
    assert pg.relocated and pg.data_dir == relocated_home(shared, base) / "data"
    assert pg.log_file == relocated_home(shared, base) / "postgres.log"
    assert not shared.exists() and not base.exists()  # deciding writes nothing


def test_as_root_an_existing_cluster_stays_where_it_is(tmp_path, monkeypatch):
    private = tmp_path / "home"
    (private / "pg" / "data").mkdir(parents=True)
    (private / "pg" / "data" / "PG_VERSION").write_text("16\n")
    private.chmod(0o700)
    pg = _pg_as(monkeypatch, 0, private / "pg", tmp_path / "shared")
    assert not pg.relocated and pg.data_dir == private / "pg" / "data"


def test_not_root_nothing_is_relocated_even_under_a_private_folder(tmp_path, monkeypatch):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    pg = _pg_as(monkeypatch, 1000, private / "pg", tmp_path / "shared")
    assert not pg.relocated and pg.data_dir == private / "pg" / "data"
    assert pg.log_file == private / "pg" / "postgres.log"


def test_a_relocated_home_keeps_its_data_while_linked_and_drops_it_once_the_link_is_gone(tmp_path, monkeypatch):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    base, shared = private / "var" / "pg", tmp_path / "shared"
    pg = _pg_as(monkeypatch, 0, base, shared)
    pg._prepare_relocated_home()
    assert os.readlink(base / "data") == str(pg.data_dir)
    assert os.readlink(base / "postgres.log") == str(pg.log_file)
    pg.data_dir.mkdir()
    (pg.data_dir / "PG_VERSION").write_text("16\n")
    pg._prepare_relocated_home()  # a restart
    assert (pg.data_dir / "PG_VERSION").exists()
    (base / "data").unlink()  # what `make clean` (rm -rf var) amounts to
    pg._prepare_relocated_home()
    assert not pg.data_dir.exists() and os.readlink(base / "data") == str(pg.data_dir)


def test_a_failed_earlier_start_leaves_an_empty_data_dir_that_gives_way_to_the_link(tmp_path, monkeypatch):
    private = tmp_path / "home"
    (private / "pg" / "data").mkdir(parents=True)
    (private / "pg" / "postgres.log").write_text("")
    private.chmod(0o700)
    # owned by the server user, as the old code left them (chown needs root, so say it instead)
    monkeypatch.setattr(postgres, "_server_user_for", lambda data_dir: pwd.getpwnam(_another_user()))
    pg = _pg_as(monkeypatch, 0, private / "pg", tmp_path / "shared")
    assert pg.relocated
    pg._prepare_relocated_home()
    assert (private / "pg" / "data").is_symlink() and (private / "pg" / "postgres.log").is_symlink()


def test_homes_whose_base_dir_is_gone_are_removed_others_kept(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    linked = _pg_as(monkeypatch, 0, tmp_path / "a" / "pg", shared)
    orphan = _pg_as(monkeypatch, 0, tmp_path / "b" / "pg", shared)
    for pg in (linked, orphan):
        pg._prepare_relocated_home()
    (tmp_path / "b" / "pg" / "data").unlink()
    foreign = shared / "pg-not-ours"
    foreign.mkdir()
    postgres._remove_orphan_homes(shared, keep=shared / "none")
    assert linked.home.exists() and foreign.exists() and not orphan.home.exists()


def _fake_wheel(root: Path) -> tuple[Path, Path]:
    pginstall, libs = root / "pgserver" / "pginstall", root / "pgserver.libs"
    for rel, mode in [("bin/postgres", 0o700), ("lib/libpq.so.5", 0o600), ("lib/postgresql/plpgsql.so", 0o600),
                      ("share/postgresql/postgres.bki", 0o600)]:
        (pginstall / rel).parent.mkdir(parents=True, exist_ok=True)
        (pginstall / rel).write_text(rel)
        (pginstall / rel).chmod(mode)
    (pginstall / "include").mkdir()
    libs.mkdir()
    (libs / "libpq-x.so.5").write_text("libpq")
    (pginstall / "lib" / "libpq.so").symlink_to("libpq.so.5")
    return pginstall, libs


def test_the_binary_cache_is_copied_once_opened_up_reused_and_rebuilt_when_pruned(tmp_path):
    pginstall, libs = _fake_wheel(tmp_path / "venv")
    shared, me = tmp_path / "shared", pwd.getpwuid(os.geteuid())
    cache = postgres.binary_cache_dir(shared, pginstall, "9.9")
    (shared / f".{cache.name}.k3x9").mkdir(parents=True)  # a copy interrupted earlier

    bin_dir = postgres.ensure_binary_cache(shared, pginstall, libs, "9.9", me)
    assert bin_dir == cache / "pgserver" / "pginstall" / "bin"
    assert (cache / "pgserver.libs" / "libpq-x.so.5").exists()  # where $ORIGIN/../../../pgserver.libs points
    assert not (cache / "pgserver" / "pginstall" / "include").exists()
    assert os.readlink(cache / "pgserver" / "pginstall" / "lib" / "libpq.so") == "libpq.so.5"
    assert stat.S_IMODE((bin_dir / "postgres").stat().st_mode) == 0o755
    share_file = cache / "pgserver" / "pginstall" / "share" / "postgresql" / "postgres.bki"
    assert stat.S_IMODE(share_file.stat().st_mode) == 0o644
    assert [p.name for p in shared.iterdir() if p.name.startswith(".pgserver")] == []

    inode = (bin_dir / "postgres").stat().st_ino
    assert postgres.ensure_binary_cache(shared, pginstall, libs, "9.9", me) == bin_dir
    assert (bin_dir / "postgres").stat().st_ino == inode  # reused, not copied again

    share_file.unlink()  # e.g. removed by hand or a cleaner
    postgres.ensure_binary_cache(shared, pginstall, libs, "9.9", me)
    assert share_file.exists() and (bin_dir / "postgres").stat().st_ino != inode


def test_a_shared_dir_someone_else_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(RuntimeError, match="writable only by it"):
        postgres._owned_dir(shared)


def test_an_unknown_server_user_fails_start_not_construction(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVSTACK_PG_OS_USER", "no-such-user-lapor")
    with monkeypatch.context() as m:
        m.setattr(postgres.os, "geteuid", lambda: 0)
        pg = EmbeddedPostgres(tmp_path / "pg", 55432)
        assert not pg.is_running()
        with pytest.raises(RuntimeError, match="DEVSTACK_PG_OS_USER"):
            pg._server_user()

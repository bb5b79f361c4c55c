from devstack.stack import Stack, StackConfig


def test_a_dsn_in_the_environment_replaces_the_embedded_postgres(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal:5432/lapor")
    stack = Stack(StackConfig(home=tmp_path))
    assert stack.database() == "postgresql://app@db.internal:5432/lapor"
    assert not stack.postgres.is_running() and not (tmp_path / "pg").exists()


def test_without_a_dsn_the_embedded_server_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert StackConfig(home=tmp_path).external_database_url is None

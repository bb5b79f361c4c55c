import pytest

from backbone.settings import load_settings
from intake.config import IntakeSettings
from notify.config import NotifySettings


@pytest.mark.parametrize("cls", [IntakeSettings, NotifySettings])
def test_missing_required_settings_stop_startup_naming_them(cls, monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PII_KEY", raising=False)
    with pytest.raises(SystemExit) as stop:
        load_settings(cls)
    assert stop.value.code == 2
    message = capsys.readouterr().err
    assert "DATABASE_URL" in message and "PII_KEY" in message


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/lapor")
    monkeypatch.setenv("PII_KEY", "k")
    monkeypatch.setenv("TOPIC_PREFIX", "staging.")
    monkeypatch.setenv("JWT_JWKS_URL", "https://sso.example.id/realms/kota/protocol/openid-connect/certs")
    monkeypatch.setenv("ATTACHMENTS_DIR", "/tmp/lapor-attachments")
    settings = load_settings(IntakeSettings)
    assert settings.service_name == "intake" and settings.schema_name == "intake"
    assert settings.topic_prefix == "staging." and settings.http_port == 8000


def test_intake_will_not_start_without_a_way_to_verify_staff_tokens(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/lapor")
    monkeypatch.setenv("PII_KEY", "k")
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("JWT_JWKS_URL", raising=False)
    with pytest.raises(SystemExit):
        load_settings(IntakeSettings)
    assert "JWT_PUBLIC_KEY" in capsys.readouterr().err

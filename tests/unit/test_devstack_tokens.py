import stat
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from devstack import tokens
from devstack.__main__ import parse_ttl, token
from devstack.stack import Stack, StackConfig

ALGORITHMS = ["RS256", "ES256", "EdDSA"]  # intake's default JWT_ALGORITHMS


@pytest.fixture(scope="module")
def key() -> tokens.SigningKey:
    return tokens.SigningKey.generate()


def verify(token_: str, key: tokens.SigningKey, **overrides) -> dict:
    options = {"audience": "lapor", "issuer": "lapor-devstack"} | overrides
    return jwt.decode(token_, key.public_pem, algorithms=ALGORITHMS,
                      options={"require": ["exp", "iat", "sub", "aud", "iss"]}, **options)


def test_an_operator_token_verifies_against_the_public_key_audience_and_issuer(key):
    claims = verify(key.mint("operator"), key)
    assert claims["role"] == "operator" and "opd" not in claims
    assert claims["sub"] and claims["aud"] == "lapor" and claims["iss"] == "lapor-devstack"
    assert claims["exp"] - claims["iat"] == 8 * 3600
    assert jwt.get_unverified_header(key.mint("operator"))["kid"] == key.kid


def test_an_opd_token_names_its_opd_subject_and_extra_claims(key):
    claims = verify(key.mint("opd", "dinas-pupr", subject="198507112010011001",
                             ttl=timedelta(minutes=30), jurisdiction="kota-contoh"), key)
    assert claims["role"] == "opd" and claims["opd"] == "dinas-pupr"
    assert claims["sub"] == "198507112010011001" and claims["jurisdiction"] == "kota-contoh"
    assert claims["exp"] - claims["iat"] == 30 * 60


def test_an_opd_role_needs_an_opd_and_only_staff_roles_are_minted(key):
    with pytest.raises(ValueError, match="OPD"):
        key.mint("opd")
    with pytest.raises(ValueError, match="role"):
        key.mint("citizen")


def test_a_negative_ttl_gives_a_token_that_has_expired(key):
    expired = key.mint("opd", "dlh", ttl=-timedelta(minutes=5))
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(expired, key)
    claims = jwt.decode(expired, options={"verify_signature": False})
    assert claims["iat"] < claims["exp"] < datetime.now(UTC).timestamp()


def test_another_key_audience_or_issuer_is_refused(key):
    other = tokens.SigningKey.generate()
    with pytest.raises(jwt.InvalidSignatureError):
        verify(other.mint("operator"), key)
    with pytest.raises(jwt.InvalidAudienceError):
        verify(key.mint("operator", aud="someone-else"), key)
    with pytest.raises(jwt.InvalidIssuerError):
        verify(key.mint("operator", issuer="https://sso.example.id"), key)


def test_configured_claim_names_may_be_dotted_paths(key):
    claims = verify(key.mint("opd", "dishub", role_claim="realm_access.role", opd_claim="lapor_opd"), key)
    assert claims["realm_access"] == {"role": "opd"} and claims["lapor_opd"] == "dishub"


def test_the_key_pair_is_made_once_per_folder_private_0600(tmp_path):
    first, created = tokens.load_or_create(tmp_path / "secrets")
    again, created_again = tokens.load_or_create(tmp_path / "secrets")
    assert created and not created_again and again == first
    private = tmp_path / "secrets" / tokens.PRIVATE_KEY_FILE
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (tmp_path / "secrets" / tokens.PUBLIC_KEY_FILE).read_text() == first.public_pem
    assert [p.name for p in (tmp_path / "secrets").iterdir() if p.name.startswith(".")] == []


def _stack(tmp_path, monkeypatch, **extra_env) -> Stack:
    for name in ("JWT_PUBLIC_KEY", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_ROLE_CLAIM",
                 "JWT_OPD_CLAIM"):
        monkeypatch.delenv(name, raising=False)
    stack = Stack(StackConfig(home=tmp_path, extra_env=extra_env))
    stack.dsn = "postgresql://lapor@127.0.0.1:55432/lapor"
    return stack


def test_services_with_staff_routes_get_the_stack_key_and_accept_what_staff_token_signs(
        tmp_path, monkeypatch):
    stack = _stack(tmp_path, monkeypatch)
    env = stack.service_env("intake")
    assert env["JWT_ISSUER"] == "lapor-devstack" and env["JWT_AUDIENCE"] == "lapor"
    assert stack.service_env("routing")["JWT_PUBLIC_KEY"] == env["JWT_PUBLIC_KEY"]
    assert stack.service_env("sla")["JWT_PUBLIC_KEY"] == env["JWT_PUBLIC_KEY"]
    assert stack.service_env("notify")["JWT_PUBLIC_KEY"] == env["JWT_PUBLIC_KEY"]   # its staff routes too
    claims = jwt.decode(stack.staff_token("opd", "dinas-pupr"), env["JWT_PUBLIC_KEY"],
                        algorithms=ALGORITHMS, audience=env["JWT_AUDIENCE"], issuer=env["JWT_ISSUER"])
    assert claims["opd"] == "dinas-pupr"
    assert Stack(StackConfig(home=tmp_path)).signing_key() == stack.signing_key()  # kept


def test_a_key_of_the_callers_own_is_left_alone(tmp_path, monkeypatch):
    stack = _stack(tmp_path, monkeypatch)
    monkeypatch.setenv("JWT_JWKS_URL", "https://sso.example.id/realms/lapor/protocol/openid-connect/certs")
    env = stack.service_env("intake")
    assert "JWT_PUBLIC_KEY" not in env and "JWT_ISSUER" not in env
    with pytest.raises(RuntimeError, match="JWT_JWKS_URL"):
        stack.staff_token("operator")


def test_configured_claim_names_audience_and_issuer_are_signed_for(tmp_path, monkeypatch):
    stack = _stack(tmp_path, monkeypatch, JWT_AUDIENCE="lapor-kota", JWT_OPD_CLAIM="unit")
    env = stack.service_env("intake")
    claims = jwt.decode(stack.staff_token("opd", "dlh"), env["JWT_PUBLIC_KEY"], algorithms=ALGORITHMS,
                        audience="lapor-kota", issuer="lapor-devstack")
    assert claims["unit"] == "dlh"


def test_the_token_command_prints_the_token_last_and_refuses_an_opd_without_id(tmp_path, monkeypatch, capsys):
    stack = _stack(tmp_path, monkeypatch)
    assert token(stack, "opd", None, None, timedelta(hours=8)) == 2
    assert "OPD=" in capsys.readouterr().err
    assert token(stack, "", None, None, timedelta(hours=8)) == 2
    assert token(stack, "opd", "disdukcapil", None, timedelta(hours=1)) == 0
    out = capsys.readouterr()
    assert "valid for 1h" in out.err
    claims = verify(out.out.splitlines()[-1], stack.signing_key())
    assert claims["opd"] == "disdukcapil"


@pytest.mark.parametrize("text, expected", [
    ("8h", timedelta(hours=8)), ("30m", timedelta(minutes=30)), ("-5m", -timedelta(minutes=5)),
    ("90s", timedelta(seconds=90)), ("2", timedelta(hours=2)), ("1d", timedelta(days=1)),
])
def test_durations(text, expected):
    assert parse_ttl(text) == expected

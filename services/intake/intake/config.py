"""intake's settings, from the environment."""

import hashlib

from pydantic import Field, SecretStr, model_validator

from backbone.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8000
    pii_key: SecretStr = Field(description="Fernet key that encrypts reporters' identity at rest")
    default_jurisdiction: str = "kota-contoh"
    access_token_secret: SecretStr | None = Field(
        default=None, description="Secret for access tokens of idempotent submissions; "
                                  "derived from PII_KEY when unset")
    idempotency_retention_hours: float = Field(default=24, gt=0,
                                               description="How long a retry with the same key is recognised")
    retry_after_seconds: int = Field(default=2, ge=1, description="Retry-After when the database is away")
    public_base_url: str = "http://127.0.0.1:8000"
    # Staff tokens (OPD staff, operators): standard JWTs from the city's identity provider.
    jwt_public_key: str | None = Field(default=None, description="PEM public key that signs staff tokens")
    jwt_jwks_url: str | None = Field(default=None, description="Or the issuer's JWKS URL (Keycloak, any OIDC)")
    jwt_audience: str = Field(default="lapor", description="The `aud` staff tokens must carry")
    jwt_issuer: str | None = Field(default=None, description="The `iss` they must carry, when set")
    jwt_algorithms: str = Field(default="RS256,ES256,EdDSA", description="Accepted, comma-separated")
    jwt_role_claim: str = Field(default="role", description="Claim (dotted path) holding operator or opd")
    jwt_opd_claim: str = Field(default="opd", description="Claim holding an OPD member's OPD id")
    jwt_jurisdiction_claim: str = Field(default="jurisdiction",
                                        description="Optional claim limiting an operator to one jurisdiction")
    jwt_leeway_seconds: float = Field(default=30, ge=0, description="Clock skew tolerated on exp")

    @model_validator(mode="after")
    def staff_tokens_verifiable(self) -> "IntakeSettings":
        if not self.jwt_public_key and not self.jwt_jwks_url:
            raise ValueError("set JWT_PUBLIC_KEY (a PEM public key) or JWT_JWKS_URL so staff "
                             "tokens can be verified (`make run` makes a development key)")
        return self

    def token_secret(self) -> bytes:
        if self.access_token_secret is not None:
            return self.access_token_secret.get_secret_value().encode()
        first_key = self.pii_key.get_secret_value().split(",")[0].strip()
        return hashlib.sha256(b"lapor-access-token:" + first_key.encode()).digest()

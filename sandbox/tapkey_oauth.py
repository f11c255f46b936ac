"""Tapkey's OAuth 2.0 authorisation server, in memory: clients, codes, tokens.

Time always comes from the caller (the sandbox clock), so tests can expire
codes and tokens by moving the clock. Errors carry the OAuth error codes of
RFC 6749 §5.2, which the token route returns as they are.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
import hashlib
import secrets
from typing import Any, Final

from .const import TAPKEY_CLIENT_ID, TAPKEY_CLIENT_SECRET

ALL_SCOPES: Final = frozenset(
    {
        "read:owneraccounts",
        "read:core:entities",
        "write:core:entities",
        "read:grants",
        "write:grants",
        "read:logs",
        "offline_access",
    }
)
# Where Home Assistant sends users back: its own callback on any host, or
# the my.home-assistant.io redirect.
HOME_ASSISTANT_REDIRECTS: Final = (
    "http://*/auth/external/callback",
    "https://*/auth/external/callback",
    "https://my.home-assistant.io/redirect/oauth",
)
_LONG_AGO: Final = datetime.min.replace(tzinfo=UTC)


class OAuthError(Exception):
    """An OAuth error response: `error` is the RFC 6749 code."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        """Keep the code, a human description and the HTTP status."""
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """A registered application."""

    client_id: str
    client_secret: str
    name: str
    redirect_uri_patterns: tuple[str, ...] = HOME_ASSISTANT_REDIRECTS

    def accepts_redirect(self, redirect_uri: str) -> bool:
        """Whether `redirect_uri` is registered for this client."""
        return any(
            fnmatchcase(redirect_uri, pattern) for pattern in self.redirect_uri_patterns
        )


@dataclass(slots=True)
class AuthorizationCode:
    """A single-use code handed out by the authorize endpoint."""

    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: datetime
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass(slots=True)
class IssuedToken:
    """An access or refresh token."""

    client_id: str
    scopes: frozenset[str]
    expires_at: datetime
    revoked: bool = False

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return not self.revoked and now < self.expires_at


def _pkce_matches(code: AuthorizationCode, verifier: str | None) -> bool:
    if code.code_challenge is None:
        return True
    if verifier is None:
        return False
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return secrets.compare_digest(computed, code.code_challenge)
    return secrets.compare_digest(verifier, code.code_challenge)


@dataclass(slots=True)
class OAuthRegistry:
    """Clients, outstanding codes and issued tokens."""

    clients: dict[str, OAuthClient] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access_tokens: dict[str, IssuedToken] = field(default_factory=dict)
    refresh_tokens: dict[str, IssuedToken] = field(default_factory=dict)
    access_token_lifetime: timedelta = timedelta(hours=1)
    refresh_token_lifetime: timedelta = timedelta(days=30)
    code_lifetime: timedelta = timedelta(minutes=5)

    @classmethod
    def with_demo_client(cls) -> OAuthRegistry:
        """A registry knowing the demo client of sandbox/const.py."""
        demo = OAuthClient(TAPKEY_CLIENT_ID, TAPKEY_CLIENT_SECRET, "Home Assistant")
        return cls(clients={demo.client_id: demo})

    def client_for_redirect(self, client_id: str, redirect_uri: str) -> OAuthClient:
        """The client an authorize request names, if its redirect is registered."""
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client", "unknown client_id")
        if not client.accepts_redirect(redirect_uri):
            raise OAuthError("invalid_request", "redirect_uri is not registered")
        return client

    def authenticate_client(self, client_id: str, client_secret: str) -> OAuthClient:
        """The client whose credentials these are (401 invalid_client if none)."""
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(
            client.client_secret, client_secret
        ):
            raise OAuthError(
                "invalid_client", "client authentication failed", status=401
            )
        return client

    def issue_code(
        self,
        client: OAuthClient,
        *,
        redirect_uri: str,
        scope: str,
        now: datetime,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """Hand out a code for an approved authorize request."""
        scopes = frozenset(scope.split())
        if unknown := scopes - ALL_SCOPES:
            raise OAuthError("invalid_scope", f"unknown scope {sorted(unknown)}")
        if code_challenge is not None and code_challenge_method not in (
            None,
            "plain",
            "S256",
        ):
            raise OAuthError("invalid_request", "unsupported code_challenge_method")
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            expires_at=now + self.code_lifetime,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method or "plain",
        )
        return code

    def exchange_code(
        self,
        client: OAuthClient,
        *,
        code: str,
        redirect_uri: str | None,
        code_verifier: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """Trade a code for tokens; a code works once, for its own client."""
        grant = self.codes.pop(code, None)
        if (
            grant is None
            or grant.client_id != client.client_id
            or now >= grant.expires_at
        ):
            raise OAuthError("invalid_grant", "authorization code is invalid")
        if redirect_uri != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match")
        if not _pkce_matches(grant, code_verifier):
            raise OAuthError("invalid_grant", "code_verifier does not match")
        return self.issue_tokens(client.client_id, grant.scopes, now=now)

    def refresh(
        self, client: OAuthClient, *, refresh_token: str, now: datetime
    ) -> dict[str, Any]:
        """Rotate a refresh token: the old one stops working."""
        token = self.refresh_tokens.get(refresh_token)
        if (
            token is None
            or token.client_id != client.client_id
            or not token.usable(now)
        ):
            raise OAuthError("invalid_grant", "refresh token is invalid or expired")
        token.revoked = True
        return self.issue_tokens(client.client_id, token.scopes, now=now)

    def issue_tokens(
        self, client_id: str, scopes: frozenset[str], *, now: datetime
    ) -> dict[str, Any]:
        """Issue an access token (and a refresh token with offline_access)."""
        access_token = secrets.token_urlsafe(32)
        self.access_tokens[access_token] = IssuedToken(
            client_id, scopes, now + self.access_token_lifetime
        )
        response: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(self.access_token_lifetime.total_seconds()),
            "scope": " ".join(sorted(scopes)),
        }
        if "offline_access" in scopes:
            refresh_token = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh_token] = IssuedToken(
                client_id, scopes, now + self.refresh_token_lifetime
            )
            response["refresh_token"] = refresh_token
        return response

    def access_token(self, token: str, now: datetime) -> IssuedToken | None:
        """The access token's grant if it is usable at `now`."""
        issued = self.access_tokens.get(token)
        if issued is None or not issued.usable(now):
            return None
        return issued

    def expire_access_tokens(self) -> int:
        """Expire every access token now (refresh tokens keep working)."""
        for token in self.access_tokens.values():
            token.expires_at = _LONG_AGO
        return len(self.access_tokens)

    def revoke_all(self) -> int:
        """Revoke every access and refresh token: the user must log in again."""
        tokens = [*self.access_tokens.values(), *self.refresh_tokens.values()]
        for token in tokens:
            token.revoked = True
        return len(tokens)

"""OAuth2 service accounts, as OVHcloud's IAM serves them: the client-credentials grant at /auth/oauth2/token (beside
/1.0, as https://www.ovh.com/auth/oauth2/token is beside https://eu.api.ovh.com/1.0), then `Authorization: Bearer`
on every API call instead of the X-Ovh-* signature.

The sandbox knows one service account (DEFAULT_CLIENT_ID / DEFAULT_CLIENT_SECRET) unless told others; tokens live
in memory, so a restarted sandbox asks clients for a new one (401, as an expired token).
"""

import base64
import hmac
import secrets
import threading
import time
from urllib.parse import parse_qs, unquote

TOKEN_PATH = "/auth/oauth2/token"
TOKEN_SECONDS = 3600


class TokenRefused(Exception):
    """An OAuth2 error answer (RFC 6749 section 5.2): status and `error` code."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class ServiceAccounts:
    """Client ids and secrets the sandbox accepts, and the bearer tokens it issued (thread-safe)."""

    def __init__(self, clients: dict[str, str]) -> None:
        self._clients = dict(clients)
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, expiry)
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, authorization: str | None, body: str) -> dict:
        """The token answer for a client-credentials request, or TokenRefused."""
        form = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
        if form.get("grant_type") != "client_credentials":
            raise TokenRefused(400, "unsupported_grant_type", "only the client_credentials grant is served")
        client_id, client_secret = _basic(authorization) or (form.get("client_id"), form.get("client_secret"))
        known = self._clients.get(client_id or "")
        if known is None or not hmac.compare_digest(known, client_secret or ""):
            raise TokenRefused(401, "invalid_client", "unknown client or wrong secret")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (str(client_id), time.time() + TOKEN_SECONDS)
            self.issued += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS, "scope": "all"}

    def client_of(self, authorization: str | None) -> str | None:
        """The client id a valid `Bearer` token was issued to; None when the request carries no bearer token."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        with self._lock:
            found = self._tokens.get(authorization[7:].strip())
        if found is None or found[1] < time.time():
            raise TokenRefused(401, "invalid_token", "This token is invalid or expired")
        return found[0]


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, _, client_secret = decoded.partition(":")
    return unquote(client_id), unquote(client_secret)

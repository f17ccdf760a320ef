"""Request signatures, checked exactly as python-ovh makes them.

X-Ovh-Signature = "$1$" + sha1_hex(secret + "+" + consumerKey + "+" + METHOD + "+" + fullUrl + "+" + body + "+" + ts)
where fullUrl is the URL the client built (scheme://host[:port]/1.0/path?query). The server only sees the Host header
and the request path, so it tries the spellings a client may have used (http or https behind a proxy, with or
without a default port).
"""

import hashlib
import hmac
import time

from reconciler.sandbox.clusters import ApiFailure
from reconciler.sandbox.state import State

MAX_CLOCK_SKEW_SECONDS = 300


class AuthFailure(ApiFailure):
    """The body OVH gives authentication errors: errorCode and httpCode instead of class; 403 unless told."""

    def __init__(self, error_code: str, message: str, status: int = 403):
        super().__init__(status, error_code, message)


def signature(secret: str, consumer_key: str, method: str, url: str, body: str, timestamp: str) -> str:
    text = "+".join([secret, consumer_key, method.upper(), url, body, timestamp])
    return "$1$" + hashlib.sha1(text.encode("utf-8")).hexdigest()


def candidate_urls(host: str, path: str) -> list[str]:
    urls = []
    bare_host, _, port = host.partition(":")
    for scheme, default_port in (("http", "80"), ("https", "443")):
        urls.append(f"{scheme}://{host}{path}")
        if not port:
            urls.append(f"{scheme}://{bare_host}:{default_port}{path}")
        elif port == default_port:
            urls.append(f"{scheme}://{bare_host}{path}")
    return urls


def authenticate(state: State, headers, method: str, path: str, body: str, now: float | None = None) -> str:
    """Return the consumer key of a correctly signed request; raise AuthFailure otherwise."""
    secret, consumer_key, timestamp = check_headers(state, headers, now)
    given = headers.get("X-Ovh-Signature") or ""
    host = headers.get("Host") or ""
    for url in candidate_urls(host, path):
        if hmac.compare_digest(given, signature(secret, consumer_key, method, url, body, timestamp)):
            return consumer_key
    # A wrong signature is a 400, not a 403 (php-ovh issue #97; python-ovh raises BadParametersError, issue #103).
    raise AuthFailure("INVALID_SIGNATURE", "Invalid signature", status=400)


def check_headers(state: State, headers, now: float | None = None) -> tuple[str, str, str]:
    """What can be checked before the body is read (keys known, clock in range): (secret, consumer key, timestamp);
    AuthFailure otherwise. A stranger's request is refused before its body is read."""
    application_key = headers.get("X-Ovh-Application")
    if not application_key:
        raise AuthFailure("INVALID_KEY", "Invalid application key")
    secret = state.application_secret(application_key)
    if secret is None:
        raise AuthFailure("INVALID_KEY", "This application key is invalid")
    consumer_key = headers.get("X-Ovh-Consumer")
    if not consumer_key:
        raise AuthFailure("NOT_CREDENTIAL", "This call has not been granted: no consumer key")
    if not state.consumer_known(application_key, consumer_key):
        raise AuthFailure("INVALID_CREDENTIAL", "This credential does not exist")
    timestamp = headers.get("X-Ovh-Timestamp") or ""
    try:
        skew = abs(int(timestamp) - (time.time() if now is None else now))
    except ValueError:
        raise AuthFailure("INVALID_CREDENTIAL", "Invalid timestamp") from None
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise AuthFailure("INVALID_CREDENTIAL", "Timestamp is too far from the server time (query GET /auth/time)")
    return secret, consumer_key, timestamp

"""The one place that talks to the OVHcloud API. Everything else calls `open_api(settings)` and uses its `Api`.

All traffic goes through the official `ovh` client (it signs the requests); this module adds what python-ovh lacks:
endpoint URLs (python-ovh takes names only), errors that say what happened in one line, retries of GET and PUT
on 429 / 5xx / network failures (capped exponential backoff with full jitter, Retry-After honoured, within a time
budget), a read-only guard, a connection pool sized for the caller's threads, and a verbose log without secrets.
POST is never retried after a failure that may hide its execution (a 5xx, no answer): it may still have happened,
so the caller reads back to learn the truth. A 429 refuses a request before it runs, so every method is sent again.
"""

import hashlib
import os
import random
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from email.utils import parsedate_to_datetime

import ovh
import ovh.client
import ovh.config
import requests
from requests.adapters import HTTPAdapter

from reconciler.settings import Settings

NAMED_ENDPOINTS = ("ovh-eu", "ovh-ca", "ovh-us")
CREDENTIAL_HINT = "set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (or write them in ovh.conf)"
RETRIED_METHODS = ("GET", "PUT")  # idempotent: sending them twice means the same as once
TIMEOUT = (10, 60)  # seconds to connect, seconds to read


class ApiError(Exception):
    """A call that did not succeed. `status` is None when no HTTP answer came back (network failure)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_class: str | None = None,
        query_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        network: bool = False,
        retry_after: float | None = None,
        attempts: int = 1,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_class = error_class
        self.query_id = query_id
        self.method = method
        self.path = path
        self.network = network
        self.retry_after = retry_after
        self.attempts = attempts  # requests sent for this call; a Conflict after an ambiguous attempt may be our own

    @property
    def ambiguous(self) -> bool:
        """True when the request may have been executed although it failed: a network failure or a 5xx."""
        return self.network or (self.status is not None and self.status >= 500)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        what = " ".join(str(part) for part in (self.status, self.error_class) if part)
        what = what or ("network error" if self.network else "")
        query = f" (query id {self.query_id})" if self.query_id else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{where}{what + ': ' if what else ''}{self.message}{query}{tries}"


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class AuthError(ApiError):
    def __str__(self) -> str:
        return f"{super().__str__()}; {CREDENTIAL_HINT}"


class RateLimited(ApiError):
    pass


class ReadOnlyError(ApiError):
    """A change asked for through a read-only Api; nothing was sent."""


def _error_type(status: int | None) -> type[ApiError]:
    return {401: AuthError, 403: AuthError, 404: NotFound, 409: Conflict, 429: RateLimited}.get(status, ApiError)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Api:
    """Thread-safe: one Api serves a pool of threads (its session's connection pool is sized for them)."""

    def __init__(
        self,
        client: ovh.Client,
        *,
        endpoint_label: str,
        read_only: bool = False,
        verbose: bool = False,
        retry_base: float = 0.2,
        retry_cap: float = 5.0,
        retry_budget: float = 60.0,
        log=None,
    ):
        self.client = client
        self.endpoint_label = endpoint_label
        self.read_only = read_only
        self.verbose = verbose
        self.retry_base, self.retry_cap, self.retry_budget = retry_base, retry_cap, retry_budget
        self.calls: Counter = Counter()  # requests sent, by method (retries count)
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._random = random.Random()

    def get(self, path: str):
        return self._call("GET", path, None)

    def put(self, path: str, body: dict):
        return self._call("PUT", path, body)

    def post(self, path: str, body: dict | None = None):
        return self._call("POST", path, body)

    def learn_clock_offset(self) -> None:
        """Ask the server's time once, so signatures use it (python-ovh would ask lazily, from each thread)."""
        # A shorter budget than other calls: an endpoint that never answers should fail fast, not after a minute.
        server_time = self._call("GET", "/auth/time", None, need_auth=False, budget=min(self.retry_budget, 10.0))
        self.client._time_delta = int(server_time) - int(time.time())

    def _call(self, method: str, path: str, body, need_auth: bool = True, budget: float | None = None):
        if self.read_only and method != "GET":
            raise ReadOnlyError("refused: this command is read-only", method=method, path=path)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send(method, path, body, need_auth, attempt)
            except ApiError as error:
                error.attempts = attempt
                delay = self._backoff(attempt, error.retry_after)
                # 429: refused before it ran, so safe to send again whatever the method.
                retryable = error.status == 429 or (method in RETRIED_METHODS and error.ambiguous)
                budget = self.retry_budget if budget is None else budget
                if not retryable or time.monotonic() - started + delay > budget:
                    raise
                time.sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        with self._lock:
            jitter = self._random.uniform(0, min(self.retry_cap, self.retry_base * 2 ** (attempt - 1)))
        return max(jitter, retry_after or 0.0)

    def _send(self, method: str, path: str, body, need_auth: bool, attempt: int):
        with self._lock:
            self.calls[method] += 1
        started = time.monotonic()
        try:
            response = self.client.raw_call(method, path, data=body, need_auth=need_auth)
        except requests.RequestException as exc:
            self._trace(method, path, "network error", started, attempt)
            reason = type(exc).__name__
            raise ApiError(f"no answer from the API ({reason})", method=method, path=path, network=True) from None
        except ovh.exceptions.APIError as exc:  # python-ovh refused to sign (missing keys)
            raise AuthError(str(exc), method=method, path=path) from None
        self._trace(method, path, response.status_code, started, attempt)
        return _decoded(response, method, path)

    def _trace(self, method: str, path: str, status, started: float, attempt: int) -> None:
        if self.verbose:
            retry = f" (attempt {attempt})" if attempt > 1 else ""
            self._log(f"api: {method} {path} {status} {(time.monotonic() - started) * 1000:.0f} ms{retry}")


def _decoded(response: requests.Response, method: str, path: str):
    status = response.status_code
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None  # a proxy's HTML error page, say
        if 200 <= status < 300:
            message = "the API answered something that is not JSON"
            raise ApiError(message, status=status, method=method, path=path) from None
    if 200 <= status < 300:
        return data
    details = data if isinstance(data, dict) else {}
    message = details.get("message") or response.text.strip()[:200] or response.reason or "no message"
    raise _error_type(status)(
        message,
        status=status,
        error_class=details.get("class") or details.get("errorCode"),
        query_id=response.headers.get("X-Ovh-QueryID"),
        method=method,
        path=path,
        retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
    )


def register_endpoint(url: str) -> str:
    """python-ovh takes endpoint names only: give a URL a private name in its table."""
    url = url.rstrip("/")
    name = "ovhkube-" + hashlib.sha1(url.encode()).hexdigest()[:12]
    ovh.client.ENDPOINTS[name] = url
    return name


def _credentials(configuration, section: str) -> tuple[str | None, str | None, str | None]:
    return tuple(configuration.get(section, key) for key in ("application_key", "application_secret", "consumer_key"))


def _sandbox_credentials(configuration) -> tuple:
    from reconciler.sandbox import DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY

    if any(os.environ.get(f"OVH_{key}") for key in ("APPLICATION_KEY", "APPLICATION_SECRET", "CONSUMER_KEY")):
        return _credentials(configuration, "sandbox")
    return DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY


def _start_embedded_sandbox(stack: ExitStack) -> str:
    from reconciler.sandbox import default_state_path
    from reconciler.sandbox.server import SandboxServer

    transition = float(os.environ.get("OVHKUBE_SANDBOX_TRANSITION_SECONDS") or 2)
    server = SandboxServer(default_state_path(), "127.0.0.1", 0, transition_seconds=transition).start()
    stack.callback(server.stop)
    return server.url


def _prepare_session(session: requests.Session, url: str, parallelism: int) -> None:
    """Size the connection pool for the caller's threads, and read the environment's proxy and CA settings once.

    requests otherwise re-reads them (and ~/.netrc) on every call: most of a call's CPU time in a large fleet.
    python-ovh signs each request itself, so netrc credentials never apply here anyway.
    """
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, parallelism))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    environment = session.merge_environment_settings(url, {}, None, None, None)
    session.trust_env = False
    session.proxies.update(environment["proxies"])
    session.verify = environment["verify"]


@contextmanager
def open_api(settings: Settings, *, read_only: bool = False, parallelism: int = 10):
    """An Api for the endpoint the settings (or OVH_ENDPOINT, or ovh.conf) name; default ovh-eu."""
    configuration = ovh.config.ConfigurationManager()
    endpoint = settings.endpoint or configuration.get("default", "endpoint") or "ovh-eu"
    with ExitStack() as stack:
        if endpoint == "sandbox":
            name, label = register_endpoint(_start_embedded_sandbox(stack)), "sandbox"
            keys = _sandbox_credentials(configuration)
        elif endpoint.startswith(("http://", "https://")):
            name, label = register_endpoint(endpoint), endpoint.rstrip("/")
            keys = _credentials(configuration, endpoint)
        elif endpoint in ovh.client.ENDPOINTS:
            name, label = endpoint, endpoint
            keys = _credentials(configuration, endpoint)
        else:
            choices = f"{', '.join(NAMED_ENDPOINTS)}, sandbox or an http(s)://.../1.0 URL"
            raise ApiError(f"unknown endpoint {endpoint!r}: use {choices}")
        if not all(keys):
            raise AuthError(f"missing API credentials for {label}")
        application_key, application_secret, consumer_key = keys
        try:
            client = ovh.Client(name, application_key, application_secret, consumer_key, timeout=TIMEOUT)
        except ovh.exceptions.InvalidConfiguration as exc:
            raise AuthError(f"invalid API configuration for {label}: {exc}") from None
        _prepare_session(client._session, ovh.client.ENDPOINTS[name], parallelism)
        api = Api(client, endpoint_label=label, read_only=read_only, verbose=settings.verbose)
        stack.callback(client._session.close)
        api.learn_clock_offset()
        yield api

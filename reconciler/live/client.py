"""The one place that talks HTTP to the OVHcloud API: an `Api` wraps a signed `ovh.Client` (reconciler.commands.connect
builds one for an endpoint and its credentials).

All traffic goes through the official `ovh` client (it signs the requests); this module adds what python-ovh lacks:
errors that say what happened in one line, retries of GET and PUT
on 429 / 5xx / network failures (capped exponential backoff with full jitter, Retry-After honoured, within a time
budget), a read-only guard, a connection pool sized for the caller's threads, and a verbose log without secrets.
POST is never retried after a failure that may hide its execution (a 5xx, no answer): it may still have happened,
so the caller reads back to learn the truth. A 429 refuses a request before it runs, so every method is sent again.
"""

import json
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import ovh
import ovh.client
import ovh.config
import requests
from requests.adapters import HTTPAdapter

from reconciler.errors import (
    CREDENTIAL_ERROR_CODES,
    ApiError,
    AuthError,
    Conflict,
    Interrupted,
    NotFound,
    NotGranted,
    RateLimited,
    ReadOnlyError,
    ServiceExpired,
)
from reconciler.live.access import rule_for
from reconciler.live.budget import RequestBudget
from reconciler.live.shapes import MalformedAnswer, check_answer
from reconciler.steps import server_time_path

# The largest answer read: a project's listing of 20 clusters (its most) is tens of KiB.
MAX_ANSWER_BYTES = 16 * 2**20
READ_CHUNK_BYTES = 64 * 2**10
RETRIED_METHODS = ("GET", "PUT")  # idempotent: sending them twice means the same as once
TIMEOUT = (10, 60)  # seconds to connect, seconds to read
# The first call's retry budget: an endpoint that never answers should fail fast, not after a minute.
# OVHKUBE_CLOCK_BUDGET_SECONDS sets it (tests of an unreachable endpoint shorten it).
CLOCK_BUDGET_SECONDS = 10.0
# Authentication errorCodes (python-ovh, go-ovh); a wrong signature is a 400 INVALID_SIGNATURE (php-ovh issue #97).
NOT_GRANTED_CODES = frozenset({"NOT_GRANTED_CALL", "FORBIDDEN"})
# A refused permission's 403 names the action in one of these (OVHcloud's IAM guide; go-ovh error.go), the other
# empty: the consumer key's access rules, or an IAM policy.
RULES_DETAIL, IAM_DETAIL = "unauthorizedActionsByAuthentication", "unauthorizedActionsByIAM"


ERROR_TYPES: dict[int | None, type[ApiError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
    460: ServiceExpired,
}


def _error_type(status: int | None, details: dict) -> type[ApiError]:
    code = details.get("errorCode")
    # Some answers carry it as a class: {"class": "Client::BadRequest", "message": "Invalid signature"}.
    if code in CREDENTIAL_ERROR_CODES or (status == 400 and details.get("message") == "Invalid signature"):
        return AuthError
    if code in NOT_GRANTED_CODES or (status == 403 and {IAM_DETAIL, RULES_DETAIL} & set(_details(details))):
        return NotGranted
    return ERROR_TYPES.get(status, ApiError)


def _iam_action(value: Any) -> str | None:
    """The refused IAM action(s): a string in go-ovh's tests; a list is taken too."""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or None
    return str(value) if value else None


def _details(body: dict) -> dict:
    details = body.get("details")
    return details if isinstance(details, dict) else {}


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


_LOG_LOCK = threading.Lock()


def whole_line_to_stderr(line: str) -> None:
    """One write per line, under a lock: print() writes the text and its newline apart, so lines of threads ran
    together."""
    with _LOG_LOCK:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


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
        log: Any = None,
        budget: RequestBudget | None = None,
    ) -> None:
        self.client = client
        self.endpoint_label = endpoint_label
        self.read_only = read_only
        self.verbose = verbose
        self.retry_base, self.retry_cap, self.retry_budget = retry_base, retry_cap, retry_budget
        self.calls: Counter = Counter()  # requests sent, by method (retries count)
        self._log = log or whole_line_to_stderr
        self._lock = threading.Lock()
        self._random = random.Random()
        self._said_retrying = False
        self._noted: set[str] = set()
        self.budget = budget or RequestBudget()
        self.retries = 0  # requests sent again after a failure

    def get(self, path: str) -> Any:
        return self._call("GET", path, None)

    def get_with_headers(self, path: str, headers: dict[str, str]) -> tuple[Any, Mapping[str, str]]:
        """GET with extra request headers (not signed: python-ovh signs method, URL, body and time only);
        returns the answer and its response headers (a case-insensitive mapping)."""
        return self._call("GET", path, None, headers=headers)

    def note_once(self, text: str) -> None:
        """A line under -v, said once per run however many threads meet the same situation."""
        with self._lock:
            if text in self._noted:
                return
            self._noted.add(text)
        if self.verbose:
            self._log(text)

    def put(self, path: str, body: dict | None) -> Any:
        return self._call("PUT", path, body)

    def post(self, path: str, body: dict | None = None) -> Any:
        return self._call("POST", path, body)

    def get_unsigned(self, path: str) -> Any:
        """A GET without signature (GET /auth/time)."""
        return self._call("GET", path, None, need_auth=False)

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path, None)

    def learn_clock_offset(self) -> None:
        """Ask the server's time once, so signatures use it (python-ovh would ask lazily, from each thread)."""
        clock_budget = float(os.environ.get("OVHKUBE_CLOCK_BUDGET_SECONDS") or CLOCK_BUDGET_SECONDS)
        budget = min(self.retry_budget, clock_budget)
        server_time = self._call("GET", server_time_path(), None, need_auth=False, budget=budget)
        self.client._time_delta = int(server_time) - int(time.time())

    def _call(
        self,
        method: str,
        path: str,
        body: Any,
        need_auth: bool = True,
        budget: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if self.read_only and method != "GET":
            raise ReadOnlyError("refused: this command is read-only", method=method, path=path)
        started = time.monotonic()
        queued = 0.0  # time spent waiting for a slot of the request budget: not counted against the retry budget
        attempt = 0
        sent: ApiError | None = None  # the failure of a try that may have reached the API (a 5xx or no answer)
        while True:
            attempt += 1
            if attempt > 1:
                with self._lock:
                    self.retries += 1
            try:
                queued += self.budget.acquire(signed=need_auth)
            except Interrupted:  # the run stops before this try: an earlier one may have been applied, so say that
                if sent is None:
                    raise
                raise sent from None
            try:
                answer = self._send(method, path, body, need_auth, attempt, headers)
            except ApiError as error:
                # A 4xx other than 429 is an answer the API gave under its limit; a 429, a 5xx or none is not.
                answered = error.status is not None and error.status < 500 and error.status != 429
                self.budget.release(accepted=answered, signed=need_auth)
                error.attempts = attempt
                budget = self.retry_budget if budget is None else budget
                if error.status == 429:  # refused before it ran, so safe to send again whatever the method
                    # Every thread pauses in the request budget; the refused time counts against the retry budget.
                    queued -= self.budget.refused(error.retry_after)
                    if time.monotonic() - started - queued > budget:
                        raise
                    continue
                delay = self._backoff(attempt, error.retry_after)  # a 503 may say when to come back
                # An answer of the wrong shape would come again: it is said at once.
                retryable = method in RETRIED_METHODS and error.ambiguous and not isinstance(error, MalformedAnswer)
                if not retryable or time.monotonic() - started - queued + delay > budget:
                    raise
                self._say_retrying(error, budget)
                sent = error
                try:
                    self.budget.pause(delay)
                except Interrupted:  # the run stops: no more tries, and this one's failure is the answer
                    raise error from None
            except BaseException:  # Ctrl-C, SIGTERM: the request's place in the window is given back all the same
                self.budget.release(accepted=False, signed=need_auth)
                raise
            else:
                self.budget.release(accepted=True, signed=need_auth)
                return answer

    def _say_retrying(self, error: ApiError, budget: float) -> None:
        """One line, once per run, so that an API that does not answer is not seconds of silence (-v logs each)."""
        with self._lock:
            if self._said_retrying:
                return
            self._said_retrying = True
        self._log(f"retrying for up to {budget:.0f} s: {error}")

    def account(self) -> str:
        """One line for -v: the requests sent by method, the retries, the time spent waiting on the request budget."""
        with self._lock:
            by_method = ", ".join(f"{method} {count}" for method, count in sorted(self.calls.items()))
            total = sum(self.calls.values())
        refused = self.budget.refusals
        return (
            f"requests: {total} ({by_method or 'none'}); {self.retries} retries ({refused} refused with 429); "
            f"{self.budget.waited:.1f} s waiting on the request budget"
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        with self._lock:
            jitter = self._random.uniform(0, min(self.retry_cap, self.retry_base * 2 ** (attempt - 1)))
        return max(jitter, retry_after or 0.0)

    def _send(self, method: str, path: str, body: Any, need_auth: bool, attempt: int, headers: dict | None) -> Any:
        with self._lock:
            self.calls[method] += 1
        started = time.monotonic()
        try:
            # A copy: raw_call adds its own headers to the dict it is given.
            sent_headers = dict(headers) if headers else None
            response = self.client.raw_call(method, path, data=body, need_auth=need_auth, headers=sent_headers)
        except requests.RequestException as exc:
            self._trace(method, path, "network error", started, attempt)
            reason = type(exc).__name__
            raise ApiError(f"no answer from the API ({reason})", method=method, path=path, network=True) from None
        except ovh.exceptions.APIError as exc:  # python-ovh refused to sign (missing keys)
            raise AuthError(str(exc), method=method, path=path) from None
        self._trace(method, path, response.status_code, started, attempt)
        data = _decoded(response, _capped_body(response, method, path), method, path)
        return (data, response.headers) if headers else data  # headers: case-insensitive

    def _trace(self, method: str, path: str, status: int | str | None, started: float, attempt: int) -> None:
        if self.verbose:
            retry = f" (attempt {attempt})" if attempt > 1 else ""
            self._log(f"api: {method} {path} {status} {(time.monotonic() - started) * 1000:.0f} ms{retry}")


def _capped_body(response: requests.Response, method: str, path: str) -> bytes:
    """The answer's body, read a chunk at a time (the session streams: prepare_session) and refused as soon as it
    passes MAX_ANSWER_BYTES: an answer far beyond any the API gives (a broken proxy, a hostile endpoint) must not
    fill the memory before anything can say so."""
    declared = response.headers.get("Content-Length") or ""
    too_big = MalformedAnswer(
        f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB (no answer ovhkube reads comes near it): refused",
        status=response.status_code,
        method=method,
        path=path,
    )
    try:
        # Only an ASCII number is a length ('²' is a digit to str.isdigit, not to int); one of more digits than
        # any length is past the cap whatever it says, and never given to int(), which refuses 4,300 digits.
        if declared.isascii() and declared.isdigit() and int(declared[:12]) > MAX_ANSWER_BYTES:
            raise too_big
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=READ_CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)
    except requests.RequestException as exc:  # the connection broke while the body came
        reason = type(exc).__name__
        raise ApiError(f"no complete answer from the API ({reason})", method=method, path=path, network=True) from None
    finally:
        response.close()


def _decoded(response: requests.Response, content: bytes, method: str, path: str) -> Any:
    status = response.status_code
    try:
        data = json.loads(content) if content else None
    except ValueError:
        data = None  # a proxy's HTML error page, say
        if 200 <= status < 300:
            message = "the API answered something that is not JSON"
            raise ApiError(message, status=status, method=method, path=path) from None
    if 200 <= status < 300:
        check_answer(method, path, data, status)
        return data
    # An error's fields are read only where they are strings: an answer of any other shape is still an error.
    body = {key: value for key, value in data.items() if isinstance(value, str)} if isinstance(data, dict) else {}
    if isinstance(data, dict) and isinstance(data.get("details"), dict):
        body["details"] = data["details"]
    text = content.decode("utf-8", "replace").strip()
    message = body.get("message") or text[:200] or response.reason or "no message"
    error = _error_type(status, body)(
        message,
        status=status,
        error_class=body.get("class") or body.get("errorCode"),
        query_id=response.headers.get("X-Ovh-QueryID"),
        method=method,
        path=path,
        retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
    )
    if isinstance(error, NotGranted):
        error.iam_action = _iam_action(_details(body).get(IAM_DETAIL))
        error.rules_action = _iam_action(_details(body).get(RULES_DETAIL))
        error.access_rule = rule_for(method, path)
    raise error


def prepare_session(session: requests.Session, url: str, parallelism: int) -> None:
    """Size the connection pool for the caller's threads, and read the environment's proxy and CA settings once.

    requests otherwise re-reads them (and ~/.netrc) on every call: most of a call's CPU time in a large fleet.
    python-ovh signs each request itself, so netrc credentials never apply here anyway.
    """
    session.stream = True  # bodies are read by Api, a chunk at a time, up to MAX_ANSWER_BYTES
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, parallelism))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    environment = session.merge_environment_settings(url, {}, None, None, None)
    session.trust_env = False
    session.proxies.update(environment["proxies"])
    session.verify = environment["verify"]

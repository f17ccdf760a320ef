"""Injected faults, so the client side can be tested against a misbehaving API.

- latency: every request sleeps `latency_ms` first (holding no lock).
- rate limit: a token bucket of `rate_limit` requests per second per consumer key (burst: one second's worth, and
  at least one request, so a rate below 1 per second still lets a request through now and then);
  beyond it, 429 with Retry-After in whole seconds. Unsigned calls (/auth/time) are not counted.
- random errors: each request fails with 500, 502 or 503 with probability `error_rate`. Most fail BEFORE the request
  is executed; but a share (`after_write_share`, default one half) of those that hit a POST or PUT are answered
  AFTER the change was committed, as when a gateway times out on a call that went through: the client cannot tell
  whether its write happened and has to read back.
- busy writes: the first `busy_writes` signed POST or PUT requests of the process are refused with 409
  `Client::Conflict::<busy_class>` (ServiceOnlyOneModification, ServiceLocked, ...), before they run.
- refused permissions: a request whose IAM action (the API description's `x-iam-actions`) is in `iam_denied`
  (e.g. `publicCloudProject:apiovh:kube/reset`) is refused with 403 `Client::Forbidden` and the action in
  `details.unauthorizedActionsByIAM`; one in `access_rules_denied` (outside the consumer key's access rules) in
  `details.unauthorizedActionsByAuthentication`. The details carry both fields, the other one empty, as OVHcloud's
  IAM guide and go-ovh's tests show.
- failed upgrades: an upgrade (POST update) of a cluster named in `failed_upgrades` is accepted and its control plane
  moves to the new version, but its nodes do not come back: once the upgrade's transition is over the cluster reads
  ERROR, for as long as the sandbox is served with the option (served again without it, the cluster reads READY: the
  fault is cleared, as support would repair it).
- unready API servers: the API server of a cluster named in `unready_api_servers` (the URL a kubeconfig of the
  sandbox names) answers /readyz with 503, as one whose etcd is failing.
`random_seed` makes the sequence of draws reproducible (per process; threads draw from one generator).
"""

import math
import random
import threading
import time
from dataclasses import dataclass

SERVER_ERRORS = {
    500: ("Server::InternalServerError", "Internal server error"),
    502: ("Server::BadGateway", "Bad gateway"),
    503: ("Server::ServiceUnavailable", "Service temporarily unavailable"),
}


@dataclass(frozen=True)
class FaultOptions:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit: float = 0.0  # requests per second per consumer key; 0: unlimited
    random_seed: int | None = None
    after_write_share: float = 0.5
    busy_writes: int = 0
    busy_class: str = "ServiceOnlyOneModification"
    iam_denied: tuple[str, ...] = ()
    access_rules_denied: tuple[str, ...] = ()
    failed_upgrades: tuple[str, ...] = ()  # cluster names whose upgrade leaves them ERROR
    unready_api_servers: tuple[str, ...] = ()  # cluster names whose API server answers /readyz with 503


BUSY_MESSAGES = {
    "ServiceOnlyOneModification": "You can only ask for one modification at a time",
    "ServiceLocked": "The service is locked",
    "ServiceNotReady": "The service is not ready",
}


@dataclass(frozen=True)
class InjectedError:
    status: int
    after_execution: bool

    @property
    def error_class(self) -> str:
        return SERVER_ERRORS[self.status][0]

    @property
    def message(self) -> str:
        return SERVER_ERRORS[self.status][1] + " (injected by the sandbox)"


class Faults:
    def __init__(self, options: FaultOptions, clock=time.monotonic):
        self.options = options
        self._clock = clock
        self._random = random.Random(options.random_seed)
        self._random_lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # consumer key -> (tokens, last refill time)
        self._bucket_lock = threading.Lock()
        self._busy_left = options.busy_writes

    def delay(self) -> None:
        if self.options.latency_ms > 0:
            time.sleep(self.options.latency_ms / 1000)

    def retry_after(self, consumer_key: str | None) -> int | None:
        """None if the request may go on; else the seconds to announce in Retry-After."""
        rate = self.options.rate_limit
        if rate <= 0 or not consumer_key:
            return None
        burst = max(1.0, rate)
        with self._bucket_lock:
            now = self._clock()
            tokens, last = self._buckets.get(consumer_key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[consumer_key] = (tokens - 1, now)
                return None
            self._buckets[consumer_key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / rate))

    def injected_error(self, method: str) -> InjectedError | None:
        if self.options.error_rate <= 0:
            return None
        with self._random_lock:
            if self._random.random() >= self.options.error_rate:
                return None
            status = self._random.choice(sorted(SERVER_ERRORS))
            after = method in ("POST", "PUT") and self._random.random() < self.options.after_write_share
        return InjectedError(status, after)

    def busy_class(self, method: str) -> str | None:
        """The conflict class to refuse this write with, while busy writes are left; None otherwise."""
        if method not in ("POST", "PUT"):
            return None
        with self._random_lock:
            if self._busy_left <= 0:
                return None
            self._busy_left -= 1
        return self.options.busy_class

    def refused_by(self, actions: tuple[str, ...]) -> dict[str, str] | None:
        """The 403's details when one of the call's IAM actions is refused (the consumer key's access rules are
        checked first); None when the call is allowed."""
        for field, denied in (
            ("unauthorizedActionsByAuthentication", self.options.access_rules_denied),
            ("unauthorizedActionsByIAM", self.options.iam_denied),
        ):
            refused = [action for action in actions if action in denied]
            if refused:
                empty = {"unauthorizedActionsByAuthentication": "", "unauthorizedActionsByIAM": ""}
                return empty | {field: ", ".join(refused)}
        return None

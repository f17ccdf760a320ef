"""Errors the engine raises and the exit codes they end in, with no dependency: any module may import them without
loading ovh or requests.

`UserError` is a problem the user can fix (a bad option, a file that is not there); the CLI prints it as one line.
`ApiError` and its kinds are what an API call can end in; reconciler.live.client raises them.
`ExitCode` is the one list of exit codes; reconciler.cli.main maps errors to them, in one place.
"""

from enum import IntEnum

# The errorCode values of OVH auth failures that a key or secret would fix (python-ovh, go-ovh).
CREDENTIAL_ERROR_CODES = frozenset({"INVALID_KEY", "INVALID_CREDENTIAL", "NOT_CREDENTIAL", "INVALID_SIGNATURE"})
CREDENTIAL_HINT = "set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (or write them in ovh.conf)"
# A wrong signature is a 400; the API also answers it to some malformed requests (python-ovh issue #103).
SIGNATURE_HINT = (
    "check OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (or ovh.conf); the API answers this to some malformed "
    "requests too"
)


class ExitCode(IntEnum):
    """What scripts see. 2 means only "changes" (plan --detailed-exitcode) or "drift": never an error, so a typo in
    a cron job's options cannot read as drift. Every error, usage errors included, is 1."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    DRIFT = 2  # the same code: drift is what a plan of the drifted clusters would change
    INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
    TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM (how CI cancels a job): stop as Ctrl-C does, without waiting for what is in flight; exit 143."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the apply is stopping. A wait ends, and a request still waiting for its slot in the request
    budget is not sent; the cluster goes on converging on its own."""


class UserError(Exception):
    """A problem the user can fix, said in one line; the CLI prints it and exits 1."""


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
        """True when the request may have been executed although it failed: a network failure, a 5xx, or a 2xx
        whose answer cannot be read (a proxy's HTML page after the API did the work)."""
        return self.network or (self.status is not None and (self.status >= 500 or 200 <= self.status < 300))

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
        if self.status == 400:  # an invalid signature
            return f"{super().__str__()}; {SIGNATURE_HINT}"
        return f"{super().__str__()}; {CREDENTIAL_HINT}"


class NotGranted(ApiError):
    """The credentials are right but may not make this call: the consumer key's access rules (NOT_GRANTED_CALL, or
    403 Client::Forbidden naming the action in details.unauthorizedActionsByAuthentication), or an IAM policy (the
    action in details.unauthorizedActionsByIAM)."""

    iam_action: str | None = None  # the action(s) no IAM policy grants, when the answer names them
    rules_action: str | None = None  # the action(s) the consumer key's access rules lack, when the answer names them
    access_rule: str | None = None  # the `ovhkube access-rules` rule that allows this call, as that command prints it

    def __str__(self) -> str:
        if self.iam_action:
            return f"{super().__str__()}; no IAM policy grants {self.iam_action}: add it to a policy for this user"
        lacking = f" {self.rules_action}" if self.rules_action else " this call"
        rule = f" ({self.access_rule} in `ovhkube access-rules`)" if self.access_rule else ""
        return f"{super().__str__()}; the consumer key's access rules do not allow{lacking}{rule}: create one that does"


class ServiceExpired(ApiError):
    """460: the Public Cloud project's service has expired."""

    def __str__(self) -> str:
        return f"{super().__str__()}; the project's Public Cloud service has expired: renew it, then run again"


class RateLimited(ApiError):
    pass


class ReadOnlyError(ApiError):
    """A change asked for through a read-only Api; nothing was sent."""

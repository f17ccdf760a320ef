"""Failures with one cause for the whole run (the credentials, the key's access rules, an unseeded sandbox): said
once, with what to do, instead of once per cluster."""

from reconciler.errors import CREDENTIAL_ERROR_CODES, CREDENTIAL_HINT, SIGNATURE_HINT, ApiError, NotGranted

# python-ovh's names for refused credentials (ovh/exceptions.py); the API answers them with 400, 401 or 403.
ACCESS_RULES_HINT = (
    "the consumer key's access rules do not allow this call: create a key with the rules `ovhkube access-rules` "
    "prints (--read-only is enough for plan, drift and export)"
)
SEED_HINT = (
    "the sandbox does not know these projects: seed it first, e.g. `ovhkube sandbox seed examples/sandbox-seed.yaml`"
)


def one_cause(failures: dict[str, ApiError], projects: int, sandbox: bool) -> str | None:
    """The one line to say instead of an error per cluster, when the failures to list projects share a cause that
    is not the projects' own; None otherwise."""
    if not failures:
        return None
    first = next(iter(failures.values()))
    classes = {failure.error_class for failure in failures.values()}
    if any(f.status == 401 or f.error_class in CREDENTIAL_ERROR_CODES for f in failures.values()):
        hint = SIGNATURE_HINT if first.status == 400 else CREDENTIAL_HINT  # 400: a signature the API refused
        return f"the API refused the credentials ({_what(first)}); {hint}"
    # A key or a policy may grant some projects and not others: only a refusal of every project is the run's cause;
    # otherwise the refused projects' clusters fail each with its error, and the others are planned.
    everywhere = len(failures) == projects
    if everywhere and classes == {"NOT_GRANTED_CALL"}:
        return f"{_what(first)}: {ACCESS_RULES_HINT}"
    if everywhere and all(isinstance(f, NotGranted) and (f.iam_action or f.rules_action) for f in failures.values()):
        return str(first)  # an IAM policy or the key's access rules lack the action: the error names it
    if sandbox and len(failures) == projects and all(f.status == 404 for f in failures.values()):
        return f"{_what(first)}: {SEED_HINT}"
    return None


def _what(error: ApiError) -> str:
    """The error without the hint its class may add (the caller gives the hint)."""
    return ApiError.__str__(error)

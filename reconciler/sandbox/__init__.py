"""The sandbox: a local emulator of the OVHcloud Managed Kubernetes API, served over HTTP from a SQLite state.

Modules, one job each: state (the SQLite store), clusters (what each call does to a cluster), bodies (what the
real API refuses), auth (request signatures), faults (latency, random 5xx, rate limit), server (HTTP and
routing), seed (seed files in, `sandbox show` out). docs/sandbox.md says what is emulated and what is not.
"""

import os
from pathlib import Path

DEFAULT_APPLICATION_KEY = "sandbox-ak"
DEFAULT_APPLICATION_SECRET = "sandbox-as"
DEFAULT_CONSUMER_KEY = "sandbox-ck"
DEFAULT_CLIENT_ID = "sandbox-client-id"  # the OAuth2 service account every sandbox knows
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"


def default_state_path() -> Path:
    return Path(os.environ.get("OVHKUBE_SANDBOX_STATE") or ".ovhkube/sandbox.sqlite3")


# The other reading of a customization PUT (it replaces the whole customization), for sandboxes started without an
# explicit choice: the embedded one, `sandbox serve`, the test suite's (docs/sandbox.md).
PUT_REPLACES_ENV = "OVHKUBE_SANDBOX_PUT_REPLACES_CUSTOMIZATION"


def put_replaces_customization() -> bool:
    return os.environ.get(PUT_REPLACES_ENV, "").lower() not in ("", "0", "false", "no")

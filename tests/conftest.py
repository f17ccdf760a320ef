"""Fixtures shared by the whole test suite: a real sandbox API server, and the real CLI as a subprocess.

- `sandbox_factory(**options)` starts a sandbox in a thread of this process, on a free loopback port, over a state
  file in tmp_path; options: latency_ms, error_rate, rate_limit, random_seed, busy_writes, busy_class, iam_denied,
  access_rules_denied, failed_upgrades, unready_api_servers,
  transition_seconds (default 0, so clusters are READY at once), state (a path), expand_lists,
  max_clusters_per_project, reset_status, create_hidden_seconds, show_late_seconds, reset_delay_seconds,
  null_customization, put_replaces_customization (default: $OVHKUBE_SANDBOX_PUT_REPLACES_CUSTOMIZATION). Every sandbox
  it started is stopped at teardown.
  Each logs its requests: `.requests()` lists them (method, path, status, expanded).
- `sandbox`: one with the defaults.
- `run_ovhkube(*args, env=None, input=None, timeout=120, cwd=None)`: runs `ovhkube` in a subprocess.
"""

import os
import subprocess
import sys
from pathlib import Path

import ovh
import pytest
from lossy_gateway import LossyGateway

from reconciler.commands.connect import register_endpoint
from reconciler.sandbox import (
    DEFAULT_APPLICATION_KEY,
    DEFAULT_APPLICATION_SECRET,
    DEFAULT_CONSUMER_KEY,
    put_replaces_customization,
)
from reconciler.sandbox.clusters import Behaviour
from reconciler.sandbox.faults import FaultOptions
from reconciler.sandbox.requestlog import read_request_log
from reconciler.sandbox.seed import load_seed, show
from reconciler.sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parent.parent
SANDBOX_CREDENTIALS = {
    "OVH_APPLICATION_KEY": DEFAULT_APPLICATION_KEY,
    "OVH_APPLICATION_SECRET": DEFAULT_APPLICATION_SECRET,
    "OVH_CONSUMER_KEY": DEFAULT_CONSUMER_KEY,
}


class RunningSandbox:
    """A started sandbox: `.url`, `.state`, `.seed()`, `.show()`, `.env()`, `.client()`, `.stop()`."""

    def __init__(
        self,
        state: Path,
        *,
        latency_ms: float = 0,
        error_rate: float = 0,
        rate_limit: float = 0,
        random_seed: int | None = None,
        transition_seconds: float = 0,
        expand_lists: bool = True,
        max_clusters_per_project: int = 20,
        busy_writes: int = 0,
        busy_class: str = "ServiceOnlyOneModification",
        iam_denied: tuple[str, ...] = (),
        access_rules_denied: tuple[str, ...] = (),
        failed_upgrades: tuple[str, ...] = (),
        unready_api_servers: tuple[str, ...] = (),
        **behaviour,  # the rest of sandbox.clusters.Behaviour: reset_status, show_late_seconds...
    ):
        # The whole suite runs under either reading of a customization PUT: $OVHKUBE_SANDBOX_PUT_REPLACES_CUSTOMIZATION
        # (inherited by the CLI's embedded sandboxes too) picks the other one.
        behaviour.setdefault("put_replaces_customization", put_replaces_customization())
        self.state = Path(state)
        self.transition_seconds = transition_seconds
        self.request_log = self.state.with_suffix(".requests.jsonl")
        faults = FaultOptions(
            latency_ms, error_rate, rate_limit, random_seed, busy_writes=busy_writes, busy_class=busy_class,
            iam_denied=iam_denied, access_rules_denied=access_rules_denied, failed_upgrades=failed_upgrades,
            unready_api_servers=unready_api_servers,
        )  # fmt: skip
        self.server = SandboxServer(
            self.state,
            faults=faults,
            behaviour=Behaviour(transition_seconds, max_clusters_per_project, **behaviour),
            expand_lists=expand_lists,
            request_log=self.request_log,
            check_answers=True,  # every answer of every test is held to the API's description
        ).start()
        self.url = self.server.url
        self._stopped = False
        self._forgotten = 0

    def seed(self, data_or_path) -> int:
        """Load a seed (a dict in the seed's shape, or a YAML file) into this sandbox's state."""
        return load_seed(self.server.state, data_or_path)

    def show(self) -> dict:
        """The state as `ovhkube sandbox show` prints it (clusters as the API shows them, plus `resets`)."""
        return show(self.server.state, self.transition_seconds)

    def requests(self) -> list[dict]:
        """Every request this sandbox answered so far (or since `forget_requests()`), oldest first."""
        return read_request_log(self.request_log)[self._forgotten :]

    def forget_requests(self) -> None:
        """Start counting afresh (say, after the setup of a test)."""
        self._forgotten = len(read_request_log(self.request_log))

    def env(self, **extra: str) -> dict:
        """Environment for a CLI subprocess talking to this sandbox; applies against it share one workspace lock,
        beside its state (tests run in parallel from one folder: the default `.ovhkube/apply.lock` would be shared)."""
        lock = str(self.state.with_name(self.state.name + ".apply.lock"))
        environment = {**os.environ, "OVH_ENDPOINT": self.url, **SANDBOX_CREDENTIALS, "NO_COLOR": "1"}
        # The sandbox shows every accepted request at once, so apply's settle window (5 s of looking again before
        # deciding a request did not happen) only costs time here; 1 s still runs every branch that waits on it.
        # Likewise the time a new cluster may stay invisible (120 s), unless a test's sandbox hides it longer.
        windows = {"OVHKUBE_SETTLE_SECONDS": "1", "OVHKUBE_CREATED_VISIBLE_SECONDS": "1"}
        return environment | {"OVHKUBE_LOCK_FILE": lock} | windows | extra

    def client(self, **credentials) -> ovh.Client:
        """A real ovh.Client signed for this sandbox, to act behind ovhkube's back (keyword args override keys)."""
        keys = {
            "application_key": DEFAULT_APPLICATION_KEY,
            "application_secret": DEFAULT_APPLICATION_SECRET,
            "consumer_key": DEFAULT_CONSUMER_KEY,
        } | credentials
        return ovh.Client(register_endpoint(self.url), **keys)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.server.stop()


@pytest.fixture
def sandbox_factory(tmp_path):
    started: list[RunningSandbox] = []

    def start(state: Path | str | None = None, **options) -> RunningSandbox:
        running = RunningSandbox(Path(state) if state else tmp_path / f"sandbox-{len(started)}.sqlite3", **options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def sandbox(sandbox_factory) -> RunningSandbox:
    return sandbox_factory()


@pytest.fixture
def run_ovhkube(tmp_path):
    def run(*args, env: dict | None = None, input: str | None = None, timeout: float = 120, cwd=None):
        environment = dict(os.environ if env is None else env)
        environment.setdefault("NO_COLOR", "1")
        # `--endpoint sandbox` must never write its state into the repository.
        environment.setdefault("OVHKUBE_SANDBOX_STATE", str(tmp_path / "embedded-sandbox.sqlite3"))
        environment.setdefault("OVHKUBE_LOCK_FILE", str(tmp_path / "apply.lock"))
        command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", *map(str, args)]
        return subprocess.run(
            command,
            env=environment,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or REPO,
        )

    return run


@pytest.fixture
def through_gateway():
    """start(sandbox, rules) -> (gateway, env): the CLI's requests go through a LossyGateway (tests/lossy_gateway.py)
    that loses, refuses or hides the requests the rules name."""
    gateways = []

    def start(sandbox, rules):
        gateway = LossyGateway(sandbox.url, rules)
        gateways.append(gateway)
        return gateway, sandbox.env(OVH_ENDPOINT=gateway.url)

    yield start
    for gateway in gateways:
        gateway.stop()

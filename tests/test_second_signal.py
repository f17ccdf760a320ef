"""A signal in apply's narrow windows: a second Ctrl-C or SIGTERM right behind the first (a key pressed twice, a CI
runner that signals twice), or the first as a cluster is handed to its thread. Apply still gives back the account of
every cluster, and a cluster whose request is on the wire is never said to be not started."""

import os
import signal
import threading

import pytest
from apply_helpers import PROJECT

from reconciler.apply.result import ApplyOptions, Result
from reconciler.apply.run import apply_plan
from reconciler.model import ClusterRef
from reconciler.plan.data import Action, Change, Plan
from reconciler.signals import sigterm_as_interrupt
from reconciler.steps import ClusterTarget, Step, StepKind
from reconciler.workers import Workers


class _SignalsAgainOnClose:
    """The run's request budget, closed by the first signal; the second one lands as it is closed."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.closed = 0

    def close(self) -> None:
        self.closed += 1
        if self.closed == 1:
            os.kill(os.getpid(), self.signum)


class _HeldApi:
    """Every request reaches the wire and waits there for its answer (an API slow to answer)."""

    def __init__(self, signum: int) -> None:
        self.budget = _SignalsAgainOnClose(signum)
        self.on_the_wire = threading.Event()
        self.released = threading.Event()

    def _held(self, *args, **kwargs):
        self.on_the_wire.set()
        self.released.wait(10)
        raise RuntimeError("answered after the test")

    get = get_with_headers = put = post = delete = _held


@pytest.fixture
def ctrl_c_raises():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("first, second", [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM)])
def test_a_second_signal_as_apply_stops_still_gives_the_account(ctrl_c_raises, first, second):
    ref = ClusterRef(PROJECT, "web", "6f3c1a52-0000-4c1e-9a55-000000000001", "GRA5")
    step = Step(StepKind.RENAME, ClusterTarget(PROJECT, ref.id), {"name": "web"})
    plan = Plan([Change(ref, Action.UPDATE, "fleet.yaml:1", steps=[step], status="READY")], "sandbox")
    api = _HeldApi(second)
    timer = threading.Thread(target=lambda: api.on_the_wire.wait(10) and os.kill(os.getpid(), first))
    try:
        with sigterm_as_interrupt():
            timer.start()
            try:
                report = apply_plan(api, plan, ApplyOptions(), lambda ref, text: None)  # type: ignore[arg-type]
            except KeyboardInterrupt:
                pytest.fail("the second signal ended apply with no account of what it sent")
    finally:
        api.released.set()
        timer.join()

    assert api.budget.closed >= 1
    assert report.interrupted and report.terminated == (first == signal.SIGTERM)
    [web] = report.outcomes
    assert web.result is Result.INTERRUPTED and "its result is unknown" in web.reason


def test_a_signal_as_a_cluster_is_handed_to_its_thread_does_not_say_it_was_not_started(ctrl_c_raises, monkeypatch):
    """The signal lands in the pool's submit, once the cluster's thread has its request on the wire: that cluster's
    future never reaches apply's books, the cluster all the same."""
    api = _HeldApi(signal.SIGINT)
    api.budget.closed = 1  # one signal only

    class SignalledAsSubmitted(Workers):
        def submit(self, fn, /, *args, **kwargs):
            future = super().submit(fn, *args, **kwargs)
            api.on_the_wire.wait(10)
            os.kill(os.getpid(), signal.SIGINT)
            return future

    monkeypatch.setattr("reconciler.apply.run.Workers", SignalledAsSubmitted)
    ref = ClusterRef(PROJECT, "web", "6f3c1a52-0000-4c1e-9a55-000000000001", "GRA5")
    step = Step(StepKind.RENAME, ClusterTarget(PROJECT, ref.id), {"name": "web"})
    plan = Plan([Change(ref, Action.UPDATE, "fleet.yaml:1", steps=[step], status="READY")], "sandbox")
    try:
        with sigterm_as_interrupt():
            report = apply_plan(api, plan, ApplyOptions(), lambda ref, text: None)  # type: ignore[arg-type]
    finally:
        api.released.set()

    [web] = report.outcomes
    assert report.interrupted and web.result is Result.INTERRUPTED, web
    assert "its result is unknown" in web.reason

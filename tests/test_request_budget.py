"""The request budget every thread shares (--max-requests-per-second): a rate held under many threads, a 429 that
pauses everyone instead of a stampede, a limit that slows a plan but never fails it, and the -v account."""

import contextlib
import itertools
import threading
import time

import pytest

from reconciler.commands.connect import open_api
from reconciler.commands.settings import Settings
from reconciler.live.budget import RequestBudget, polling
from tests.test_request_counts import fleet, seed_projects

PROJECT = "0123456789abcdef0123456789abcdef"
KUBE = f"/cloud/project/{PROJECT}/kube"


def in_threads(count: int, work) -> None:
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def sandbox_keys(monkeypatch):
    """The sandbox's keys in the environment, where open_api reads them as python-ovh does."""
    for name, value in {"OVH_APPLICATION_KEY": "sandbox-ak", "OVH_APPLICATION_SECRET": "sandbox-as"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OVH_CONSUMER_KEY", "sandbox-ck")


def seed_empty(sandbox) -> None:
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": []}]})


def test_the_budget_holds_its_rate_under_30_threads(sandbox, sandbox_keys):
    seed_empty(sandbox)
    rate, per_thread = 40.0, 2
    with open_api(Settings(endpoint=sandbox.url, max_requests_per_second=rate), parallelism=30) as api:
        sandbox.forget_requests()
        in_threads(30, lambda: [api.get(KUBE) for _ in range(per_thread)])
    times = sorted(entry["time"] for entry in sandbox.requests())
    assert len(times) == 30 * per_thread
    measured = (len(times) - 1) / (times[-1] - times[0])
    assert abs(measured - rate) / rate <= 0.10, measured


def test_a_429_pauses_every_worker_instead_of_a_stampede(sandbox_factory, sandbox_keys):
    sandbox = sandbox_factory(rate_limit=20)
    seed_empty(sandbox)
    with open_api(Settings(endpoint=sandbox.url), parallelism=30) as api:
        sandbox.forget_requests()
        started = time.monotonic()
        in_threads(30, lambda: [api.get(KUBE) for _ in range(3)])  # 90 reads, 30 at once, 20 allowed a second
        elapsed = time.monotonic() - started
    logged = sandbox.requests()
    assert [entry["status"] for entry in logged].count(200) == 90
    refused = [entry["time"] for entry in logged if entry["status"] == 429]
    # The requests on the wire when the first refusal came meet the limit too; once everyone has paused (Retry-After:
    # 1 s), the rest goes at the pace the API accepted: at most a stray refusal, not a wave of them.
    assert 0 < len(refused) <= 30
    assert len([moment for moment in refused if moment > refused[0] + 1.0]) <= 2, refused
    assert elapsed < 10


def test_a_low_limit_slows_a_plan_but_never_fails_it_and_v_accounts_for_it(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(rate_limit=2)
    seed_projects(sandbox)
    files = fleet(tmp_path)
    env = sandbox.env(OVHKUBE_MAX_RPS="2")

    result = run_ovhkube("plan", files, "-v", "--parallelism", "30", env=env)

    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout
    account = result.stderr.strip().splitlines()[-1]
    # Three listings, three projects' descriptions and the clock.
    assert account.startswith("requests: 7 (GET 7); 0 retries (0 refused with 429); "), account
    assert account.endswith(" s waiting on the request budget")
    assert [entry["status"] for entry in sandbox.requests()].count(429) == 0


def test_the_limit_is_a_global_option_that_works_after_the_command_too(sandbox, run_ovhkube, tmp_path):
    seed_projects(sandbox)
    started = time.monotonic()

    result = run_ovhkube("plan", fleet(tmp_path), "--max-requests-per-second", "2", "-v", env=sandbox.env())

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 2.9  # 7 requests at 2 a second: the last starts 3 s after the first
    assert result.stderr.strip().splitlines()[-1].startswith("requests: 7 (GET 7); 0 retries")


def rounds(moments: list[float], gap: float) -> list[int]:
    """How many moments each burst holds, bursts being apart by more than `gap` seconds."""
    sizes = [1]
    for before, after in itertools.pairwise(moments):
        if after - before > gap:
            sizes.append(0)
        sizes[-1] += 1
    return sizes


def one_read_a_thread(sandbox, threads: int) -> list[dict]:
    """`threads` threads of one run (one Api, --parallelism 30) each list the project once: the sandbox's log."""
    seed_empty(sandbox)
    with open_api(Settings(endpoint=sandbox.url), parallelism=30) as api:
        sandbox.forget_requests()
        in_threads(threads, lambda: api.get(KUBE))
    return sandbox.requests()


def test_a_run_ramps_up_in_rounds_instead_of_a_first_wave_of_every_worker(sandbox_factory, sandbox_keys):
    # Slow start: an API limit nobody configured meets three requests, then nine..., not 30 at once. Each answer
    # takes 100 ms and the next round starts when the last answer of this one is in, so the rounds stand apart.
    logged = one_read_a_thread(sandbox_factory(latency_ms=100), threads=30)
    answered = sorted(entry["time"] for entry in logged if entry["status"] == 200)
    assert rounds(answered, gap=0.05) == [3, 9, 18], answered


def test_a_limit_nobody_configured_costs_one_refusal_not_a_wave(sandbox_factory, sandbox_keys):
    # 2 requests a second, with a burst of 2: the first round of three meets the limit once; every thread pauses,
    # and the rest goes below the pace the API was seen to accept.
    statuses = [entry["status"] for entry in one_read_a_thread(sandbox_factory(rate_limit=2), threads=8)]
    assert statuses.count(200) == 8
    assert statuses.count(429) == 1, statuses


def test_the_pace_a_429_taught_rises_again_while_nothing_is_refused():
    # One early estimate must not hold a long apply below the API's limit for good: +5% every 10 s.
    now = [0.0]
    budget = RequestBudget(clock=lambda: now[0], sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    for _ in range(2):  # two answers in the second before the refusal
        budget.acquire()
        budget.release(accepted=True)
    budget.acquire()
    budget.release(accepted=False)
    budget.refused(retry_after=1.0)  # 70% of 2 a second: 1.4 a second

    def gap_between_two_requests() -> float:
        budget.acquire()
        budget.release(accepted=True)
        first = now[0]
        budget.acquire()
        budget.release(accepted=True)
        return now[0] - first

    assert gap_between_two_requests() == pytest.approx(1 / 1.4, rel=0.02)
    now[0] += 100.0  # 100 s without a refusal: ten periods of +5%
    assert gap_between_two_requests() == pytest.approx(1 / (1.4 * 1.05**10), rel=0.02)


def test_an_apply_under_a_limit_nobody_configured_has_few_refusals(sandbox_factory, run_ovhkube, tmp_path):
    # 20 clusters, 5 requests a second with a burst of 5, 30 workers: the writes ramp up by seconds and a request
    # waiting for its slot when a 429 comes takes another after the pause; rounds of 9 at once had 6 refused of 55.
    from tests.apply_helpers import IPTABLES_60S, apply_json

    sandbox = sandbox_factory(rate_limit=5, transition_seconds=1)
    seed_projects(sandbox, per_project=10)
    files = fleet(tmp_path, per_project=10, kube_proxy=IPTABLES_60S, only={(p, n) for p in (0, 1) for n in range(10)})
    sandbox.forget_requests()

    result, account = apply_json(run_ovhkube, sandbox, files, "--auto-approve", "--parallelism", "30")

    assert result.returncode == 0, result.stderr
    assert len(account["clusters"]) == 20 and all(c["verified"] for c in account["clusters"])
    signed = [entry for entry in sandbox.requests() if entry["path"] != "/auth/time"]
    refused = [entry for entry in signed if entry["status"] == 429]
    assert len(refused) < 0.05 * len(signed), (len(refused), len(signed))


def test_a_request_waiting_for_its_slot_when_a_429_comes_waits_for_the_pause():
    now = [0.0]
    budget = RequestBudget(clock=lambda: now[0], sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    budget.by_time()  # 9 a second: slots 1/9 s apart
    budget.acquire()
    budget.release(accepted=True)
    # A second request takes its slot; before it is sent, another thread hears a 429 asking for 2 s.
    slot_taken = budget._next
    real_sleep = budget._sleep

    def refused_meanwhile(seconds: float) -> None:
        budget.refused(retry_after=2.0)
        budget._sleep = real_sleep
        real_sleep(seconds)

    budget._sleep = refused_meanwhile
    budget.acquire()
    assert slot_taken < 1.0 and now[0] >= 2.0  # sent after the pause, not at its slot


def test_a_freed_place_on_the_wire_goes_to_a_write_before_a_poll_that_waited_longer():
    budget = RequestBudget(max_window=1)
    budget.by_time()
    budget._ramp = None  # no pace: only the place on the wire is contended
    order: list[str] = []
    budget.acquire()  # the one place, taken

    def send(what: str) -> None:
        with polling() if what == "poll" else contextlib.nullcontext():
            budget.acquire()
        order.append(what)
        budget.release(accepted=True)

    poll = threading.Thread(target=send, args=("poll",))
    poll.start()
    time.sleep(0.2)  # the poll waits first
    write = threading.Thread(target=send, args=("write",))
    write.start()
    time.sleep(0.2)
    budget.release(accepted=True)
    for thread in (poll, write):
        thread.join(timeout=5)
    assert order == ["write", "poll"]


def test_a_poll_waits_for_no_one_when_nothing_else_waits():
    budget = RequestBudget(max_window=1)
    budget.by_time()
    with polling():
        assert budget.acquire() < 0.2
    budget.release(accepted=True)

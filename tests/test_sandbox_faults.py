"""Injected faults appear at the configured rates (fixed random seeds: the counts are reproducible)."""

import time

import ovh
import pytest
import requests

PROJECT = "0123456789abcdef0123456789abcdef"
KUBE = f"/cloud/project/{PROJECT}/kube"
CLUSTER_ID = "6f3c1a52-0000-4c1e-9a55-000000000001"
CLUSTER = f"{KUBE}/{CLUSTER_ID}"
SEED = {"projects": [{"serviceName": PROJECT, "clusters": [{"id": CLUSTER_ID, "name": "alpha", "region": "GRA5"}]}]}


def statuses(client: ovh.Client, count: int, call=lambda c: c.get(KUBE)) -> list[int]:
    seen = []
    for _ in range(count):
        try:
            call(client)
            seen.append(200)
        except ovh.exceptions.APIError as error:
            seen.append(error.response.status_code)
    return seen


def test_random_server_errors_come_at_the_configured_rate_with_ovh_bodies(sandbox_factory):
    sandbox = sandbox_factory(error_rate=0.3, random_seed=11)
    sandbox.seed(SEED)
    seen = statuses(sandbox.client(), 400)
    failures = [status for status in seen if status != 200]
    assert 80 <= len(failures) <= 160  # expected 120
    assert set(failures) == {500, 502, 503}
    raw = requests.get(sandbox.url + KUBE, timeout=5)  # unsigned: an injected error comes before authentication
    assert raw.status_code in (403, 500, 502, 503) and "message" in raw.json()


def test_the_random_seed_makes_the_faults_reproducible(sandbox_factory):
    runs = []
    for _ in range(2):
        sandbox = sandbox_factory(error_rate=0.5, random_seed=5)
        sandbox.seed(SEED)
        runs.append(statuses(sandbox.client(), 40))
        sandbox.stop()
    assert runs[0] == runs[1] and len(set(runs[0])) > 1


def test_a_share_of_failed_writes_did_happen(sandbox_factory):
    sandbox = sandbox_factory(error_rate=1.0, random_seed=2)
    sandbox.seed(SEED)
    landed = 0
    for attempt in range(40):
        period = f"PT{attempt + 10}S"
        body = {"kubeProxy": {"iptables": {"syncPeriod": period}}}
        with pytest.raises(ovh.exceptions.APIError) as caught:
            sandbox.client().call("PUT", f"{CLUSTER}/customization", body)
        assert caught.value.response.status_code >= 500
        customization = sandbox.show()["projects"][0]["clusters"][0]["customization"] or {}
        landed += customization.get("kubeProxy", {}).get("iptables", {}).get("syncPeriod") == period
    assert 8 <= landed <= 32  # half of them, expected 20


def test_latency_is_added_to_every_request(sandbox_factory):
    sandbox = sandbox_factory(latency_ms=80)
    sandbox.seed(SEED)
    client = sandbox.client()
    client.get(KUBE)  # learns the clock offset
    started = time.monotonic()
    client.get(KUBE)
    assert 0.08 <= time.monotonic() - started < 0.5


def test_over_the_rate_limit_the_answer_is_429_with_retry_after(sandbox_factory):
    sandbox = sandbox_factory(rate_limit=5)
    sandbox.seed(SEED)
    client = sandbox.client()
    seen, retry_after = [], None
    for _ in range(12):
        try:
            client.get(KUBE)
            seen.append(200)
        except ovh.exceptions.APIError as error:
            seen.append(error.response.status_code)
            retry_after = error.response.headers["Retry-After"]
    assert seen[:5] == [200] * 5  # a one-second burst is allowed
    assert seen.count(429) >= 5
    assert int(retry_after) >= 1
    time.sleep(1.0)
    assert client.get(KUBE) == [CLUSTER_ID]


def test_a_rate_below_one_per_second_still_lets_requests_through():
    from reconciler.sandbox.faults import FaultOptions, Faults

    now = [0.0]
    faults = Faults(FaultOptions(rate_limit=0.5), clock=lambda: now[0])
    assert faults.retry_after("ck") is None  # the first request passes
    assert faults.retry_after("ck") == 2  # the next one in 2 s (one request per 2 s)
    now[0] = 2.0
    assert faults.retry_after("ck") is None

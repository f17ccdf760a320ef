"""reconciler.live.client: the one client of the API, tested against the sandbox over HTTP."""

import re
import socket
import time

import ovh
import ovh.config
import pytest

from reconciler.commands.connect import open_api, register_endpoint
from reconciler.commands.settings import Settings
from reconciler.errors import ApiError, AuthError, Conflict, NotFound, ReadOnlyError
from reconciler.live.client import Api
from reconciler.sandbox.seed import load_seed
from reconciler.sandbox.state import State

PROJECT = "0123456789abcdef0123456789abcdef"
KUBE = f"/cloud/project/{PROJECT}/kube"
CLUSTER_ID = "6f3c1a52-0000-4c1e-9a55-000000000001"
CLUSTER = f"{KUBE}/{CLUSTER_ID}"
SEED = {
    "projects": [
        {
            "serviceName": PROJECT,
            "clusters": [{"id": CLUSTER_ID, "name": "alpha", "region": "GRA5", "kubeProxyMode": "iptables"}],
        }
    ]
}
BLOCK = {"kubeProxy": {"iptables": {"syncPeriod": "PT45S"}}}


@pytest.fixture(autouse=True)
def isolated_credentials(monkeypatch):
    """No ovh.conf and no OVH_* variables but those a test sets."""
    monkeypatch.setattr(ovh.config, "CONFIG_PATH", [])
    for name in ("OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sandbox_credentials(monkeypatch):
    monkeypatch.setenv("OVH_APPLICATION_KEY", "sandbox-ak")
    monkeypatch.setenv("OVH_APPLICATION_SECRET", "sandbox-as")
    monkeypatch.setenv("OVH_CONSUMER_KEY", "sandbox-ck")


def fast_retries(api: Api) -> Api:
    api.retry_base, api.retry_cap = 0.01, 0.05
    return api


def test_an_url_endpoint_works_and_learns_the_clock_once(sandbox, sandbox_credentials):
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api:
        assert api.endpoint_label == sandbox.url
        assert api.calls["GET"] == 1  # GET /auth/time
        assert api.get(KUBE) == [CLUSTER_ID]
        assert api.get(CLUSTER)["name"] == "alpha"
        assert set(api.put(f"{CLUSTER}/customization", BLOCK)) == {"message"}
        assert api.calls["GET"] == 3 and api.calls["PUT"] == 1


def test_errors_are_one_clear_line_of_the_right_class(sandbox, sandbox_credentials):
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api, pytest.raises(NotFound) as caught:
        api.get(f"{KUBE}/nope")
    error = caught.value
    assert error.status == 404 and error.error_class == "Client::NotFound" and not error.ambiguous
    assert re.fullmatch(rf"GET {KUBE}/nope: 404 Client::NotFound: .*nope.* \(query id SBX\.\S+\)", str(error))


def test_a_change_to_a_busy_cluster_is_a_conflict(sandbox_factory, sandbox_credentials):
    sandbox = sandbox_factory(transition_seconds=30)
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api:
        api.put(f"{CLUSTER}/customization", BLOCK)
        with pytest.raises(Conflict, match="Client::Conflict::ServiceNotReady"):
            api.put(f"{CLUSTER}/customization", BLOCK)
        assert api.calls["PUT"] == 2  # a 409 is an answer, not a reason to retry


def test_wrong_credentials_say_how_to_set_them_and_never_echo_the_secret(sandbox, monkeypatch):
    monkeypatch.setenv("OVH_APPLICATION_KEY", "sandbox-ak")
    monkeypatch.setenv("OVH_APPLICATION_SECRET", "a-wrong-secret")
    monkeypatch.setenv("OVH_CONSUMER_KEY", "sandbox-ck")
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api, pytest.raises(AuthError) as caught:
        api.get(KUBE)
    assert caught.value.status == 400  # a wrong signature is a 400 on the real API (php-ovh issue #97)
    assert "INVALID_SIGNATURE" in str(caught.value) and "OVH_APPLICATION_SECRET" in str(caught.value)
    assert "a-wrong-secret" not in str(caught.value)


def test_missing_credentials_name_the_variables_before_any_request(sandbox):
    with pytest.raises(AuthError) as caught, open_api(Settings(endpoint=sandbox.url)):
        pass
    assert all(name in str(caught.value) for name in ("OVH_APPLICATION_KEY", "OVH_CONSUMER_KEY"))


def test_an_unknown_endpoint_name_is_refused():
    with pytest.raises(ApiError, match='unknown endpoint "ovh-mars"'), open_api(Settings(endpoint="ovh-mars")):
        pass


def test_the_endpoint_comes_from_ovh_endpoint_when_no_option_is_given(sandbox, sandbox_credentials, monkeypatch):
    monkeypatch.setenv("OVH_ENDPOINT", sandbox.url)
    sandbox.seed(SEED)
    with open_api(Settings()) as api:
        assert api.get(KUBE) == [CLUSTER_ID]


def test_read_only_refuses_a_change_before_sending_it(sandbox, sandbox_credentials):
    sandbox.seed(SEED)
    before = sandbox.show()
    with open_api(Settings(endpoint=sandbox.url), read_only=True) as api:
        with pytest.raises(ReadOnlyError):
            api.put(f"{CLUSTER}/customization", BLOCK)
        with pytest.raises(ReadOnlyError):
            api.post(f"{CLUSTER}/reset", {})
        assert api.calls["PUT"] == api.calls["POST"] == 0
        assert api.get(KUBE) == [CLUSTER_ID]
    assert sandbox.show() == before


def test_get_and_put_are_retried_through_injected_server_errors(sandbox_factory, sandbox_credentials):
    sandbox = sandbox_factory(error_rate=0.5, random_seed=3)
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api:
        fast_retries(api)
        for _ in range(20):
            assert api.get(KUBE) == [CLUSTER_ID]
        api.put(f"{CLUSTER}/customization", BLOCK)
        assert api.calls["GET"] > 21  # some were retried, none of them failed
    assert sandbox.show()["projects"][0]["clusters"][0]["customization"]["kubeProxy"] == BLOCK["kubeProxy"]


def test_a_post_is_never_retried_and_its_failure_is_ambiguous(sandbox_factory, sandbox_credentials):
    sandbox = sandbox_factory(error_rate=1.0, random_seed=1)
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api:
        with pytest.raises(ApiError) as caught:
            api.post(f"{CLUSTER}/reset", {"name": "alpha"})
        assert api.calls["POST"] == 1
    assert caught.value.status in (500, 502, 503) and caught.value.ambiguous


def test_429_is_retried_after_the_announced_delay(sandbox_factory, sandbox_credentials):
    sandbox = sandbox_factory(rate_limit=4)
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api:
        fast_retries(api)
        started = time.monotonic()
        for _ in range(8):
            api.get(KUBE)
        assert time.monotonic() - started >= 0.9  # waited Retry-After (1 s) at least once
        assert api.calls["GET"] > 9


def test_a_post_refused_with_429_is_sent_again_once_it_may_be(sandbox_factory, sandbox_credentials):
    # A 429 refuses the request before it runs: sending the POST again cannot make it happen twice.
    sandbox = sandbox_factory(rate_limit=1)
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url)) as api:
        fast_retries(api)
        api.get(KUBE)  # spends the second's only request
        api.post(f"{CLUSTER}/reset", {"name": "alpha", "kubeProxyMode": "iptables"})
        assert api.calls["POST"] == 2
    assert sandbox.show()["projects"][0]["clusters"][0]["resets"] == 1


def test_retries_stop_at_the_time_budget_with_a_network_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ovh.Client(register_endpoint(f"http://127.0.0.1:{port}/1.0"), "ak", "as", "ck")
    client._time_delta = 0
    api = fast_retries(Api(client, endpoint_label="dead", retry_budget=0.3))
    started = time.monotonic()
    with pytest.raises(ApiError) as caught:
        api.get(KUBE)
    assert time.monotonic() - started < 2
    assert caught.value.status is None and caught.value.ambiguous and caught.value.attempts > 1
    assert "no answer from the API" in str(caught.value)


def test_verbose_logs_each_call_without_secrets(sandbox, sandbox_credentials, capsys):
    sandbox.seed(SEED)
    with open_api(Settings(endpoint=sandbox.url, verbose=True)) as api:
        api.get(KUBE)
        with pytest.raises(NotFound):
            api.get(f"{KUBE}/nope")
    logged = capsys.readouterr().err.splitlines()
    assert re.fullmatch(rf"api: GET {KUBE} 200 \d+ ms", logged[1])
    assert re.fullmatch(rf"api: GET {KUBE}/nope 404 \d+ ms", logged[2])
    assert not any(secret in line for line in logged for secret in ("sandbox-as", "sandbox-ck", "$1$"))


def test_the_sandbox_endpoint_runs_an_embedded_sandbox_over_the_default_state(tmp_path, monkeypatch):
    state = tmp_path / "embedded.sqlite3"
    monkeypatch.setenv("OVHKUBE_SANDBOX_STATE", str(state))
    monkeypatch.setenv("OVHKUBE_SANDBOX_TRANSITION_SECONDS", "0")
    load_seed(State(state), SEED)
    with open_api(Settings(endpoint="sandbox")) as api:
        assert api.endpoint_label == "sandbox"
        api.put(f"{CLUSTER}/customization", BLOCK)
        url = api.client._endpoint
    client = ovh.Client(register_endpoint(url), "sandbox-ak", "sandbox-as", "sandbox-ck")
    client._time_delta = 0
    with pytest.raises(ApiError) as caught:  # the embedded server stopped on exit
        Api(client, endpoint_label="x", retry_budget=0).get(KUBE)
    assert caught.value.status is None
    with open_api(Settings(endpoint="sandbox")) as api:
        assert api.get(f"{CLUSTER}/customization")["kubeProxy"] == BLOCK["kubeProxy"]

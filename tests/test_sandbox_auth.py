"""The sandbox checks signatures exactly as python-ovh makes them, and refuses the rest with OVH's auth bodies: 403,
except a wrong signature, which is 400 INVALID_SIGNATURE (php-ovh issue #97, python-ovh issue #103)."""

import hashlib
import json
import time

import ovh
import pytest
import requests

PROJECT = "0123456789abcdef0123456789abcdef"
KUBE = f"/cloud/project/{PROJECT}/kube"


@pytest.fixture
def seeded(sandbox):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [{"name": "alpha", "region": "GRA5"}]}]})
    return sandbox


def test_a_correctly_signed_call_passes_with_a_query_string_too(seeded):
    assert len(seeded.client().get(KUBE)) == 1
    assert len(seeded.client().get(KUBE, detail=False)) == 1  # the query is part of the signed URL


def test_a_wrong_secret_is_a_400_invalid_signature(seeded):
    with pytest.raises(ovh.exceptions.BadParametersError, match="Invalid signature") as caught:
        seeded.client(application_secret="not-the-secret").get(KUBE)
    assert caught.value.response.json()["errorCode"] == "INVALID_SIGNATURE"


def test_an_unknown_application_key_is_an_invalid_key(seeded):
    with pytest.raises(ovh.exceptions.InvalidKey):
        seeded.client(application_key="who-are-you").get(KUBE)


def test_an_unknown_consumer_key_is_an_invalid_credential(seeded):
    with pytest.raises(ovh.exceptions.InvalidCredential, match="credential"):
        seeded.client(consumer_key="not-granted").get(KUBE)


def test_a_stale_timestamp_is_refused(seeded):
    client = seeded.client()
    client._time_delta = -400  # the client believes the server's clock is 400 s behind
    with pytest.raises(ovh.exceptions.InvalidCredential, match="[Tt]imestamp"):
        client.get(KUBE)


def _signed_headers(method: str, url: str, body: str, timestamp: int) -> dict:
    text = "+".join(["sandbox-as", "sandbox-ck", method, url, body, str(timestamp)])
    return {
        "X-Ovh-Application": "sandbox-ak",
        "X-Ovh-Consumer": "sandbox-ck",
        "X-Ovh-Timestamp": str(timestamp),
        "X-Ovh-Signature": "$1$" + hashlib.sha1(text.encode()).hexdigest(),
        "Content-Type": "application/json",
    }


def test_the_body_is_signed_a_tampered_body_is_refused_and_changes_nothing(seeded):
    url = seeded.url + KUBE
    signed_body = json.dumps({"region": "GRA5"}, separators=(",", ":"))
    headers = _signed_headers("POST", url, signed_body, int(time.time()))
    answer = requests.post(url, data=json.dumps({"region": "BHS5"}), headers=headers, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "INVALID_SIGNATURE",
        "httpCode": "400 Bad Request",
        "message": "Invalid signature",
    }
    assert answer.headers["X-Ovh-QueryID"]
    assert len(seeded.client().get(KUBE)) == 1
    assert requests.post(url, data=signed_body, headers=headers, timeout=5).status_code == 200


def test_an_unsigned_call_is_refused(seeded):
    answer = requests.get(seeded.url + KUBE, timeout=5)
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == "INVALID_KEY"

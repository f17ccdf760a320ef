"""The apply lock in an S3 bucket (`--lock s3://BUCKET/KEY`), against a real S3 server on 127.0.0.1 (moto's
standalone server, which honours If-None-Match and If-Match as S3 does): applies from two processes never run
together; a holder killed mid-apply leaves a lock that expires and is broken with its holder named; a bucket that
refuses the write is one line and exit 1."""

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import boto3
import pytest
from apply_helpers import IPTABLES_60S, clusters_by_name, live, seed, wanted, write_fleet
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from reconciler.apply.s3lock import LockRefused, S3Lock, ci_job_url, describe, parse_s3_url
from reconciler.errors import UserError

CLI = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())"]
BUCKET = "ovhkube-locks"
LOCK = f"s3://{BUCKET}/fleet/apply.lock"
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, **_keys()).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def _keys() -> dict:
    return {
        "aws_access_key_id": AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS["AWS_SECRET_ACCESS_KEY"],
        "region_name": AWS["AWS_DEFAULT_REGION"],
    }


def lock_object(endpoint: str) -> dict | None:
    s3 = boto3.client("s3", endpoint_url=endpoint, **_keys())
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key="fleet/apply.lock")["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def env_for(sandbox, endpoint: str, **extra: str) -> dict:
    environment = sandbox.env(AWS_ENDPOINT_URL=endpoint, **AWS, **extra)
    environment.pop("AWS_PROFILE", None)
    environment.pop("OVHKUBE_LOCK_FILE")  # each runner its own workspace: only the bucket is shared
    return environment


def start(args, env, cwd) -> subprocess.Popen:
    cwd.mkdir(exist_ok=True)
    return subprocess.Popen(
        [*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    )


def test_two_applies_from_two_runners_on_one_bucket_never_run_together(sandbox_factory, s3_endpoint, tmp_path):
    sandbox = sandbox_factory(transition_seconds=2)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(
        tmp_path,
        wanted("alpha", mode="ipvs", allow_reset=True, kubeProxy={"ipvs": {"scheduler": "lc"}}),
        wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S),
    )
    args = ("apply", fleet, "--auto-approve", "--lock", LOCK, "--lock-timeout", "120s")
    env = env_for(sandbox, s3_endpoint)
    runners = [start(args, env, tmp_path / f"runner-{n}") for n in (1, 2)]

    results = [(r.wait(timeout=120), r.stdout.read(), r.stderr.read()) for r in runners]

    assert [code for code, _, _ in results] == [0, 0], results
    worked, waited = sorted(results, key=lambda result: "No changes." in result[1])
    # The second planned only once the first had finished and released: it found nothing left to do.
    assert "1 created, 0 updated, 0 upgraded, 1 reset, 0 failed" in worked[1] and "No changes." in waited[1]
    assert f"waiting for the lock {LOCK}, held by " in waited[2]
    names = sorted(c["name"] for project in sandbox.show()["projects"] for c in project["clusters"])
    assert names == ["alpha", "fresh"] and clusters_by_name(sandbox)["alpha"]["resets"] == 1
    assert lock_object(s3_endpoint) is None  # released
    assert not (tmp_path / "runner-1" / ".ovhkube").exists()  # no local lock file beside the shared one


def test_a_holder_killed_mid_apply_leaves_a_lock_that_expires_and_is_broken_naming_it(
    sandbox_factory, s3_endpoint, tmp_path
):
    sandbox = sandbox_factory(transition_seconds=30)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S))
    env = env_for(sandbox, s3_endpoint, CI_JOB_URL="https://gitlab.example.com/ops/fleet/-/jobs/4242")
    holder = start(
        ("apply", fleet, "--auto-approve", "--lock", LOCK, "--lock-expiry", "2s"), env, tmp_path / "runner-1"
    )
    for line in holder.stderr:  # past the lock and busy creating `fresh` (30 s)
        if line.startswith("fresh: creating"):
            break
    refused = subprocess.run(
        [*CLI, "apply", fleet, "--auto-approve", "--lock", LOCK],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    # The holder renews its lock while it runs (every 2/3 s here): refused at once, naming the holder.
    assert refused.returncode == 1, refused.stderr
    user = lock_object(s3_endpoint)["user"]
    assert f"another apply holds the lock {LOCK}: {user}, pid {holder.pid} on " in refused.stderr
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    left = lock_object(s3_endpoint)
    assert left is not None and left["pid"] == holder.pid
    assert left["ciJob"] == "https://gitlab.example.com/ops/fleet/-/jobs/4242" and left["host"] == socket.gethostname()

    taken = subprocess.run(
        [*CLI, "apply", fleet, "--auto-approve", "--lock", LOCK, "--lock-timeout", "60s", "--no-wait"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip

    assert taken.returncode == 0, taken.stderr
    assert f"broke the stale lock {LOCK} of {left['user']}, pid {holder.pid} on {socket.gethostname()}" in taken.stderr
    assert "CI job https://gitlab.example.com/ops/fleet/-/jobs/4242" in taken.stderr
    assert lock_object(s3_endpoint) is None


@pytest.mark.parametrize(
    ("lock", "endpoint", "expected"),
    [
        ("s3://no-such-bucket/apply.lock", None, "NoSuchBucket: The specified bucket does not exist"),
        (LOCK, "http://127.0.0.1:9", "Could not connect to the endpoint URL"),
    ],
)
def test_a_store_that_refuses_the_write_is_one_line_and_nothing_changes(
    sandbox, s3_endpoint, tmp_path, lock, endpoint, expected
):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    before = sandbox.show()
    env = env_for(sandbox, endpoint or s3_endpoint, AWS_MAX_ATTEMPTS="1")

    result = subprocess.run(
        [*CLI, "apply", fleet, "--auto-approve", "--lock", lock], capture_output=True, text=True, env=env, cwd=tmp_path
    )

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot take the apply lock {lock}: "), result.stderr
    assert expected in result.stderr and "Nothing was changed" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert sandbox.show() == before


@pytest.mark.parametrize(
    ("url", "bucket", "key"),
    [
        ("s3://ops/ovhkube.lock", "ops", "ovhkube.lock"),
        ("s3://ops/fleets/eu/apply.lock", "ops", "fleets/eu/apply.lock"),
    ],
)
def test_an_s3_url_names_a_bucket_and_a_key(url, bucket, key):
    location = parse_s3_url(url)
    assert (location.bucket, location.key, location.url) == (bucket, key, url)


@pytest.mark.parametrize("url", ["s3://ops", "s3://ops/", "s3:///key", "s3://ops/folder/"])
def test_an_s3_url_without_a_key_is_refused(url):
    with pytest.raises(UserError, match="an S3 lock is s3://BUCKET/KEY"):
        parse_s3_url(url)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"CI_JOB_URL": "https://gitlab.example.com/g/p/-/jobs/7"}, "https://gitlab.example.com/g/p/-/jobs/7"),
        (
            {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "ops/fleet", "GITHUB_RUN_ID": "99"},
            "https://github.com/ops/fleet/actions/runs/99",
        ),
        ({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "99"}, None),
        ({"BUILD_URL": "https://jenkins.example.com/job/fleet/12/"}, "https://jenkins.example.com/job/fleet/12/"),
    ],
)
def test_the_holder_names_its_ci_job(environ, expected):
    assert ci_job_url(environ) == expected


def test_a_holder_is_described_escaped_on_one_line():
    holder = {"user": "ci", "pid": 7, "host": "runner\x1b[2J\nNo changes.", "command": ["ovhkube", "apply"]}
    text = describe(holder | {"since": "2026-12-07T10:00:00Z"})
    assert "\n" not in text and "\x1b" not in text
    assert text.startswith("ci, pid 7 on runner\\u001b[2J\\nNo changes. (`ovhkube apply`)")
    assert describe(None).startswith("another process")


@pytest.mark.parametrize(
    "command, shown",
    [(5, "(`5`)"), ("ovhkube apply", "(`ovhkube apply`)"), ({"a": 1}, '(`{"a": 1}`)'), (None, "(``)")],
)
def test_a_holder_whose_command_is_not_a_list_is_still_described(command, shown):
    # A lock object written by something else than ovhkube: `command: 5` was an internal error (TypeError) while
    # another runner waited for the lock.
    text = describe({"user": "ci", "pid": 7, "host": "r1", "command": command, "since": "2026-12-07T10:00:00Z"})
    assert text.startswith(f"ci, pid 7 on r1 {shown}"), text


def test_an_unknown_lock_backend_is_refused(run_ovhkube, tmp_path):
    (tmp_path / "c.yaml").write_text(json.dumps(wanted("alpha")))
    result = run_ovhkube("apply", tmp_path, "--auto-approve", "--lock", "gcs://bucket/key", env={**os.environ})
    assert result.returncode == 1
    assert 'unknown lock backend "gcs"' in result.stderr


WRITES = ("PUT", "POST", "DELETE")
OTHER_HOLDER = {"id": "other", "user": "ci", "pid": 4242, "host": "runner-2", "command": ["ovhkube", "apply"],
                "since": "2026-12-07T10:00:00Z", "expiresAfterSeconds": 120}  # fmt: skip


def _writes(sandbox) -> list[dict]:
    return [entry for entry in sandbox.requests() if entry["method"] in WRITES]


@pytest.mark.parametrize("how", ["taken over", "store gone"])
def test_a_lock_lost_mid_apply_stops_every_write_after_it(sandbox_factory, tmp_path, how):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # its own port, bound by itself
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    boto3.client("s3", endpoint_url=endpoint, **_keys()).create_bucket(Bucket=BUCKET)
    sandbox = sandbox_factory(transition_seconds=10)
    seed(sandbox, live(1, "alpha"), live(2, "beta"), live(3, "gamma"))
    fleet = write_fleet(tmp_path, *(wanted(name, kubeProxy=IPTABLES_60S) for name in ("alpha", "beta", "gamma")))
    # Servers in one process share moto's backend: a key of its own, as the store-gone case leaves its object behind.
    key = f"lost/{uuid.uuid4().hex}.lock"
    lock = f"s3://{BUCKET}/{key}"
    args = ("apply", fleet, "--auto-approve", "--lock", lock, "--lock-expiry", "3s", "--clusters-at-once", "1")
    runner = start(args, env_for(sandbox, endpoint, AWS_MAX_ATTEMPTS="1"), tmp_path / "runner")
    try:
        while not _writes(sandbox):  # alpha's PUT is sent: it is busy for 10 s, beta and gamma wait their turn
            assert runner.poll() is None, runner.stderr.read()
            time.sleep(0.1)
        if how == "taken over":
            s3 = boto3.client("s3", endpoint_url=endpoint, **_keys())
            s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(OTHER_HOLDER).encode())
        else:
            server.stop()
        lost_at = time.time()
        code = runner.wait(timeout=120)
        out, err = runner.stdout.read(), runner.stderr.read()
    finally:
        runner.kill()
        server.stop()

    assert code == 1, err
    assert [entry for entry in _writes(sandbox) if entry["time"] >= lost_at] == []
    assert len(_writes(sandbox)) == 1
    if how == "taken over":
        assert f"error: the apply lock {lock} was taken over during this apply by ci, pid 4242 on runner-2" in err
    else:
        assert f"error: the apply lock {lock} could not be renewed before it expired" in err
    assert "nothing was sent after that: 1 cluster changed before it, 2 not started (beta, gamma)" in err
    assert "Traceback" not in err
    assert "beta" in out and "not sent: the apply lock" in out


class _Store:
    """A bucket whose lock object is held by another runner, written an hour ago, answered with `date`."""

    def __init__(self, date: str | None) -> None:
        self.date = date
        self.puts: list[dict] = []

    def put_object(self, **request: object) -> dict:
        self.puts.append(request)
        if "IfMatch" in request:
            return {"ETag": '"e2"'}
        raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": "At least one of the pre-conditions"}},
                          "PutObject")  # fmt: skip

    def get_object(self, **request: object) -> dict:
        headers = {} if self.date is None else {"date": self.date}
        return {
            "Body": io.BytesIO(json.dumps(OTHER_HOLDER).encode()),
            "ETag": '"e1"',
            "LastModified": datetime.now(UTC) - timedelta(hours=1),
            "ResponseMetadata": {"HTTPHeaders": headers},
        }


@pytest.mark.parametrize(
    ("date", "breaks"),
    [
        ("now", True),  # an hour old by the store's clock: stale
        (None, True),  # no Date: this runner's clock
        ("Mon, 07 Dec 2026 18:00:00 -0000", False),  # a -0000 zone: naive once parsed
        ("yesterday at noon", False),
        ("", False),
    ],
)
def test_a_lock_of_unknown_age_is_never_broken(monkeypatch, date, breaks):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    lock = S3Lock(parse_s3_url(LOCK), 120.0, lambda text: None)
    store = _Store(format_datetime(datetime.now(UTC), usegmt=True) if date == "now" else date)
    lock.s3 = store

    if breaks:
        lock.acquire(timeout=0)
        assert store.puts[-1].get("IfMatch") == '"e1"'
    else:
        with pytest.raises(LockRefused, match="another apply holds the lock .*: ci, pid 4242 on runner-2"):
            lock.acquire(timeout=0)
        assert [put for put in store.puts if "IfMatch" in put] == []


def test_a_takeover_between_renewals_is_seen_before_the_next_write_and_in_the_json_account(sandbox_factory, tmp_path):
    """The lock broken as stale by another runner while this one still runs (paused past its expiry, say): the next
    write looks at the store first and is not sent, long before the next renewal would have noticed."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    boto3.client("s3", endpoint_url=endpoint, **_keys()).create_bucket(Bucket=BUCKET)
    sandbox = sandbox_factory(transition_seconds=3)
    seed(sandbox, live(1, "alpha"), live(2, "beta"), live(3, "gamma"))
    fleet = write_fleet(tmp_path, *(wanted(name, kubeProxy=IPTABLES_60S) for name in ("alpha", "beta", "gamma")))
    key = f"takeover/{uuid.uuid4().hex}.lock"
    lock = f"s3://{BUCKET}/{key}"
    # Renewed every 100 s: only the look before each write can see the takeover within this test.
    args = ("apply", fleet, "--auto-approve", "--lock", lock, "--lock-expiry", "300s", "--clusters-at-once", "1")
    runner = start([*args, "--format", "json"], env_for(sandbox, endpoint), tmp_path / "runner")
    try:
        while not _writes(sandbox):  # alpha's PUT is sent: it is busy for 3 s, beta and gamma wait their turn
            assert runner.poll() is None, runner.stderr.read()
            time.sleep(0.05)
        s3 = boto3.client("s3", endpoint_url=endpoint, **_keys())
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(OTHER_HOLDER).encode())
        taken_at = time.monotonic()
        code = runner.wait(timeout=120)
        took = time.monotonic() - taken_at
        out, err = runner.stdout.read(), runner.stderr.read()
    finally:
        runner.kill()
        server.stop()

    assert code == 1, err
    assert took < 60, took  # well before the first renewal (100 s)
    assert len(_writes(sandbox)) == 1  # alpha's only
    lost = f"the apply lock {lock} was taken over during this apply by ci, pid 4242 on runner-2"
    assert f"error: {lost}" in err
    account = json.loads(out)
    assert account["lock_lost"].startswith(lost)
    assert (
        "nothing was sent after that: 1 cluster changed before it, 2 not started (beta, gamma)" in account["lock_lost"]
    )
    results = {c["cluster"]["name"]: (c["result"], c["reason"]) for c in account["clusters"]}
    assert results["alpha"][0] == "done" and results["beta"][0] == "skipped"
    assert results["beta"][1].startswith(f"not sent: {lost}")
    assert "Traceback" not in err


def test_an_apply_that_keeps_its_lock_says_so_in_the_json_account(sandbox_factory, s3_endpoint, tmp_path):
    sandbox = sandbox_factory()
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    args = ("apply", fleet, "--auto-approve", "--lock", LOCK, "--format", "json")

    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env_for(sandbox, s3_endpoint))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lock_lost"] is None
    assert lock_object(s3_endpoint) is None


class _Unreachable:
    def head_object(self, **request: object) -> dict:
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9/ovhkube-locks")


@pytest.mark.parametrize(("renewed_ago", "lost"), [(10.0, False), (130.0, True)])
def test_a_store_that_cannot_be_asked_before_a_write_stops_it_only_once_the_lock_may_have_expired(
    monkeypatch, renewed_ago, lost
):
    from reconciler.apply.lock import HeldLock

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    notes: list[str] = []
    lock = S3Lock(parse_s3_url(LOCK), 120.0, notes.append)
    lock.s3, lock.written_at = _Unreachable(), time.monotonic() - renewed_ago
    held = HeldLock(lock.confirm)

    reasons = [held.confirm(), held.confirm()]

    if lost:
        assert reasons[0] == reasons[1] and reasons[0].startswith(
            f"the apply lock {LOCK} could not be confirmed before a write, and it expired since it was last renewed"
        )
    else:
        assert reasons == [None, None]
        (note,) = notes  # said once, not before every write
        assert note.startswith(f"warning: could not look at the lock {LOCK} before a write (")
        assert note.endswith("it was renewed 10s ago, within its expiry")

"""`ovhkube kubeconfig`: a fresh kubeconfig in a private file (or on stdout), `--reset` behind a confirmation, end to
end through the CLI against the sandbox over HTTP (the lossy gateway where an answer is lost)."""

import json
import os
import pty
import shutil
import stat
import subprocess
import sys
import urllib.error
import urllib.request

import yaml

from tests.apply_helpers import PROJECT, cluster_id, live, seed, wanted, write_fleet

CLUSTER = f"/kube/{cluster_id(1)}"
RESET = ("POST", f"{CLUSTER}/kubeconfig/reset")


def credentials(content: str) -> tuple[str, str]:
    """(the API server's URL, the user's token) of the kubeconfig's current context."""
    config = yaml.safe_load(content)
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    server = next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == context["cluster"])
    token = next(u["user"]["token"] for u in config["users"] if u["name"] == context["user"])
    return server, token


def readyz(server: str, token: str) -> int:
    request = urllib.request.Request(f"{server}/readyz", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def posts(sandbox, suffix: str) -> int:
    return sum(1 for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith(suffix))


def test_the_kubeconfig_is_written_0600_whole_and_reads_as_a_kubeconfig(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments"), live(2, "other"))
    fleet = write_fleet(tmp_path, wanted("payments"), wanted("other"))
    target = tmp_path / "kube" / "payments.yaml"
    target.parent.mkdir()
    target.write_text("stale\n")
    target.chmod(0o644)  # an older file anyone could read: replaced by a private one, never written into
    result = run_ovhkube("-v", "kubeconfig", fleet, "--target", "payments", "-o", target, env=sandbox.env())
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(target.parent)) == ["payments.yaml"]  # no temporary file left beside it
    content = target.read_text()
    config = yaml.safe_load(content)
    # What `kubectl config view` needs: clusters, users and contexts, and a current context that names them.
    assert {"clusters", "users", "contexts", "current-context"} <= set(config)
    server, token = credentials(content)
    assert server.startswith("http") and readyz(server, token) == 200  # the credentials work
    assert token not in result.stdout + result.stderr and result.stdout == ""  # not printed, not logged by -v
    assert f"written to {target} (mode 0600)" in result.stderr and "--target is in effect" not in result.stderr
    kubectl = shutil.which("kubectl")
    if kubectl:  # where kubectl is installed (the machine image has it), it reads the file too
        view = subprocess.run(
            [kubectl, "config", "view", "--kubeconfig", str(target), "--minify", "--raw", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert view.returncode == 0, view.stderr
        viewed = json.loads(view.stdout)
        assert viewed["clusters"][0]["cluster"]["server"] == server and viewed["users"][0]["user"]["token"] == token


def test_without_output_it_goes_to_stdout_and_several_clusters_need_a_target(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments"), live(2, "other"))
    fleet = write_fleet(tmp_path, wanted("payments"), wanted("other"))
    several = run_ovhkube("kubeconfig", fleet, env=sandbox.env())
    assert several.returncode == 1
    assert 'the files hold 2 clusters ("payments", "other"): pick one with --target NAME' in several.stderr
    assert posts(sandbox, "/kubeconfig") == 0
    result = run_ovhkube("kubeconfig", fleet, "--target", "other", env=sandbox.env())
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["current-context"]
    missing = run_ovhkube("kubeconfig", write_fleet(tmp_path, wanted("absent")), env=sandbox.env())
    assert missing.returncode == 1 and 'cluster "absent" of project' in missing.stderr


def test_a_reset_needs_a_confirmation_and_gives_new_credentials(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments"))
    fleet = write_fleet(tmp_path, wanted("payments"))
    before = run_ovhkube("kubeconfig", fleet, env=sandbox.env()).stdout
    refused = run_ovhkube("kubeconfig", fleet, "--reset", env=sandbox.env())  # no terminal, no --yes
    assert refused.returncode == 1 and "confirm it with --yes; nothing was sent" in refused.stderr
    assert posts(sandbox, "/kubeconfig/reset") == 0

    target = tmp_path / "payments.kubeconfig"
    result = run_ovhkube("kubeconfig", fleet, "--reset", "--yes", "-o", target, env=sandbox.env())
    assert result.returncode == 0, result.stderr
    assert posts(sandbox, "/kubeconfig/reset") == 1
    old_server, old_token = credentials(before)
    server, token = credentials(target.read_text())
    assert token != old_token
    assert readyz(server, token) == 200 and readyz(old_server, old_token) == 401  # the old credentials are cut off


def test_a_reset_is_refused_on_the_standard_plan_before_anything_is_sent(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments") | {"plan": "standard"})
    fleet = write_fleet(tmp_path, wanted("payments"))
    result = run_ovhkube("kubeconfig", fleet, "--reset", "--yes", env=sandbox.env())
    assert result.returncode == 1
    assert (
        "is on the Standard plan, where OVHcloud does not offer a kubeconfig reset; nothing was sent" in result.stderr
    )
    assert posts(sandbox, "/kubeconfig/reset") == 0 and posts(sandbox, "/kubeconfig") == 0
    # The sandbox, an independent oracle, refuses it too.
    response = sandbox.client().raw_call("POST", f"/cloud/project/{PROJECT}{CLUSTER}/kubeconfig/reset")
    assert response.status_code == 400


def test_a_lost_answer_to_a_reset_is_read_back_never_sent_again(
    tmp_path, sandbox_factory, through_gateway, run_ovhkube
):
    sandbox = sandbox_factory(transition_seconds=1)
    seed(sandbox, live(1, "payments"))
    fleet = write_fleet(tmp_path, wanted("payments"))
    gateway, env = through_gateway(sandbox, {RESET: ["after"]})
    result = run_ovhkube("kubeconfig", fleet, "--reset", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "got no clear answer" in result.stderr and "but the cluster is REDEPLOYING: it took" in result.stderr
    assert gateway.count(*RESET) == 1 and yaml.safe_load(result.stdout)["users"]

    gateway, env = through_gateway(sandbox, {RESET: ["before"]})
    result = run_ovhkube("kubeconfig", fleet, "--reset", "--yes", env=env)
    assert result.returncode == 1 and result.stdout == ""
    assert "whether it took cannot be told, and it was not sent again" in result.stderr
    assert gateway.count(*RESET) == 0


def test_access_rules_cover_the_kubeconfig_and_its_reset(run_ovhkube):
    rules = json.loads(run_ovhkube("access-rules").stdout)["accessRules"]
    paths = {(rule["method"], rule["path"]) for rule in rules}
    assert {
        ("POST", "/cloud/project/*/kube/*/kubeconfig"),
        ("POST", "/cloud/project/*/kube/*/kubeconfig/reset"),
    } <= paths
    read_only = json.loads(run_ovhkube("access-rules", "--read-only").stdout)["accessRules"]
    assert not any("kubeconfig" in rule["path"] for rule in read_only)  # a credential is not a read


def on_terminal(sandbox, *args, answer: str) -> tuple[int, str, str]:
    """Run the command with a pseudo-terminal as stdin, type `answer`; the exit code, stdout and stderr."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", *map(str, args)]
    process = subprocess.Popen(
        command, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=sandbox.env(), text=True
    )
    os.close(terminal)
    os.write(controller, answer.encode() + b"\n")
    stdout, stderr = process.communicate(timeout=60)
    os.close(controller)
    return process.returncode, stdout, stderr


def test_on_a_terminal_the_reset_is_confirmed_by_typing_the_clusters_name(tmp_path, sandbox):
    seed(sandbox, live(1, "payments"))
    fleet = write_fleet(tmp_path, wanted("payments"))
    code, stdout, stderr = on_terminal(sandbox, "kubeconfig", fleet, "--reset", answer="yes")
    assert code == 1 and "Type the cluster's name to confirm" in stderr
    assert "the answer was not the cluster's name; nothing was sent" in stderr
    assert posts(sandbox, "/kubeconfig/reset") == 0 and stdout == ""
    code, stdout, stderr = on_terminal(sandbox, "kubeconfig", fleet, "--reset", answer="payments")
    assert code == 0, stderr
    assert posts(sandbox, "/kubeconfig/reset") == 1 and yaml.safe_load(stdout)["current-context"]

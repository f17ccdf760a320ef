"""`ovhkube kubeconfig -o` where the file cannot go: refused before anything is asked of the API (a `--reset` would
otherwise rotate every user's credentials, then fail to write the new ones), a device or a pipe is never replaced by
a file, and a file name holding escape codes is shown escaped."""

import os
import stat

import pytest

from tests.apply_helpers import cluster_id, live, seed, wanted, write_fleet, writes


@pytest.mark.parametrize("where", ["folder", "missing folder", "pipe", "empty"])
def test_a_reset_to_a_file_that_cannot_be_written_sends_nothing(tmp_path, sandbox, run_ovhkube, where):
    seed(sandbox, live(1, "payments"))
    fleet = write_fleet(tmp_path, wanted("payments"))
    target = {
        "folder": tmp_path / "kube",
        "missing folder": tmp_path / "nowhere" / "payments.yaml",
        "pipe": tmp_path / "pipe",
        "empty": "",
    }[where]
    if where == "folder":
        target.mkdir()
    if where == "pipe":
        os.mkfifo(target)
    result = run_ovhkube("kubeconfig", fleet, "--reset", "--yes", "-o", target, env=sandbox.env())
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    shown = '""' if where == "empty" else str(target)
    assert line.startswith(f"error: cannot write the kubeconfig to {shown}: ") and line.endswith("nothing was sent")
    assert writes(sandbox) == []  # no reset, no kubeconfig asked for
    if where == "pipe":
        assert stat.S_ISFIFO(os.stat(target).st_mode)  # still a pipe, not replaced by a file


def test_a_file_name_with_escape_codes_is_shown_escaped(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments"))
    fleet = write_fleet(tmp_path, wanted("payments"))
    target = tmp_path / "kube\x1b]0;pwned\x07.yaml"
    result = run_ovhkube("kubeconfig", fleet, "-o", target, env=sandbox.env())
    assert result.returncode == 0, result.stderr
    assert target.exists() and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "kube\\u001b]0;pwned\\u0007.yaml (mode 0600)" in result.stderr


def test_a_reset_the_api_answers_but_does_not_make_is_never_reported_done(
    tmp_path, sandbox, through_gateway, run_ovhkube
):
    # The API answers the reset 200 and loses it: the old credentials still work. Writing them as "the new
    # kubeconfig" would tell a user rotating leaked credentials that they are rotated.
    seed(sandbox, live(1, "payments"))
    fleet = write_fleet(tmp_path, wanted("payments"))
    reset = f"/kube/{cluster_id(1)}/kubeconfig/reset"
    gateway, env = through_gateway(sandbox, {("POST", reset): ["dropped"]})
    target = tmp_path / "payments.yaml"
    result = run_ovhkube("kubeconfig", fleet, "--reset", "--yes", "-o", target, env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "the credentials may NOT be rotated, and the reset was not sent again; nothing was written" in last
    assert "Fetch a kubeconfig without --reset later" in last
    assert not target.exists() and gateway.count("POST", reset) == 0


def test_a_kubeconfig_is_never_written_into_the_folder_of_desired_state_files(tmp_path, sandbox, run_ovhkube):
    # That folder is usually a Git repository: the credential would be committed with the next change, and every
    # later plan skips it as "not a desired-state file", so nobody sees it there.
    seed(sandbox, live(1, "payments"))
    folder = tmp_path / "clusters"
    folder.mkdir()
    write_fleet(folder, wanted("payments"))
    for inside in (folder / "team" / ".." / "payments.kubeconfig", folder / "admin.yaml"):
        result = run_ovhkube("kubeconfig", folder, "-o", inside, env=sandbox.env())
        assert result.returncode == 1
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"error: --output {inside}: is inside {folder}, a folder of desired-state files")
        assert line.endswith("nothing was sent")
    assert sorted(p.name for p in folder.iterdir()) == ["fleet.yaml"]
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []


class _Answers:
    """The one call fresh_kubeconfig makes, answered with `content`."""

    def __init__(self, content: str) -> None:
        self.content = content

    def post(self, path: str) -> dict:
        return {"content": self.content}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("apiVersion: v1\nclusters:\n- name: \x1b]0;owned\x07x\n", "U+001B, line 3"),
        ("apiVersion: v1\x00\n", "U+0000, line 1"),
        ("apiVersion: v1\nkind: \x9bConfig\n", "U+009B, line 2"),
    ],
)
def test_a_kubeconfig_holding_terminal_controls_is_refused_and_not_shown(content, problem):
    from reconciler.live.kubeconfig import KubeconfigError, fresh_kubeconfig

    with pytest.raises(KubeconfigError) as raised:
        fresh_kubeconfig(_Answers(content), "p", "c")  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"the API's kubeconfig holds a character no YAML file may hold ({problem}): nothing was written"
    )


def test_a_kubeconfig_with_tabs_crlf_and_unicode_is_taken_whole():
    from reconciler.live.kubeconfig import fresh_kubeconfig

    content = "apiVersion: v1\r\nkind: Config\t# café, 日本\r\ncurrent-context: x\u0085\n"
    assert fresh_kubeconfig(_Answers(content), "p", "c") == content  # type: ignore[arg-type]

"""Inputs that did not arrive are errors, symbolic links never lead out of the folder given, and no output
overwrites an input: through the CLI."""

import os
from pathlib import Path

import pytest
import yaml
from apply_helpers import live, seed, wanted, write_fleet


def test_a_dangling_link_in_a_folder_is_an_error_in_validate_and_drift(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "web"))
    write_fleet(tmp_path, wanted("web"))
    (tmp_path / "prod.yaml").symlink_to(tmp_path / "checkout-that-did-not-arrive" / "prod.yaml")

    checked = run_ovhkube("validate", tmp_path)
    drifted = run_ovhkube("drift", tmp_path, env=sandbox.env())

    line = f"{tmp_path}/prod.yaml: a symbolic link to nothing (what it points to does not exist): a file that did not"
    assert checked.returncode == 1 and line in checked.stdout, checked.stdout
    assert "device" not in checked.stdout
    assert drifted.returncode == 1 and line in drifted.stderr and "in sync" not in drifted.stdout
    assert sandbox.requests() == [] or all(r["path"] == "/auth/time" for r in sandbox.requests())


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_link_out_of_the_folder_given_is_not_followed_and_nothing_there_is_echoed(run_ovhkube, tmp_path, kind):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("password: hunter2-outside\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    write_fleet(tree, wanted("web"))
    link = tree / ("secret.yaml" if kind == "file" else "shared")
    link.symlink_to(outside / "secret.yaml" if kind == "file" else outside)

    result = run_ovhkube("validate", tree)

    assert result.returncode == 1
    assert f"{link}: a symbolic link out of the folder given: not followed, so not read" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr


def test_a_link_inside_the_folder_given_is_read_once(run_ovhkube, tmp_path):
    fleet = write_fleet(tmp_path, wanted("web"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "again.yaml").symlink_to(fleet)

    result = run_ovhkube("validate", tmp_path)

    assert (result.returncode, result.stdout.splitlines()[-1]) == (0, "1 file, 1 cluster: valid")


def test_a_huge_file_is_refused_at_the_per_file_limit_the_docs_name(run_ovhkube, tmp_path):
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as stream:
        stream.truncate(20 * 1024 * 1024)

    result = run_ovhkube("validate", huge)

    assert result.returncode == 1
    assert f"{huge}:1:1: file is larger than 1 MiB; desired-state files are small, refusing it" in result.stdout
    assert "16 MiB" not in result.stdout


@pytest.mark.parametrize("command", ["plan", "drift"])
@pytest.mark.parametrize("how", ["same", "link", "in-folder"])
def test_an_output_never_overwrites_an_input(sandbox, run_ovhkube, tmp_path, command, how):
    seed(sandbox, live(1, "web"))
    fleet = write_fleet(tmp_path, wanted("web"))
    before = Path(fleet).read_text()
    out, given = fleet, fleet
    if how == "link":
        out = str(tmp_path / "out.json")
        os.symlink(fleet, out)
    elif how == "in-folder":
        given = str(tmp_path)

    result = run_ovhkube(command, given, "--out", out, env=sandbox.env())

    assert result.returncode == 1
    assert f"error: --out {out}: is the desired-state file {fleet}, which this run reads" in result.stderr
    assert Path(fleet).read_text() == before and yaml.safe_load(before)["metadata"]["name"] == "web"
    assert sandbox.requests() == []


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_an_output_is_never_a_yaml_file_the_next_run_would_read(sandbox, run_ovhkube, tmp_path, command):
    # plan dir/ --out dir/plan.yaml: a new file, but the next plan of dir/ read it as a desired-state file.
    seed(sandbox, live(1, "web"))
    write_fleet(tmp_path, wanted("web"))
    out = tmp_path / "sub" / "plan.yaml"
    out.parent.mkdir()

    result = run_ovhkube(command, tmp_path, "--out", out, env=sandbox.env())

    assert result.returncode == 1
    assert f"error: --out {out}: is a *.yaml file inside {tmp_path}, a folder of desired-state files" in result.stderr
    assert not out.exists() and sandbox.requests() == []
    hidden = tmp_path / ".ovhkube" / "plan.yaml"  # a hidden folder is never read: writing there is fine
    hidden.parent.mkdir()
    assert run_ovhkube(command, tmp_path, "--out", hidden, env=sandbox.env()).returncode in (0, 2)
    assert hidden.exists()

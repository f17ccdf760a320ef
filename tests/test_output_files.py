"""Output files (`plan --out`, `drift --out`, `export --output`): what is not a regular file is never replaced, a
symlink is followed, and an export writes all its files or none."""

import json
import os
import stat
import threading

from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet
from test_export import export
from test_export import seed as seed_export


def test_plan_out_into_a_fifo_writes_into_it_and_keeps_it_a_fifo(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()  # what a CI step waiting on the pipe would do

    result = run_ovhkube("plan", fleet, "--out", fifo, env=sandbox.env(), timeout=60)

    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # not replaced by a regular file
    assert json.loads(received[0])["summary"]["update"] == 1
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_drift_out_through_a_symlink_replaces_the_file_it_points_at_and_keeps_the_link(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    (tmp_path / "metrics").mkdir()
    real = tmp_path / "metrics" / "ovhkube.prom"
    real.write_text("old\n")
    link = tmp_path / "drift.prom"
    link.symlink_to(real)

    result = run_ovhkube("drift", fleet, "--format", "prometheus", "--out", link, env=sandbox.env())

    assert result.returncode == 2, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "ovhkube" in real.read_text() and real.read_text() != "old\n"


def test_export_writes_all_its_files_or_none(sandbox, run_ovhkube, tmp_path):
    seed_export(sandbox)
    folder = tmp_path / "clusters"
    (folder / "plain.yaml").mkdir(parents=True)  # one of the three files cannot be written

    result = export(run_ovhkube, sandbox, "--output", folder)

    assert result.returncode == 1
    assert "no file was written" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["plain.yaml"]  # neither batch.yaml nor gateway.yaml

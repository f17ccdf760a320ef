"""A Rollout document checked offline: one line per problem at its FILE:LINE, the first wave that picks a cluster
wins, a cluster in no wave is an error, and what a wave ends up with is said."""

from reconciler.cli import main

CLUSTERS = """\
apiVersion: ovhkube/v1
kind: Cluster
metadata: {name: c01}
spec: {project: 0123456789abcdef0123456789abcdef, region: GRA5}
---
apiVersion: ovhkube/v1
kind: Cluster
metadata: {name: c02, labels: {ring: early}}
spec: {project: 0123456789abcdef0123456789abcdef, region: GRA5}
---
apiVersion: ovhkube/v1
kind: Cluster
metadata: {name: c03}
spec: {project: 0123456789abcdef0123456789abcdef, region: GRA7}
"""


def validate(tmp_path, capsys, rollout: str) -> tuple[int, list[str]]:
    (tmp_path / "clusters.yaml").write_text(CLUSTERS)
    (tmp_path / "rollout.yaml").write_text(rollout)
    code = main(["validate", str(tmp_path)])
    captured = capsys.readouterr()
    return code, [line.replace(str(tmp_path) + "/", "") for line in (captured.out + captured.err).splitlines()]


def test_a_rollout_of_every_cluster_is_valid_and_the_first_wave_wins(tmp_path, capsys):
    code, lines = validate(
        tmp_path,
        capsys,
        """\
apiVersion: ovhkube/v1
kind: Rollout
metadata: {name: fleet}
spec:
  waves:
    - {name: canary, selector: {names: [c01]}, maxInFlight: 1, pauseAfter: PT10M}
    - {name: gra5, selector: {regions: [GRA5]}, maxInFlight: 25%}
    - {name: rest, selector: {}, maxInFlight: 100%}
""",
    )
    assert code == 0, lines
    assert lines[-1] == "2 files, 3 clusters, a Rollout of 3 waves: valid"


def test_every_problem_at_its_line(tmp_path, capsys):
    code, lines = validate(
        tmp_path,
        capsys,
        """\
apiVersion: ovhkube/v1
kind: Rollout
metadata: {name: fleet}
spec:
  waves:
    - name: canary
      selector: {names: [c01], labels: {ring: early}}
      maxInFlight: 0
    - name: canary
      selector: {matchLabels: {ring: early}}
      maxInFlight: "25"
    - name: late
      selector: {names: [c01]}
      maxInFlight: 101%
      pauseAfter: 10m
""",
    )
    assert code == 1
    assert any(
        line.startswith("rollout.yaml:7:") and "spec.waves[0].selector.labels: unknown field" in line for line in lines
    )
    assert any(line.startswith("rollout.yaml:8:20: spec.waves[0].maxInFlight: must be a count") for line in lines)
    assert any(line.startswith("rollout.yaml:11:20: spec.waves[1].maxInFlight: must be a count") for line in lines)
    assert any('got "25"' in line for line in lines)
    assert any(line.startswith("rollout.yaml:14:20: spec.waves[2].maxInFlight:") and "101%" in line for line in lines)
    assert any(line.startswith("rollout.yaml:15:19: spec.waves[2].pauseAfter: not an ISO 8601") for line in lines)


def test_clusters_in_no_wave_duplicate_names_empty_waves_and_a_second_rollout(tmp_path, capsys):
    rollout = """\
apiVersion: ovhkube/v1
kind: Rollout
metadata: {name: fleet}
spec:
  waves:
    - {name: canary, selector: {names: [c01]}, maxInFlight: 1}
    - {name: canary, selector: {matchLabels: {ring: early}}, maxInFlight: 1}
    - {name: again, selector: {names: ["c0[12]"]}, maxInFlight: 1}
---
apiVersion: ovhkube/v1
kind: Rollout
metadata: {name: other}
spec:
  waves: [{name: all, selector: {}, maxInFlight: 1}]
"""
    code, lines = validate(tmp_path, capsys, rollout)
    assert code == 1
    assert any(
        line.startswith("rollout.yaml:11:7: kind: a second Rollout: only one may order the files given")
        and "rollout.yaml:1)" in line
        for line in lines
    ), lines
    assert any(
        line.startswith('rollout.yaml:7:14: spec.waves[1].name: wave "canary" is already named at')
        and "rollout.yaml:6" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("rollout.yaml:8:")
        and 'wave "again" has no cluster: earlier waves took all it picks ("c01", "c02")' in line
        and "warning" in line
        for line in lines
    ), lines
    assert any(
        line.startswith('rollout.yaml:6:5: spec.waves: 1 cluster(s) the rollout orders are in no wave: "c03"')
        for line in lines
    ), lines


def test_a_rollout_alone_is_an_error(tmp_path, capsys):
    (tmp_path / "rollout.yaml").write_text(
        "apiVersion: ovhkube/v1\nkind: Rollout\nmetadata: {name: r}\nspec:\n"
        "  waves: [{name: all, selector: {}, maxInFlight: 1}]\n"
    )
    assert main(["validate", str(tmp_path / "rollout.yaml")]) == 1
    captured = capsys.readouterr()
    assert "rollout.yaml: no Cluster documents, only a Rollout" in captured.out + captured.err
    assert "has no cluster" not in captured.out + captured.err  # said once, for the input

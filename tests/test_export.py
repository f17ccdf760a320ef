"""`ovhkube export` end to end: files from a seeded project that validate and plan to no changes."""

import yaml

PROJECT = "0123456789abcdef0123456789abcdef"
OTHER_PROJECT = "abcdefabcdefabcdefabcdefabcdef01"

# The API's own spellings: P0D for zero, PT1M and PT900S, plugins unsorted, empty lists, zero IPVS timeouts.
GATEWAY = {
    "id": "22222222-3333-4444-8555-000000000001",
    "name": "gateway",
    "region": "GRA7",
    "version": "1.31",
    "kubeProxyMode": "ipvs",
    "status": "READY",
    "customization": {
        "apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction"], "disabled": ["AlwaysPullImages"]}},
        "kubeProxy": {
            "iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"},
            "ipvs": {
                "minSyncPeriod": "P0D",
                "scheduler": "lc",
                "syncPeriod": "PT1M",
                "tcpFinTimeout": "P0D",
                "tcpTimeout": "PT900S",
                "udpTimeout": "PT0S",
            },
        },
    },
}
# Nothing set anywhere: every block is left out, so the file manages none.
PLAIN = {
    "id": "22222222-3333-4444-8555-000000000002",
    "name": "plain",
    "region": "SBG5",
    "version": "1.33",
    "kubeProxyMode": "iptables",
    "status": "READY",
    "customization": {"apiServer": {"admissionPlugins": {"enabled": [], "disabled": []}}, "kubeProxy": {}},
}
BATCH = {
    "id": "22222222-3333-4444-8555-000000000003",
    "name": "batch",
    "region": "GRA5",
    "version": "1.32",
    "kubeProxyMode": "iptables",
    "status": "READY",
    "customization": {"kubeProxy": {"iptables": {"syncPeriod": "PT2M", "minSyncPeriod": "PT0S"}}},
}
ELSEWHERE = {"id": "22222222-3333-4444-8555-000000000004", "name": "elsewhere", "region": "BHS5"}


def seed(sandbox):
    sandbox.seed(
        {
            "projects": [
                {"serviceName": PROJECT, "clusters": [GATEWAY, PLAIN, BATCH]},
                {"serviceName": OTHER_PROJECT, "clusters": [ELSEWHERE]},
            ]
        }
    )


def export(run_ovhkube, sandbox, *args):
    return run_ovhkube("export", "--project", PROJECT, *map(str, args), env=sandbox.env())


def test_exported_folder_validates_and_plans_to_no_changes(sandbox, run_ovhkube, tmp_path):
    seed(sandbox)
    before = sandbox.show()
    folder = tmp_path / "clusters"

    result = export(run_ovhkube, sandbox, "--output", folder)

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["batch.yaml", "gateway.yaml", "plain.yaml"]
    assert sandbox.show() == before  # export only reads
    validated = run_ovhkube("validate", str(folder))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    planned = run_ovhkube("plan", str(folder), "--detailed-exitcode", env=sandbox.env())
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes" in planned.stdout


def test_exported_file_is_written_as_a_person_would_write_it(sandbox, run_ovhkube, tmp_path):
    seed(sandbox)
    export(run_ovhkube, sandbox, "--output", tmp_path)

    text = (tmp_path / "gateway.yaml").read_text()
    document = yaml.safe_load(text)

    assert text.startswith("# yaml-language-server: $schema=")
    assert text.count('version: "1.31"') == 1
    assert document["metadata"] == {"name": "gateway"}
    spec = document["spec"]
    assert (spec["project"], spec["region"], spec["id"], spec["kubeProxyMode"]) == (
        PROJECT,
        "GRA7",
        GATEWAY["id"],
        "ipvs",
    )
    assert spec["customization"] == {
        "apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction"], "disabled": ["AlwaysPullImages"]}},
        "kubeProxy": {
            "iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"},
            "ipvs": {"minSyncPeriod": "PT0S", "scheduler": "lc", "syncPeriod": "PT60S", "tcpTimeout": "PT900S"},
        },
    }
    assert spec["lifecycle"] == {"allowReset": False}
    plain = yaml.safe_load((tmp_path / "plain.yaml").read_text())["spec"]
    assert "customization" not in plain  # nothing set: not managed
    assert plain["version"] == "1.33"


def test_stdout_stream_holds_every_cluster_and_plans_to_no_changes(sandbox, run_ovhkube, tmp_path):
    seed(sandbox)

    result = export(run_ovhkube, sandbox)

    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert [d["metadata"]["name"] for d in documents] == ["gateway", "plain", "batch"]
    assert result.stdout.count("# yaml-language-server: $schema=") == 3
    saved = tmp_path / "all.yaml"
    saved.write_text(result.stdout)
    planned = run_ovhkube("plan", str(saved), "--detailed-exitcode", env=sandbox.env())
    assert planned.returncode == 0, planned.stdout + planned.stderr


def test_cluster_option_exports_only_the_named_ones(sandbox, run_ovhkube):
    seed(sandbox)

    result = export(run_ovhkube, sandbox, "--cluster", "batch")

    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert [d["metadata"]["name"] for d in documents] == ["batch"]
    assert documents[0]["spec"]["customization"] == {
        "kubeProxy": {"iptables": {"minSyncPeriod": "PT0S", "syncPeriod": "PT120S"}}
    }


def test_a_cluster_that_does_not_exist_is_an_error_naming_it_and_nothing_is_written(sandbox, run_ovhkube, tmp_path):
    seed(sandbox)
    folder = tmp_path / "out"

    result = export(run_ovhkube, sandbox, "--cluster", "batch", "--cluster", "nosuch", "--output", folder)

    assert result.returncode == 1
    assert "nosuch" in result.stderr and "Traceback" not in result.stderr
    assert not folder.exists() or not any(folder.iterdir())


def test_a_cluster_name_as_typed_is_shown_escaped_when_it_names_no_cluster(sandbox, run_ovhkube):
    seed(sandbox)

    result = export(run_ovhkube, sandbox, "--cluster", "x\x1b[2J\u202e\nfake", "--cluster", "")

    assert result.returncode == 1
    assert 'error: --cluster "x\\u001b[2J\\u202e\\nfake": no cluster of that name' in result.stderr
    assert 'error: --cluster "": no cluster of that name' in result.stderr  # an empty name is seen
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


def test_a_project_id_that_is_not_one_is_refused_before_any_call(run_ovhkube, sandbox):
    result = run_ovhkube("export", "--project", "my-project", env=sandbox.env())

    assert result.returncode == 1
    assert "32 lowercase hexadecimal" in result.stderr


def test_a_live_value_the_file_format_refuses_is_named_in_a_warning():
    from reconciler.export.documents import export_cluster

    # kube-proxy's default syncPeriod is 30 s, so validate refuses this minSyncPeriod; export says so, not silence.
    live = {"id": ELSEWHERE["id"], "name": "odd", "region": "GRA5", "kubeProxyMode": "iptables", "status": "READY"}
    exported = export_cluster(PROJECT, live, {"kubeProxy": {"iptables": {"minSyncPeriod": "PT45S"}}})

    assert exported.document["spec"]["customization"] == {"kubeProxy": {"iptables": {"minSyncPeriod": "PT45S"}}}
    (warning,) = exported.warnings
    assert warning.startswith("the file will not validate: spec.customization.kubeProxy.iptables.minSyncPeriod: ")
    assert export_cluster(PROJECT, live, {"kubeProxy": {"iptables": {"syncPeriod": "PT1M"}}}).warnings == []


def test_a_project_id_with_a_trailing_newline_is_refused_before_any_call(run_ovhkube, sandbox):
    result = run_ovhkube("export", "--project", PROJECT + "\n", env=sandbox.env())

    assert result.returncode == 1
    assert "32 lowercase hexadecimal" in result.stderr


def test_a_live_name_holding_a_bidi_control_is_written_escaped_in_the_file(sandbox, run_ovhkube, tmp_path):
    # A right-to-left override in a file under review shows the text reversed (the Trojan Source trick).
    hostile = dict(PLAIN, name="ab\u202ecd-é")
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [hostile, BATCH]}]})

    result = export(run_ovhkube, sandbox, "--output", tmp_path / "out")

    assert result.returncode == 0, result.stderr
    [written] = [path for path in (tmp_path / "out").iterdir() if path.name != "batch.yaml"]
    text = written.read_text(encoding="utf-8")
    assert text.isascii() and "\\u202e" in text.lower()
    assert yaml.safe_load(text)["metadata"]["name"] == "ab\u202ecd-é"  # the same name, read back
    assert "name: batch" in (tmp_path / "out" / "batch.yaml").read_text()

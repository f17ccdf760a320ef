"""Validation: every bad file in tests/bad/ gives its exact message at its exact place; the meaning rules;
the desired model; the compiled schema check agrees with jsonschema."""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.durations import _REGEX as DURATION_REGEX
from reconciler.files.fastcheck import compile_check
from reconciler.files.schema import load_schema
from reconciler.files.validate import Problem, load_desired
from reconciler.model import DesiredCluster, Lifecycle

BAD = Path(__file__).resolve().parent / "bad"
DURATION_HELP = (
    "not an ISO 8601 duration of days, hours, minutes and seconds (e.g. PT30S, PT1M30S, P1D; "
    "no years, months, weeks or sign)"
)
IPTABLES, IPVS = "spec.customization.kubeProxy.iptables", "spec.customization.kubeProxy.ipvs"
PLUGINS = "spec.customization.apiServer.admissionPlugins"
NULL_BLOCK = "is empty (null): write {} to enforce no customization, or remove the key to leave it unmanaged"

# file in tests/bad/ -> the one problem it must produce, as printed after "FILE:"
EXPECTED = {
    "allow-reset-string.yaml": '7:27: spec.lifecycle.allowReset: expected true or false, got a string ("yes please")',
    "allow-reset-yes.yaml": '7:27: spec.lifecycle.allowReset: expected true or false, got a string ("yes"); '
    "YAML 1.2 reads yes/no/on/off/y/n as strings: write true or false",
    "api-version.yaml": '1:13: apiVersion: must be ovhkube/v1; got "ovhkube/v2"',
    "binary-tag.yaml": "7:11: spec.region: expected a string, got binary data (!!binary R1JBNw==); "
    'quote it: "R1JBNw=="',
    "binary.yaml": "1:1: binary file (contains NUL bytes), not YAML text",
    "block-null.yaml": f"8:15: spec.customization.apiServer: {NULL_BLOCK}",
    "custom-tag.yaml": "7:11: spec.region: unsupported YAML tag !region",
    "customization-null.yaml": f"7:17: spec.customization: {NULL_BLOCK}",
    "duplicate-cluster.yaml": '11:9: metadata.name: cluster "web" of project 0123456789abcdef0123456789abcdef '
    "is already declared at {BAD}/duplicate-cluster.yaml:4",
    "duplicate-key.yaml": '8:3: spec.region: duplicate key "region" (first at line 7)',
    "duration-bare-pt.yaml": f'9:30: {IPTABLES}.syncPeriod: {DURATION_HELP}; got "PT"',
    "duration-months.yaml": f'9:30: {IPTABLES}.syncPeriod: {DURATION_HELP}; got "P1M"',
    "duration-non-ascii-digits.yaml": f'9:30: {IPTABLES}.syncPeriod: {DURATION_HELP}; got "PT٣٠S"',
    "duration-number.yaml": f"9:30: {IPTABLES}.syncPeriod: expected an ISO 8601 duration such as PT30S, "
    "got a number (30)",
    "duration-sign.yaml": f'9:26: {IPVS}.udpTimeout: {DURATION_HELP}; got "-PT5S"',
    "duration-trailing-newline.yaml": f'9:21: {IPTABLES}.syncPeriod: {DURATION_HELP}; got "PT30S\\n"',
    "duration-weeks.yaml": f'9:29: {IPVS}.tcpFinTimeout: {DURATION_HELP}; got "P1W"',
    "enum-mode.yaml": '7:18: spec.kubeProxyMode: must be one of: iptables, ipvs; got "nftables"',
    "enum-plugin.yaml": f"10:37: {PLUGINS}.enabled[1]: must be one of: AlwaysPullImages, NodeRestriction; "
    'got "PodSecurity"',
    "enum-scheduler.yaml": f'9:25: {IPVS}.scheduler: must be one of: dh, lc, nq, rr, sed, sh; got "wrr"',
    "enum-worker-policy.yaml": '7:52: spec.lifecycle.workerNodesPolicy: must be one of: delete, reinstall; got "keep"',
    "id-not-uuid.yaml": '7:7: spec.id: must be a cluster id in lowercase UUID form; got "not-a-uuid"',
    "latin1.yaml": "3:21: not UTF-8 text (byte 0xe9); save the file as UTF-8",
    "merge-key.yaml": f"11:9: {IPVS}: merge keys (<<) are not supported; write the fields out",
    "min-sync-above-default.yaml": f"9:33: {IPTABLES}.minSyncPeriod: must not be longer than kube-proxy's default "
    "syncPeriod (30s), which applies when syncPeriod is left out; got PT45S",
    "min-sync-above-sync.yaml": f"9:29: {IPVS}.minSyncPeriod: must not be longer than syncPeriod (PT30S); got PT1M",
    "missing-project.yaml": "4:1: spec.project: required field is missing",
    "not-a-mapping.yaml": "1:1: a document must be a mapping (apiVersion, kind, metadata, spec), not a list",
    "node-restriction-disabled.yaml": f"11:20: {PLUGINS}.disabled[0]: NodeRestriction cannot be disabled: OVHcloud "
    "keeps it enabled (only AlwaysPullImages can be off)",
    "plugin-both.yaml": f"11:20: {PLUGINS}.disabled[0]: AlwaysPullImages is both enabled and disabled",
    "plugin-twice.yaml": f'10:36: {PLUGINS}.enabled[1]: "NodeRestriction" is listed twice',
    "project-trailing-newline.yaml": "6:12: spec.project: must be a Public Cloud project id, 32 lowercase "
    'hexadecimal characters; got "0123456789abcdef0123456789abcdef\\n"',
    "project-unquoted-digits.yaml": "6:12: spec.project: expected a string, got a number "
    '(12345678901234567890123456789012); quote it: "12345678901234567890123456789012"',
    "project-uppercase.yaml": "6:12: spec.project: must be a Public Cloud project id, 32 lowercase hexadecimal "
    'characters; got "0123456789ABCDEF0123456789ABCDEF"',
    "region-lowercase.yaml": '7:11: spec.region: must be an OVHcloud region in capitals, e.g. GRA5; got "gra7"',
    "sync-period-zero.yaml": f"9:30: {IPTABLES}.syncPeriod: must be greater than 0; got PT0S",
    "syntax-error.yaml": "8:1: YAML syntax error: did not find expected ',' or '}' "
    "(while parsing a flow mapping at line 7)",
    "tcp-timeout-short.yaml": f"9:26: {IPVS}.tcpTimeout: must be 0 (keep the system value) or at least 5 seconds; "
    "got PT3S",
    "unknown-field-typo.yaml": f'10:9: {IPTABLES}.sncPeriod: unknown field (did you mean "syncPeriod"?)',
    "unknown-field.yaml": "7:3: spec.labels: unknown field; allowed here: project, region, id, version, kubeProxyMode, "
    "plan, updatePolicy, ipRestrictions, openIdConnect, privateNetwork, ipAllocationPolicy, customization, nodePools, "
    "delete, lifecycle",
    "cidr-malformed.yaml": "7:36: spec.ipRestrictions[1]: not an IP range in CIDR notation (e.g. 203.0.113.0/24) or an "
    'address; got "10.0.0.300/32"',
    "cidr-host-bits.yaml": "7:20: spec.ipRestrictions[0]: has host bits set: the range 10.1.2.3/8 is 10.0.0.0/8; "
    "write that",
    "oidc-http-issuer.yaml": "8:16: spec.openIdConnect.issuerUrl: must be an https URL (the API server fetches the "
    'issuer\'s keys over TLS); got "http://login.example.com"',
    "oidc-ca-not-pem.yaml": "10:16: spec.openIdConnect.caContent: must be a PEM certificate, base64-encoded: the "
    "decoded text holds no '-----BEGIN CERTIFICATE-----'",
    "oidc-disabled-with-fields.yaml": "7:45: spec.openIdConnect.clientId: must not be set when enabled is false "
    "(OIDC is then removed)",
    "oidc-missing-client.yaml": "7:18: spec.openIdConnect: clientId is required (or write enabled: false to enforce "
    "no OIDC)",
    "oidc-claim-not-key-value.yaml": '10:21: spec.openIdConnect.requiredClaim[0]: must be written key=value; got "aud"',
    "enum-update-policy.yaml": "7:17: spec.updatePolicy: must be one of: ALWAYS_UPDATE, MINIMAL_DOWNTIME, "
    'NEVER_UPDATE; got "SOMETIMES"',
    "version-unquoted.yaml": '7:12: spec.version: expected a string, got a number (1.3); quote it: "1.30"',
    "version-huge.yaml": '7:12: spec.version: must be a Kubernetes minor version such as "1.31" (a one-digit major, '
    'a minor of at most two digits); got "1.999999999999"',
}


def test_every_bad_file_has_an_expectation():
    assert sorted(p.name for p in BAD.glob("*.yaml") if p.name != "empty.yaml") == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_exactly_its_problem(name):
    path = str(BAD / name)
    loaded = load_desired([path])
    assert not loaded.ok
    assert loaded.clusters == []
    assert [str(p) for p in loaded.problems] == [f"{path}:{EXPECTED[name].replace('{BAD}', str(BAD))}"]


def test_an_empty_file_among_others_is_a_warning(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    write(tmp_path, "web.yaml", cluster_yaml())
    loaded = load_desired([str(tmp_path)])
    assert loaded.ok
    assert [str(p) for p in loaded.warnings] == [
        f"{tmp_path / 'empty.yaml'}:1:1: warning: no YAML documents in this file"
    ]


def test_a_path_with_no_cluster_documents_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    write(tmp_path / "foreign", "seed.yaml", "projects: []\n")
    write(tmp_path / "good", "web.yaml", cluster_yaml())
    paths = [str(BAD / "empty.yaml"), str(tmp_path / "empty"), str(tmp_path / "foreign"), str(tmp_path / "good")]
    loaded = load_desired(paths)
    assert {str(p) for p in loaded.problems} == {
        f"{BAD / 'empty.yaml'}: no desired-state documents (apiVersion: ovhkube/v1) in this file",
        f"{tmp_path / 'empty'}: no desired-state documents (apiVersion: ovhkube/v1) in this folder: "
        "no *.yaml or *.yml files",
        f"{tmp_path / 'foreign'}: no desired-state documents (apiVersion: ovhkube/v1) in the *.yaml / *.yml files "
        "of this folder (-v lists the files skipped)",
    }
    assert loaded.clusters == []


def test_all_problems_of_all_files_come_at_once_sorted_by_file_and_line():
    loaded = load_desired([str(BAD)])
    printed = [str(p) for p in loaded.problems]
    # Every valid corpus document declares the same cluster, so the cross-file rule speaks for each but the first.
    alone = {f"{BAD / name}:{expected}" for name, expected in EXPECTED.items() if name != "duplicate-cluster.yaml"}
    assert alone <= set(printed)
    others = [line for line in printed if line not in alone]
    assert others and all("is already declared at" in line for line in others)
    keys = [(p.file, p.line, p.column) for p in loaded.problems]
    assert keys == sorted(keys)


def write(tmp_path: Path, name: str, text: str) -> str:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def cluster_yaml(name="web", project="0123456789abcdef0123456789abcdef", spec_extra="") -> str:
    return (
        f"apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: {name}\nspec:\n  project: {project}\n{spec_extra}"
    )


@pytest.mark.parametrize("word", ["yes", "Yes", "on", "ON", "no", "off", "y", "n"])
def test_yaml_1_1_booleans_are_strings_so_they_never_open_the_reset_gate(tmp_path, word):
    text = cluster_yaml(spec_extra=f"  lifecycle:\n    allowReset: {word}\n")
    loaded = load_desired([write(tmp_path, "a.yaml", text)])
    assert [str(p).split(": ", 1)[1] for p in loaded.problems] == [
        f'spec.lifecycle.allowReset: expected true or false, got a string ("{word}"); '
        "YAML 1.2 reads yes/no/on/off/y/n as strings: write true or false"
    ]
    assert loaded.clusters == []


@pytest.mark.parametrize(("word", "value"), [("true", True), ("True", True), ("FALSE", False)])
def test_yaml_1_2_core_booleans_are_booleans(tmp_path, word, value):
    text = cluster_yaml(spec_extra=f"  lifecycle:\n    allowReset: {word}\n")
    (cluster,) = load_desired([write(tmp_path, "a.yaml", text)]).clusters
    assert cluster.lifecycle.allow_reset is value


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("!!bool yes", 'cannot read "yes" as !!bool: a YAML 1.2 boolean is true or false'),
        ("012", "expected true or false, got a number (12)"),  # YAML 1.2: decimal twelve, not octal ten
        ("2024-01-01", 'expected true or false, got a string ("2024-01-01")'),  # no implicit dates in YAML 1.2
    ],
)
def test_scalars_are_typed_by_the_yaml_1_2_core_schema(tmp_path, written, problem):
    text = cluster_yaml(spec_extra=f"  lifecycle:\n    allowReset: {written}\n")
    loaded = load_desired([write(tmp_path, "a.yaml", text)])
    assert problem in [p.message for p in loaded.problems]


def test_several_problems_in_one_document_are_all_reported(tmp_path):
    path = write(
        tmp_path,
        "many.yaml",
        cluster_yaml(spec_extra="  kubeProxyMode: nft\n  region: gra\n  extra: 1\n  lifecycle: {allowReset: 1}\n"),
    )
    paths = [p.path for p in load_desired([path]).problems]
    assert paths == ["spec.kubeProxyMode", "spec.region", "spec.extra", "spec.lifecycle.allowReset"]


def test_meaning_rules_report_alongside_the_schema_so_every_problem_comes_out_at_once(tmp_path):
    spec = "  kubeProxyMode: nft\n  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT0S}\n"
    loaded = load_desired([write(tmp_path, "a.yaml", cluster_yaml(spec_extra=spec))])
    paths = [p.path for p in loaded.problems]
    assert paths == ["spec.kubeProxyMode", "spec.customization.kubeProxy.iptables.syncPeriod"]


@pytest.mark.parametrize("kube_proxy", ["x", "[1, 2]", "{ipvs: [PT3S]}", "{ipvs: {tcpTimeout: 3, syncPeriod: P1M}}"])
def test_meaning_rules_skip_what_is_not_well_formed(tmp_path, kube_proxy):
    spec = f"  customization:\n    kubeProxy: {kube_proxy}\n"
    loaded = load_desired([write(tmp_path, "a.yaml", cluster_yaml(spec_extra=spec))])
    assert loaded.problems, "the schema reports the shape"
    assert not any("greater than 0" in p.message or "at least 5 seconds" in p.message for p in loaded.problems)


def test_the_same_cluster_in_two_files_names_both_places(tmp_path):
    first = write(tmp_path, "a.yaml", cluster_yaml())
    second = write(tmp_path, "b.yaml", "# comment\n" + cluster_yaml())
    loaded = load_desired([first, second])
    assert [str(p) for p in loaded.problems] == [
        f'{second}:5:9: metadata.name: cluster "web" of project 0123456789abcdef0123456789abcdef '
        f"is already declared at {first}:4"
    ]


def test_same_name_in_two_projects_is_two_clusters(tmp_path):
    first = write(tmp_path, "a.yaml", cluster_yaml())
    second = write(tmp_path, "b.yaml", cluster_yaml(project="fedcba9876543210fedcba9876543210"))
    assert len(load_desired([first, second]).clusters) == 2


def test_a_pinned_id_declared_twice_is_an_error(tmp_path):
    pin = "  id: 0b6f7c1e-3d2a-4f5b-9c8d-7e6a5b4c3d21\n"
    path = write(tmp_path, "a.yaml", cluster_yaml("a", spec_extra=pin) + "---\n" + cluster_yaml("b", spec_extra=pin))
    assert [p.message for p in load_desired([path]).problems] == [
        f"cluster id 0b6f7c1e-3d2a-4f5b-9c8d-7e6a5b4c3d21 is already declared at {path}:7"
    ]


@pytest.mark.parametrize(
    ("tuning", "problem"),
    [
        ("iptables: {minSyncPeriod: PT30S, syncPeriod: PT0.5M}", None),  # not a duration: PT0.5M
        ("iptables: {minSyncPeriod: PT30S, syncPeriod: PT30S}", None),
        ("iptables: {minSyncPeriod: PT31S, syncPeriod: PT30S}", "minSyncPeriod"),
        ("iptables: {minSyncPeriod: PT1M, syncPeriod: PT0H1M0S}", None),
        ("ipvs: {minSyncPeriod: PT30S}", None),
        ("ipvs: {syncPeriod: P0D}", "syncPeriod"),
        ("ipvs: {syncPeriod: PT0.001S}", None),
        ("ipvs: {tcpTimeout: PT0S}", None),
        ("ipvs: {tcpTimeout: P0D}", None),
        ("ipvs: {tcpTimeout: PT4.9S}", "tcpTimeout"),
        ("ipvs: {tcpTimeout: PT5S}", None),
        ("ipvs: {tcpTimeout: null, syncPeriod: null}", None),
        ("ipvs: {udpTimeout: PT2S, tcpFinTimeout: PT1S}", None),
    ],
)
def test_period_and_timeout_rules(tmp_path, tuning, problem):
    spec = f"  customization:\n    kubeProxy:\n      {tuning}\n"
    loaded = load_desired([write(tmp_path, "a.yaml", cluster_yaml(spec_extra=spec))])
    found = [p.path.rsplit(".", 1)[-1] for p in loaded.problems]
    if "PT0.5M" in tuning:
        assert found == ["syncPeriod"]  # fractions only on seconds
    else:
        assert found == ([problem] if problem else [])


def test_worker_nodes_policy_without_allow_reset_is_a_warning(tmp_path):
    spec = "  lifecycle: {workerNodesPolicy: reinstall}\n"
    loaded = load_desired([write(tmp_path, "a.yaml", cluster_yaml(spec_extra=spec))])
    assert loaded.ok and len(loaded.clusters) == 1
    assert [p.message for p in loaded.warnings] == [
        "has no effect unless allowReset is true (it only applies to a reset)"
    ]


# --- the desired model -------------------------------------------------------------------------------------


def only_cluster(tmp_path, spec_extra: str) -> DesiredCluster:
    loaded = load_desired([write(tmp_path, "c.yaml", "# header\n" + cluster_yaml(spec_extra=spec_extra))])
    assert loaded.ok, loaded.problems
    (cluster,) = loaded.clusters
    return cluster


def test_model_keeps_identity_source_and_fields(tmp_path):
    spec = (
        "  region: GRA7\n  id: 0b6f7c1e-3d2a-4f5b-9c8d-7e6a5b4c3d21\n  version: '1.31'\n  kubeProxyMode: ipvs\n"
        "  lifecycle: {allowReset: true, workerNodesPolicy: reinstall}\n"
    )
    cluster = only_cluster(tmp_path, spec)
    assert cluster == DesiredCluster(
        project="0123456789abcdef0123456789abcdef",
        name="web",
        source=f"{tmp_path / 'c.yaml'}:2",
        region="GRA7",
        id="0b6f7c1e-3d2a-4f5b-9c8d-7e6a5b4c3d21",
        version="1.31",
        kube_proxy_mode="ipvs",
        customization={},
        lifecycle=Lifecycle(allow_reset=True, worker_nodes_policy="reinstall"),
    )


@pytest.mark.parametrize(
    ("written", "managed"),
    [
        ("", {}),
        ("  customization: {}\n", {"apiServer": {}, "kubeProxy": {}}),
        ("  customization: {apiServer: {}}\n", {"apiServer": {}}),
        (
            "  customization: {kubeProxy: {iptables: {syncPeriod: PT1M}}}\n",
            {"kubeProxy": {"iptables": {"syncPeriod": "PT1M"}}},  # as written: durations are not rewritten
        ),
        (
            "  customization: {apiServer: {admissionPlugins: null}, kubeProxy: {ipvs: null}}\n",
            {"apiServer": {"admissionPlugins": None}, "kubeProxy": {"ipvs": None}},
        ),
    ],
)
def test_model_holds_only_the_managed_blocks(tmp_path, written, managed):
    assert only_cluster(tmp_path, written).customization == managed


def test_source_is_the_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fleet").mkdir()
    (tmp_path / "fleet" / "a.yaml").write_text(cluster_yaml("a") + "---\n" + cluster_yaml("b"))
    loaded = load_desired(["fleet"])
    assert [c.source for c in loaded.clusters] == ["fleet/a.yaml:1", "fleet/a.yaml:8"]  # line 7 is the "---"


def test_no_clusters_come_out_while_any_file_has_an_error(tmp_path):
    good = write(tmp_path, "good.yaml", cluster_yaml("a"))
    bad = write(tmp_path, "bad.yaml", cluster_yaml("b", spec_extra="  kubeProxyMode: x\n"))
    loaded = load_desired([good, bad])
    assert not loaded.ok and loaded.clusters == []


def test_problem_text_and_dict():
    problem = Problem("a.yaml", 3, 5, "spec.region", "bad", "warning")
    assert str(problem) == "a.yaml:3:5: warning: spec.region: bad"
    assert str(Problem("gone.yaml", 0, 0, "", "no such file or directory")) == "gone.yaml: no such file or directory"
    assert problem.to_dict() == {
        "file": "a.yaml",
        "line": 3,
        "column": 5,
        "path": "spec.region",
        "message": "bad",
        "severity": "warning",
    }


# --- the schema and the compiled check ---------------------------------------------------------------------


def test_schema_duration_pattern_is_the_duration_module_regex():
    schema_pattern = load_schema()["$defs"]["duration"]["pattern"]
    assert schema_pattern == re.sub(r"\?P<\w+>", "", DURATION_REGEX.pattern)


@pytest.mark.parametrize(
    "text", ["PT30S", "PT1M", "PT0H1M0S", "P0D", "P1DT2H", "PT0.5S", "P", "PT", "P1M", "P1Y", "P1W", "-PT1S", "PT1.S"]
)
def test_schema_and_durations_module_agree(text):
    from reconciler.durations import is_duration

    pattern = load_schema()["$defs"]["duration"]["pattern"]
    assert (re.search(pattern, text) is not None) == is_duration(text)


def test_the_compiled_check_knows_every_keyword_of_the_schema():
    assert compile_check(load_schema()) is not None


def test_the_compiled_check_gives_up_on_a_keyword_it_does_not_know():
    assert compile_check({"type": "number", "multipleOf": 3}) is None


VALID = {
    "apiVersion": "ovhkube/v1",
    "kind": "Cluster",
    "metadata": {"name": "web"},
    "spec": {
        "project": "0123456789abcdef0123456789abcdef",
        "region": "GRA7",
        "id": "0b6f7c1e-3d2a-4f5b-9c8d-7e6a5b4c3d21",
        "version": "1.31",
        "kubeProxyMode": "ipvs",
        "customization": {
            "apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages"], "disabled": ["NodeRestriction"]}},
            "kubeProxy": {
                "iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"},
                "ipvs": {"scheduler": "rr", "syncPeriod": "PT30S", "tcpTimeout": "PT0S", "udpTimeout": None},
            },
        },
        "nodePools": {
            "workers": {
                "flavorName": "b3-8",
                "desiredNodes": 3,
                "autoscaling": {"scaleDownUtilizationThreshold": 0.5},
                "availabilityZones": ["eu-west-par-a"],
                "template": {
                    "metadata": {"labels": {"tier": "web"}, "finalizers": ["example.com/keep"]},
                    "spec": {"taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}]},
                },
            },
            "old": {"delete": True},
        },
        "lifecycle": {"allowReset": True, "workerNodesPolicy": "reinstall", "allowPoolReplace": True},
    },
}
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["PT30S", "P0D", "ipvs", "rr", "AlwaysPullImages", "GRA7", "1.31", "ovhkube/v1", "Cluster"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def leaf_paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, path + (index,))


PATHS = list(leaf_paths(VALID))


def replaced(document, path, value):
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = replaced(copy[path[0]], path[1:], value)
    return copy


def found_at(document, path):
    for part in path:
        document = document[part]
    return document


MAPPING_PATHS = [path for path in PATHS if isinstance(found_at(VALID, path), dict)]
REFERENCE = Draft202012Validator(load_schema())
COMPILED = compile_check(load_schema())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    value=JSON_VALUES,
    extra=st.none() | st.tuples(st.sampled_from(MAPPING_PATHS), st.text(max_size=12)),
)
@example(path=("spec", "nodePools", "workers", "desiredNodes"), value=0.0, extra=None)  # 0.0 is an integer there
@example(path=("spec", "nodePools", "workers", "desiredNodes"), value=0.5, extra=None)
def test_the_compiled_check_agrees_with_jsonschema(path, value, extra):
    document = with_key(replaced(VALID, path, value), extra, "PT30S")
    assert COMPILED(document) == REFERENCE.is_valid(document)


def with_key(document, extra, value):
    """The document with, sometimes (extra is not None), a new key in some mapping."""
    if extra is None:
        return document
    where, key = extra
    try:
        target = found_at(document, where)
    except (KeyError, IndexError, TypeError):
        return document
    return replaced(document, where, {**target, key: value}) if isinstance(target, dict) else document


VALID_DEFAULTS = {
    "apiVersion": "ovhkube/v1",
    "kind": "ClusterDefaults",
    "metadata": {"name": "prod"},
    "selector": {
        "projects": ["0123456789abcdef0123456789abcdef"],
        "regions": ["GRA7"],
        "names": ["web-*"],
        "matchLabels": {"env": "prod"},
    },
    "spec": {
        "version": "1.31",
        "customization": {"kubeProxy": {"iptables": {"syncPeriod": "PT30S"}}},
        "lifecycle": {"workerNodesPolicy": "reinstall"},
        "nodePools": {"workers": {"flavorName": "b3-8", "template": {"metadata": {"labels": {"tier": "web"}}}}},
    },
}
VALID_LABELLED = replaced(VALID, ("metadata",), {"name": "web", "labels": {"env": "prod", "tier": "1"}})
DEFAULTS_PATHS = list(leaf_paths(VALID_DEFAULTS))
DEFAULTS_MAPPING_PATHS = [path for path in DEFAULTS_PATHS if isinstance(found_at(VALID_DEFAULTS, path), dict)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(DEFAULTS_PATHS),
    value=JSON_VALUES | st.sampled_from(["ClusterDefaults", "allowReset", "project"]),
    extra=st.none()
    | st.tuples(
        st.sampled_from(DEFAULTS_MAPPING_PATHS),
        st.text(max_size=12)
        | st.sampled_from(["allowReset", "allowUpgrade", "project", "region", "id", "labels", "delete"]),
    ),
)
def test_the_compiled_check_agrees_with_jsonschema_on_defaults_documents(path, value, extra):
    document = with_key(replaced(VALID_DEFAULTS, path, value), extra, True)
    assert COMPILED(document) == REFERENCE.is_valid(document)


def test_the_valid_reference_document_is_valid():
    for document in (VALID, VALID_DEFAULTS, VALID_LABELLED):
        assert REFERENCE.is_valid(document)
        assert COMPILED(document)
    assert not COMPILED(replaced(VALID_LABELLED, ("metadata", "labels", "env"), True))

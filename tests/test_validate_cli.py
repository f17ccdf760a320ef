"""`ovhkube validate` and `ovhkube schema` as users and scripts meet them: output, exit codes, formats,
start-up imports, the wheel's copy of the schema, and no traceback or hang on any input."""

import contextlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main

REPO = Path(__file__).resolve().parent.parent
OVHKUBE = str(Path(sys.executable).parent / "ovhkube")
BAD = REPO / "tests" / "bad"
VALID = """apiVersion: ovhkube/v1
kind: Cluster
metadata:
  name: web
spec:
  project: 0123456789abcdef0123456789abcdef
  kubeProxyMode: ipvs
  customization:
    kubeProxy:
      ipvs: {syncPeriod: PT30S, tcpTimeout: PT0S}
"""


def ovhkube(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([OVHKUBE, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_valid_files_exit_0_with_a_summary(tmp_path):
    (tmp_path / "a.yaml").write_text(VALID)
    result = ovhkube("validate", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "1 file, 1 cluster: valid\n"


def test_problems_exit_1_one_line_each_then_a_summary():
    result = ovhkube("validate", "tests/bad/enum-mode.yaml", "tests/bad/sync-period-zero.yaml", "tests/bad/empty.yaml")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "tests/bad/empty.yaml: no desired-state documents (apiVersion: ovhkube/v1) in this file",  # said once
        'tests/bad/enum-mode.yaml:7:18: spec.kubeProxyMode: must be one of: iptables, ipvs; got "nftables"',
        "tests/bad/sync-period-zero.yaml:9:30: spec.customization.kubeProxy.iptables.syncPeriod: "
        "must be greater than 0; got PT0S",
        "3 errors in 3 files",
    ]


def test_json_format_lists_every_problem_for_editors_and_ci():
    result = ovhkube("validate", "--format", "json", "tests/bad/duplicate-key.yaml", "missing.yaml")
    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {
            "file": "missing.yaml",
            "line": 0,
            "column": 0,
            "path": "",
            "message": "no such file or directory",
            "severity": "error",
        },
        {
            "file": "tests/bad/duplicate-key.yaml",
            "line": 8,
            "column": 3,
            "path": "spec.region",
            "message": 'duplicate key "region" (first at line 7)',
            "severity": "error",
        },
    ]


def test_json_format_of_valid_files_is_an_empty_list(tmp_path):
    (tmp_path / "a.yaml").write_text(VALID)
    result = ovhkube("validate", "--format=json", str(tmp_path))
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_a_path_is_required():
    result = ovhkube("validate")
    assert result.returncode == 1
    assert "Missing argument" in result.stderr


def test_schema_prints_the_schema_file():
    result = ovhkube("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((REPO / "schemas" / "cluster.schema.json").read_text())


def test_schema_plan_prints_the_plan_schema():
    result = ovhkube("schema", "--plan")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((REPO / "schemas" / "plan.schema.json").read_text())
    assert json.loads(result.stdout)["$id"] != json.loads(ovhkube("schema").stdout)["$id"]


def modules_loaded_by(*args: str) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['ovhkube', *{list(args)!r}]\n"
        "from reconciler.cli import main\n"
        "main()\n"
        "print(' '.join(sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    return {name.split(".")[0] for name in result.stderr.split()}


def test_version_and_validate_start_without_the_api_client_or_rich():
    heavy = {"ovh", "requests", "rich"}
    assert modules_loaded_by("--version") & (heavy | {"jsonschema", "yaml"}) == set()
    assert modules_loaded_by("validate", "examples") & heavy == set()
    # jsonschema is needed only to explain a document that fails the compiled check
    assert "jsonschema" not in modules_loaded_by("validate", "examples")
    assert "jsonschema" in modules_loaded_by("validate", "tests/bad/enum-mode.yaml")


def test_the_wheel_carries_the_schema(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("ovhkube-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in ("cluster.schema.json", "plan.schema.json"):
            packaged = archive.read(f"reconciler/{name}")
            assert json.loads(packaged) == json.loads((REPO / "schemas" / name).read_text())


# --- no traceback, no hang, whatever the input --------------------------------------------------------------

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def main_in_process(*args: str) -> tuple[int, str]:
    """cli.main(argv) in this process: (exit code, stdout); a crash (main's last guard) fails the test."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(args))
    assert "internal error" not in stderr.getvalue(), stderr.getvalue()
    return code, stdout.getvalue()


def validate_in_process(path: Path) -> None:
    for output_format in ("text", "json"):
        code, output = main_in_process("validate", "--format", output_format, str(path))
        assert code in (0, 1), output
    problems = json.loads(output)
    assert (code == 0) == all(problem["severity"] == "warning" for problem in problems)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["PT30S", "P0D", "PT0S", "PT4S", "P1M", "", "~", "ipvs", "AlwaysPullImages", "1.31", "GRA7"])
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    ("apiVersion",),
    ("kind",),
    ("metadata",),
    ("metadata", "name"),
    ("spec",),
    ("spec", "project"),
    ("spec", "kubeProxyMode"),
    ("spec", "region"),
    ("spec", "id"),
    ("spec", "version"),
    ("spec", "customization"),
    ("spec", "customization", "kubeProxy"),
    ("spec", "customization", "kubeProxy", "ipvs"),
    ("spec", "customization", "kubeProxy", "ipvs", "syncPeriod"),
    ("spec", "customization", "kubeProxy", "ipvs", "tcpTimeout"),
    ("spec", "customization", "apiServer"),
    ("spec", "customization", "apiServer", "admissionPlugins"),
    ("spec", "customization", "apiServer", "admissionPlugins", "enabled"),
    ("spec", "lifecycle"),
    ("spec", "lifecycle", "allowReset"),
    ("spec", "lifecycle", "workerNodesPolicy"),
    ("spec", "lifecycle", "maintenanceWindow"),
    ("spec", "lifecycle", "maintenanceWindow", "timeZone"),
    ("spec", "lifecycle", "maintenanceWindow", "days"),
    ("spec", "lifecycle", "maintenanceWindow", "start"),
    ("spec", "lifecycle", "allowDelete"),
    ("metadata", "renamedFrom"),
    ("metadata", "labels"),
    ("spec", "delete"),
    ("spec", "plan"),
    ("spec", "privateNetwork"),
    ("spec", "privateNetwork", "gateway"),
    ("spec", "privateNetwork", "nodesSubnetId"),
    ("spec", "ipAllocationPolicy"),
    ("spec", "ipAllocationPolicy", "podsIpv4Cidr"),
    ("spec", "customization", "cilium"),
    ("spec", "nodePools"),
    ("spec", "nodePools", "workers"),
    ("spec", "nodePools", "workers", "desiredNodes"),
    ("spec", "nodePools", "workers", "availabilityZones"),
    ("spec", "nodePools", "workers", "template"),
    ("spec", "nodePools", "workers", "template", "spec", "taints"),
    ("spec", "nodePools", "workers", "template", "metadata", "labels"),
]


def with_value(document: dict, path: tuple, value) -> dict:
    copy = dict(document)
    head, *rest = path
    inner = copy.get(head)
    copy[head] = with_value(inner if isinstance(inner, dict) else {}, tuple(rest), value) if rest else value
    return copy


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(FIELDS), STRUCTURES), min_size=1, max_size=4))
def test_random_values_in_every_field_never_crash(tmp_path, changes):
    document = yaml.safe_load(VALID)
    for path, value in changes:
        document = with_value(document, path, value)
    target = tmp_path / "fuzz.yaml"
    target.write_text(yaml.safe_dump(document, allow_unicode=True))
    validate_in_process(target)


@FUZZ
@given(documents=st.lists(STRUCTURES, max_size=3))
def test_random_yaml_structures_never_crash(tmp_path, documents):
    target = tmp_path / "fuzz.yaml"
    target.write_text(yaml.safe_dump_all(documents, allow_unicode=True))
    validate_in_process(target)


YAML_PIECES = st.sampled_from(
    [
        "a:",
        " b",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&x ",
        "*x",
        "!!int ",
        "!t ",
        "<<: ",
        "---\n",
        "...\n",
        "? ",
        "\n",
        "  ",
        "\t",
        "'",
        '"',
        "#",
        "|\n  ",
        ">",
        "%YAML 1.1\n",
        "PT30S",
        "spec:",
        "\u00e9",
        "\x00",
        "\ufeff",
    ]
)


@FUZZ
@given(text=st.lists(YAML_PIECES | st.text(max_size=5), max_size=40).map("".join))
def test_random_text_never_crashes(tmp_path, text):
    target = tmp_path / "fuzz.yaml"
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    validate_in_process(target)


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_never_crash(tmp_path, data):
    target = tmp_path / "fuzz.yaml"
    target.write_bytes(data)
    validate_in_process(target)


def test_every_bad_file_at_once_in_process():
    code, output = main_in_process("validate", str(BAD))
    assert code == 1 and output


def test_a_value_its_tag_cannot_read_is_reported_once_in_words(tmp_path):
    spec = "  version: !!float x\n  customization:\n    kubeProxy:\n      iptables: {syncPeriod: !!int abc}\n"
    (tmp_path / "a.yaml").write_text(VALID.split("  kubeProxyMode")[0] + spec)
    result = ovhkube("validate", str(tmp_path / "a.yaml"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}/a.yaml:7:12: spec.version: cannot read " + '"x" as !!float: not a number',
        f"{tmp_path}/a.yaml:10:30: spec.customization.kubeProxy.iptables.syncPeriod: "
        + 'cannot read "abc" as !!int: not a YAML 1.2 integer',
        "2 errors in 1 file",
    ]


def test_a_number_thousands_of_digits_long_is_one_problem_not_an_internal_error(tmp_path):
    spec = f"  region: 0x{'f' * 5000}\n  version: {'1' * 5000}\n"
    (tmp_path / "a.yaml").write_text(VALID.split("  kubeProxyMode")[0] + spec)
    result = ovhkube("validate", str(tmp_path / "a.yaml"))
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        f"{tmp_path}/a.yaml:{line}: spec.{field}: a number of more than 100 characters; quote it if it is text"
        for line, field in (("7:11", "region"), ("8:12", "version"))
    ] + ["2 errors in 1 file"]


def test_values_are_shown_as_yaml_writes_them_never_as_python_reprs(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "apiVersion: [ovhkube/v1]\nkind: Cluster\nmetadata:\n  name: web\nspec:\n"
        "  project: 0123456789abcdef0123456789abcdef\n  kubeProxyMode: .inf\n  id: true\n  region: !!binary R1JBNw==\n"
        "  updatePolicy: {a: 1}\n"
        "  customization:\n    apiServer:\n      admissionPlugins: {enabled: [1, true, true], disabled: [null]}\n"
    )
    result = ovhkube("validate", "--format", "json", str(tmp_path / "a.yaml"))
    assert result.returncode == 1
    plugins = "spec.customization.apiServer.admissionPlugins"
    assert [f"{p['path']}: {p['message']}" for p in json.loads(result.stdout)] == [
        'apiVersion: must be ovhkube/v1; got ["ovhkube/v1"]',
        "spec.kubeProxyMode: must be one of: iptables, ipvs; got .inf",
        'spec.id: expected a string, got a boolean (true); quote it: "true"',
        'spec.region: expected a string, got binary data (!!binary R1JBNw==); quote it: "R1JBNw=="',
        'spec.updatePolicy: must be one of: ALWAYS_UPDATE, MINIMAL_DOWNTIME, NEVER_UPDATE; got {"a": 1}',
        f"{plugins}.enabled[0]: must be one of: AlwaysPullImages, NodeRestriction; got 1",
        f"{plugins}.enabled[1]: must be one of: AlwaysPullImages, NodeRestriction; got true",
        f"{plugins}.enabled[2]: must be one of: AlwaysPullImages, NodeRestriction; got true",
        f"{plugins}.enabled[2]: true is listed twice",  # the second true, not the true equal to 1
        f"{plugins}.disabled[0]: must be one of: AlwaysPullImages, NodeRestriction; got null",
    ]


def test_a_number_written_twice_as_int_and_float_is_one_problem_at_the_second(tmp_path):
    # JSON Schema holds 0 and 0.0 for one number, and true for no number at all.
    (tmp_path / "a.yaml").write_text(
        "apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: web\nspec:\n"
        "  project: 0123456789abcdef0123456789abcdef\n  region: GRA11\n"
        "  lifecycle:\n    maintenanceWindow: {days: [Mon, 0, 0.0, true], start: '02:00', duration: PT2H}\n"
    )
    result = ovhkube("validate", "--format", "json", str(tmp_path / "a.yaml"))
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    twice = [p["path"] for p in json.loads(result.stdout) if "listed twice" in p["message"]]
    assert twice == ["spec.lifecycle.maintenanceWindow.days[2]"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        # A file of empty documents named alone: one error, not a warning per document besides.
        (b"---\n---\n# nothing yet\n", ": no desired-state documents (apiVersion: ovhkube/v1) in this file"),
        # What PowerShell's `>` writes: named so, not called binary.
        (VALID.encode("utf-16"), ":1:1: UTF-16 text, not UTF-8; save the file as UTF-8"),
    ],
    ids=["empty-documents", "utf-16"],
)
def test_a_file_named_alone_that_holds_no_readable_document_is_one_error(tmp_path, content, error):
    (tmp_path / "a.yaml").write_bytes(content)
    result = ovhkube("validate", str(tmp_path / "a.yaml"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{tmp_path}/a.yaml{error}", "1 error in 1 file"]


def test_yaml_syntax_errors_name_the_character_or_alias_libyaml_leaves_out(tmp_path):
    head = VALID.split("spec:")[0]
    cases = {
        "tab.yaml": head.replace("  name: web", "\tname: web"),
        "at.yaml": head + "spec: {project: @x}\n",
        "alias.yaml": head + "spec: {project: *nope}\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    result = ovhkube("validate", *(str(tmp_path / name) for name in cases))
    assert result.returncode == 1
    assert result.stdout.splitlines()[:-1] == [
        f"{tmp_path}/alias.yaml:5:17: YAML syntax error: found undefined alias *nope (an alias refers to an &anchor "
        "above it in the same document)",
        f"{tmp_path}/at.yaml:5:17: YAML syntax error: while scanning for the next token: found character " + '"@" '
        "that cannot start any token; quote the value",
        f"{tmp_path}/tab.yaml:4:1: YAML syntax error: while scanning for the next token: found a tab: YAML indents "
        "with spaces, not tabs",
    ]


def test_control_plane_values_are_shown_cut_and_unescaped_and_a_broken_url_is_a_problem_not_a_crash(tmp_path):
    long_range = "é" + "x" * 300
    spec = (
        f'  ipRestrictions: ["{long_range}"]\n'
        '  openIdConnect: {clientId: a, issuerUrl: "https://[::1"}\n'  # urlsplit raises on the open bracket
    )
    (tmp_path / "a.yaml").write_text(VALID.split("  kubeProxyMode")[0] + spec)
    result = ovhkube("validate", str(tmp_path / "a.yaml"))
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        f"{tmp_path}/a.yaml:7:20: spec.ipRestrictions[0]: not an IP range in CIDR notation (e.g. 203.0.113.0/24) or "
        f'an address; got "{long_range[:40]}..."',
        f'{tmp_path}/a.yaml:8:43: spec.openIdConnect.issuerUrl: is not a URL; got "https://[::1"',
        "2 errors in 1 file",
    ]


def test_null_ip_restrictions_or_oidc_say_how_to_write_none_or_unmanaged(tmp_path):
    (tmp_path / "a.yaml").write_text(VALID.split("  kubeProxyMode")[0] + "  ipRestrictions:\n  openIdConnect: ~\n")
    result = ovhkube("validate", str(tmp_path / "a.yaml"))
    assert result.returncode == 1
    assert result.stdout.splitlines()[:-1] == [
        f"{tmp_path}/a.yaml:7:18: spec.ipRestrictions: is empty (null): write [] to enforce no IP restriction, "
        "or remove the key to leave it unmanaged",
        f"{tmp_path}/a.yaml:8:18: spec.openIdConnect: is empty (null): write {{enabled: false}} to enforce no OIDC, "
        "or remove the key to leave it unmanaged",
    ]


def test_dev_null_named_as_a_file_is_called_a_file_not_a_folder():
    result = ovhkube("validate", "/dev/null")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "/dev/null: no desired-state documents (apiVersion: ovhkube/v1) in this file",
        "1 error in 1 file",
    ]


def test_an_unknown_kind_is_one_problem_with_a_suggestion_not_the_cluster_schemas_guesses(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "apiVersion: ovhkube/v1\nkind: ClusterDefault\nmetadata: {name: prod}\nselector: {}\n"
        "spec: {customization: {kubeProxy: {iptables: {syncPeriod: PT45S}}}}\n"
    )
    result = ovhkube("validate", str(tmp_path / "a.yaml"))
    assert result.returncode == 1
    assert (
        result.stdout.splitlines()
        == [  # was also: selector: unknown field; spec.project: required field is missing
            f"{tmp_path}/a.yaml:2:7: kind: must be one of: Cluster, ClusterDefaults, Account, Rollout; got "
            + '"ClusterDefault" '
            '(did you mean "ClusterDefaults"?)',
            "1 error in 1 file",
        ]
    )

"""The layout's rules, kept by tests (see docs/architecture.md):
- nothing outside commands/ and cli.py (the engine, the leaves, the sandbox) imports the CLI framework: the engine
  raises UserError, returns values, and paints through reconciler.paint;
- only live/client.py (HTTP) and commands/connect.py (endpoint resolution) import ovh or requests when loaded, so a
  command that needs no API (validate, schema, --version) starts without them (test_validate_cli checks the
  modules such a start loads);
- importing the whole engine loads none of them (no engine module imports the client at module level).
The sandbox's own rule is in test_sandbox_independence."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from test_sandbox_independence import imported_modules

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
ENGINE = ("files/", "live/read.py", "plan/", "apply/", "drift/", "export/")
ENGINE_LEAVES = ("model.py", "errors.py", "durations.py", "paint.py", "steps.py", "versions.py", "forges.py")
CLI_FRAMEWORK = ("typer", "click", "rich")
API_CLIENT = ("ovh", "requests")
MAY_LOAD_THE_API_CLIENT = {"live/client.py", "commands/connect.py"}


def engine_files() -> list[Path]:
    found = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).as_posix().startswith(ENGINE)]
    return sorted(found + [PACKAGE / leaf for leaf in ENGINE_LEAVES])


def _top(module: str) -> str:
    return module.split(".")[0]


def imported_when_loaded(path: Path) -> set[str]:
    """Modules a file imports as it is loaded: at module level and in class bodies, not inside functions."""
    modules: set[str] = set()
    pending = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return modules


def test_nothing_outside_the_commands_imports_the_cli_framework():
    outside = [
        p for p in PACKAGE.rglob("*.py") if not p.relative_to(PACKAGE).as_posix().startswith(("commands/", "cli.py"))
    ]
    assert set(engine_files()) <= set(outside) and len(outside) > 40
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sorted(outside)
        for module in sorted(imported_modules(path))
        if _top(module) in CLI_FRAMEWORK
    ]
    assert offenders == []


def test_only_the_client_and_connect_load_ovh_or_requests():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in MAY_LOAD_THE_API_CLIENT:
            offenders += [f"{relative} imports {m}" for m in imported_when_loaded(path) if _top(m) in API_CLIENT]
    assert offenders == []


def test_the_whole_engine_loads_without_the_api_client_or_the_cli_framework():
    names = [
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in engine_files()
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(API_CLIENT + CLI_FRAMEWORK)!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_the_rules_see_what_they_must(tmp_path):
    source = tmp_path / "mixed.py"
    source.write_text("import json\nclass A:\n    import ovh\ndef f():\n    import requests\n")
    assert imported_when_loaded(source) == {"json", "ovh"}  # a lazy import in a function is allowed


# The step module turns a step into method and path, and makes the paths live/ reads; live/ sends and reads them;
# the sandbox is the API's own emulation. Nothing else builds or parses an API path.
MAY_NAME_API_PATHS = ("steps.py", "live/", "sandbox/")
# "GET .../customization" in a message is no path; an IAM action (apiovh:kube/reset) is none either.
API_PATH = re.compile(
    r"(?<!\.\.\.)(?<!apiovh:kube)/(cloud|project|kube|customization|reset|update|updatePolicy|ipRestrictions|openIdConnect"
    r"|nodepool|kubeconfig|capabilities|flavors|privateNetworkConfiguration|updateLoadBalancersSubnetId|auth/time)\b"
)


def api_paths_named(path: Path) -> list[str]:
    """The string constants (docstrings aside) that hold an API path or a piece of one, and the places that glue
    or cut a path at its slashes ("/" + name, request.path.split("/"))."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if API_PATH.search(node.value):
                found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if isinstance(node.left, ast.Constant) and node.left.value == "/":
                found.append(f"line {node.lineno}: '/' + ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            cut = node.func.value
            cuts = node.func.attr in ("split", "rsplit", "partition", "rpartition")
            of_a_path = (isinstance(cut, ast.Name) and cut.id == "path") or (
                isinstance(cut, ast.Attribute) and cut.attr == "path"
            )
            if cuts and of_a_path and any(isinstance(arg, ast.Constant) and arg.value == "/" for arg in node.args):
                found.append(f"line {node.lineno}: .{node.func.attr}('/')")
    return found


def test_only_the_step_module_and_live_name_an_api_path():
    offenders = [
        f"{path.relative_to(PACKAGE)} {place}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.relative_to(PACKAGE).as_posix().startswith(MAY_NAME_API_PATHS)
        for place in api_paths_named(path)
    ]
    assert offenders == []


def test_the_api_path_rule_sees_what_it_must(tmp_path):
    source = tmp_path / "paths.py"
    source.write_text(
        '"""Docstrings may say /cloud/project/{id}/kube."""\n'
        'A = f"/cloud/project/{p}/kube"\n'
        'B = path.endswith("/reset")\n'
        'C = "/" + part\n'
        'D = path.rsplit("/", 1)\n'
        'E = "a/b is a ratio, not a path"\n'
        'F = key.rpartition("/")\n'
        'G = f"{cluster}/kubeconfig/reset"\n'
        'H = api.get_unsigned("/auth/time")\n'
    )
    assert sorted({place.split(":")[0] for place in api_paths_named(source)}) == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 8",
        "line 9",
    ]


def test_live_and_files_import_nothing_of_the_plan():
    """The data flows files -> live -> plan: what both ends share (cluster identity, error reasons, the API's facts)
    lives in the root leaves (model.py, steps.py, versions.py)."""
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for folder in ("files", "live")
        for path in sorted((PACKAGE / folder).glob("*.py"))
        for module in sorted(imported_modules(path))
        if module.startswith("reconciler.plan")
    ]
    assert offenders == []

"""Run benchmarks and write their results into docs/benchmarks.md.

`python -m bench` runs every bench/bench_*.py; `python -m bench NAME...` runs only those and keeps the other
sections as they were. Each module has `run() -> str` that returns a markdown section body.
"""

import importlib
import os
import pkgutil
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Written by `make bench` (`python -m bench [NAME...]`); do not edit by hand. Every figure is a median of
several runs made in one go on the machine named in its section; ratios compare runs made in the same go,
because the machine is shared and noisy. ovhkube's modules are compiled once before the runs, as an install has
them, even where PYTHONDONTWRITEBYTECODE is set.
"""


def available() -> list[str]:
    folder = Path(__file__).resolve().parent
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_"))


def read_sections() -> dict[str, str]:
    if not DOC.exists():
        return {}
    text = DOC.read_text()
    return dict(re.findall(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->", text, flags=re.S))


def main(names: list[str]) -> int:
    names = names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 1
    sections = read_sections()
    with compiled_modules():
        _run(names, sections)
    return 0


@contextmanager
def compiled_modules() -> Iterator[None]:
    """ovhkube's modules compiled once, as an install has them (pip compiles a wheel's modules as it installs it),
    into a cache of their own that every process the benchmarks start reads: where PYTHONDONTWRITEBYTECODE is set
    (CI images and sandboxes often set it), each of them would otherwise compile every module it imports, and a
    command that imports more modules would pay for it as if it ran slower."""
    saved = {name: os.environ.get(name) for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    with tempfile.TemporaryDirectory(prefix="ovhkube-bench-pyc-") as cache:
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = cache
        package = Path(__file__).resolve().parent.parent / "reconciler"
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
        try:
            yield
        finally:
            for name, value in saved.items():
                os.environ.pop(name, None)
                if value is not None:
                    os.environ[name] = value


def _run(names: list[str], sections: dict[str, str]) -> None:
    machine = f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    for name in names:
        print(f"running bench_{name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.bench_{name}")
        body = module.run().strip()
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        sections[name] = f"{body}\n\n_Measured {stamp} on {machine}._\n"
        print(body)
    DOC.parent.mkdir(exist_ok=True)
    parts = [HEADER] + [f"<!-- bench:{n} -->\n{sections[n]}<!-- /bench:{n} -->\n" for n in sorted(sections)]
    DOC.write_text("\n".join(parts))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

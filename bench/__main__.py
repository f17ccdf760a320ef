"""Run benchmarks and write their results into docs/benchmarks.md.

`python -m bench` runs every bench/bench_*.py; `python -m bench NAME...` runs only those and keeps the other
sections as they were. Each module has `run() -> str` that returns a markdown section body.
"""

import importlib
import pkgutil
import platform
import re
import sys
import time
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Written by `make bench` (`python -m bench [NAME...]`); do not edit by hand. Every figure is a median of
several runs made in one go on the machine named in its section; ratios compare runs made in the same go,
because the machine is shared and noisy.
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A whole ovhkube process stopped by a signal at the moment a test chooses, and how long it took to end."""

import subprocess
import time
from collections.abc import Callable


def stopped_by_signal(
    line: list[str], env: dict, ready: Callable[[], bool], signum: int, settle: float = 0.3
) -> tuple[int, float, str, str]:
    """Runs `line`, sends `signum` once `ready()` is true and `settle` seconds have passed: (exit code, seconds from
    the signal to the exit of the process, stdout, stderr)."""
    process = subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 30
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready(), "the moment to signal never came"
    time.sleep(settle)  # the process is now where the test wants it
    process.send_signal(signum)
    signalled = time.monotonic()
    try:
        stdout, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return process.returncode, time.monotonic() - signalled, stdout, stderr

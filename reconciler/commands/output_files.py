"""Writing output files whole or not at all: a reader (node_exporter, a CI step, git) never sees half a file."""

import os
import tempfile


def write_atomically(path: str, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`; raises OSError."""
    folder = os.path.dirname(os.path.abspath(path))
    # The temporary name ends in .tmp so a textfile collector (which reads *.prom) never picks it up.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; the file is meant to be read by others
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

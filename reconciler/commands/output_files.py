"""Writing output files whole or not at all: a reader (node_exporter, a CI step, git) never sees half a file.

A regular file is replaced by rename, so it is never seen half written. What is not a regular file is never
replaced: a device (`--out /dev/null`) or a FIFO (a reader waiting on it) is written into directly, and a symlink
is followed, so the file it points at is the one replaced and the link stays.
"""

import os
import stat
import tempfile

from reconciler.errors import UserError


def refuse_inputs_as_outputs(outputs: dict[str, str | None], paths: list[str]) -> None:
    """UserError before any work if an output (option or variable name -> path) is one of the desired-state files
    `paths` give, by any name (a symbolic link, a folder holding it): `plan F --out F` replaced F with its plan; or
    a *.yaml file a folder of `paths` would give to the next run (`plan dir/ --out dir/plan.yaml`)."""
    from reconciler.files.load import find_files

    if not any(outputs.values()):
        return  # nothing is written: no need to walk the folders twice
    found, _ = find_files(paths)  # what is wrong with them is said when they are loaded
    inputs = {os.path.realpath(name): name for name, _ in found}
    for option, path in outputs.items():
        read_as = inputs.get(os.path.realpath(path)) if path else None
        if read_as is not None:
            raise UserError(
                f"{option} {path}: is the desired-state file {read_as}, which this run reads; write it elsewhere"
            )
        folder = _folder_reading(path, paths) if path else None
        if folder is not None:
            raise UserError(
                f"{option} {path}: is a *.yaml file inside {folder}, a folder of desired-state files: the next run "
                "would read it as one; write it elsewhere"
            )


def _folder_reading(path: str, paths: list[str]) -> str | None:
    """The folder of `paths` whose walk would read `path` as a desired-state file (not in a hidden folder)."""
    from reconciler.files.load import YAML_SUFFIXES

    if not path.endswith(YAML_SUFFIXES):
        return None
    target = os.path.realpath(path)
    for folder in (entry for entry in paths if os.path.isdir(entry)):
        inside = os.path.relpath(target, os.path.realpath(folder))
        parts = inside.split(os.sep)
        if parts[0] != os.pardir and not any(part.startswith(".") for part in parts[:-1]):
            return folder
    return None


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` (see above); raises OSError."""
    target = os.path.realpath(path)  # a symlink: replace what it points at, keep the link
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "Is a directory", path)
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "w", encoding="utf-8") as stream:  # a device or a FIFO: written into, never replaced
            stream.write(text)
        return
    temporary = _temporary_beside(target, text)
    try:
        os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise


def write_all_or_none(files: dict[str, str]) -> None:
    """Write every file, or, if one cannot be written, none: all are prepared beside their targets first, then
    renamed into place; raises OSError after removing what it prepared."""
    prepared: dict[str, str] = {}
    try:
        for path, text in files.items():
            target = os.path.realpath(path)
            if os.path.lexists(target) and not os.path.isfile(target):  # a folder, a device, a FIFO
                raise OSError(21, "Not a regular file", path)
            prepared[target] = _temporary_beside(target, text)
        for target, temporary in prepared.items():
            os.replace(temporary, target)
            prepared[target] = ""
    except BaseException:
        for temporary in prepared.values():
            _remove(temporary)
        raise


def _temporary_beside(target: str, text: str) -> str:
    folder = os.path.dirname(target)
    # The temporary name ends in .tmp so a textfile collector (which reads *.prom) never picks it up.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; the file is meant to be read by others
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _remove(path: str) -> None:
    if path and os.path.exists(path):
        os.unlink(path)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

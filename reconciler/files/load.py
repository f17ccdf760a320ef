"""YAML files -> documents whose every node keeps its line and column.

PyYAML composes the node graph (libyaml's C parser where available); this module turns the nodes into plain
values itself, so it can refuse duplicate keys, record positions, and bound hostile input: a size cap per file,
a cap on nodes and alias uses per document (an alias bomb is refused after a few hundred steps), a depth cap,
binary and non-UTF-8 files. It never raises on file content: everything wrong becomes a Problem.
"""

import codecs
import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
import yaml.constructor

from reconciler.files.problem import WARNING, Problem, dotted, shown

MAX_FILE_BYTES = 1024 * 1024
MAX_RUN_BYTES = 16 * MAX_FILE_BYTES  # all the files of one run: memory is bounded per run, not only per file
NOT_REGULAR = "skipped: not a regular file (a FIFO, a device or a socket), so not read"
BROKEN_LINK = "a symbolic link to nothing (what it points to does not exist): a file that did not arrive"
LINK_OUT_OF_TREE = (
    "a symbolic link out of the folder given: not followed, so not read (name what it points to on the command "
    "line to read it)"
)
MAX_NODES = 10_000  # a cluster document has about 50
MAX_ALIAS_USES = 100
MAX_DEPTH = 64  # a cluster document is 7 deep
MAX_NUMBER_CHARS = 100
MAX_DOCUMENTS = 10_000  # per file: a fleet file holds tens; a file of tiny documents must not print a million lines
YAML_SUFFIXES = (".yaml", ".yml")
OUR_KEYS = {"apiVersion", "kind", "metadata", "spec"}
FOREIGN_FILE = "skipped: not a desired-state file (no ovhkube apiVersion, kind, metadata or spec); name it to check it"

NO_DOCUMENTS = "no desired-state documents (apiVersion: ovhkube/v1)"
NO_YAML = "no YAML documents in this file"
EMPTY_DOCUMENT = "empty document"
EMPTY = (NO_YAML, EMPTY_DOCUMENT)
# Byte order marks of the encodings that are not UTF-8 (PowerShell's `>` writes UTF-16): named, not "binary".
_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_TAG = "tag:yaml.org,2002:"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Plain scalars typed by the YAML 1.2 core schema, as editors and check-jsonschema read them, not YAML 1.1's:
    `yes`, `on`, `no`, `off`, `y`, `n` are strings (so `allowReset: yes` is a type error, never an open reset gate),
    `012` is twelve, and no plain scalar is a date. https://yaml.org/spec/1.2.2/#1032-tag-resolution
    """

    yaml_implicit_resolvers: dict = {}


for _tag, _pattern, _first in (
    ("merge", r"^(?:<<)$", ["<"]),  # not YAML 1.2, but recognised so that it is refused with a clear message
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
):
    _Loader.add_implicit_resolver(_TAG + _tag, re.compile(_pattern), _first)

_STR, _MAP, _SEQ, _NULL = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "null"
_SCALAR_TAGS = {_TAG + name for name in ("null", "bool", "int", "float", "str", "timestamp", "binary")}
_NUMBER_TAGS = {_TAG + "int", _TAG + "float"}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_CORE_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")


@dataclass
class Document:
    file: str
    line: int  # 1-based line of the document's first node
    column: int
    data: dict
    values: dict = field(default_factory=dict)  # field path tuple -> (line, column) of its value
    keys: dict = field(default_factory=dict)  # field path tuple -> (line, column) of its key
    raw: dict = field(default_factory=dict)  # field path tuple -> text as written, for scalars that are not strings

    def position(self, path: tuple, at_key: bool = False) -> tuple[int, int]:
        """Where to point for `path`: its key or value, else the nearest enclosing node that exists."""
        path = tuple(path)
        while True:
            found = (self.keys.get(path) if at_key else None) or self.values.get(path)
            if found or not path:
                return found or (self.line, self.column)
            path = path[:-1]

    def where(self, path: tuple) -> tuple[str, int, int]:
        """(file, line, column) for a problem at `path` (a merged document points into the file that wrote it)."""
        return (self.file, *self.position(path))


@dataclass
class LoadedFiles:
    files: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # errors and warnings


class _Refused(Exception):
    """The document is too big, too deep or too aliased to read: it is dropped with one problem."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.node = node


def _where(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def find_files(paths: list[str]) -> tuple[list[tuple[str, bool]], list[Problem]]:
    """(file, named by the user) for files named and *.yaml/*.yml under folders named (hidden folders skipped),
    each once, in order."""
    found, problems, seen = [], [], set()

    def add(name: str, named: bool = False) -> None:
        real = os.path.realpath(name)
        if real not in seen:
            seen.add(real)
            found.append((name, named))

    def unreadable(error: OSError) -> None:  # a folder that cannot be listed would drop its clusters silently
        problems.append(Problem(error.filename or path, 0, 0, "", f"cannot read folder: {error.strerror or error}"))

    for path in paths:
        if os.path.isdir(path):
            tree = os.path.join(os.path.realpath(path), "")
            inside: list[str] = []
            for root, dirs, names in os.walk(path, onerror=unreadable):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                # A linked folder is never walked (os.walk): one that leads out of the tree is said, not dropped.
                problems.extend(
                    Problem(os.path.join(root, d), 0, 0, "", LINK_OUT_OF_TREE)
                    for d in dirs
                    if _leads_out(os.path.join(root, d), tree)
                )
                inside.extend(os.path.join(root, n) for n in names if n.endswith(YAML_SUFFIXES))
            for name in sorted(inside):
                if _leads_out(name, tree):  # never read: what it points at is not the folder's to give
                    problems.append(Problem(name, 0, 0, "", LINK_OUT_OF_TREE))
                elif not os.path.exists(name):  # a link to nothing: a file that did not arrive
                    problems.append(Problem(name, 0, 0, "", BROKEN_LINK))
                elif os.path.isfile(name):
                    add(name)
                else:  # reading a FIFO would wait for a writer forever
                    problems.append(Problem(name, 0, 0, "", NOT_REGULAR, WARNING))
        elif os.path.exists(path):
            add(path, named=True)
        else:
            problems.append(Problem(path, 0, 0, "", "no such file or directory"))
    return found, problems


def _leads_out(name: str, tree: str) -> bool:
    """Whether `name` is a symbolic link that leads out of `tree` (a real folder path ending in a separator)."""
    return os.path.islink(name) and not os.path.realpath(name).startswith(tree)


def read_text(path: str) -> tuple[str | None, Problem | None]:
    """The file as text, or the reason it cannot be read as a desired-state file."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # bounded even for devices and pipes
    except OSError as exc:
        return None, Problem(path, 0, 0, "", f"cannot read: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        return None, Problem(path, 1, 1, "", "file is larger than 1 MiB; desired-state files are small, refusing it")
    encoding = next((name for bom, name in _OTHER_BOMS if raw.startswith(bom)), None)
    if encoding:
        return None, Problem(path, 1, 1, "", f"{encoding} text, not UTF-8; save the file as UTF-8")
    if b"\0" in raw:
        return None, Problem(path, 1, 1, "", "binary file (contains NUL bytes), not YAML text")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        return None, Problem(path, line, column, "", message)


def load_file(path: str) -> tuple[list[Document], list[Problem]]:
    text, problem = read_text(path)
    if problem or text is None:
        return [], [problem] if problem else []
    documents: list[Document] = []
    problems: list[Problem] = []
    composed = 0
    try:
        for root in yaml.compose_all(text, Loader=_Loader):
            composed += 1
            if composed > MAX_DOCUMENTS:
                message = f"more than {MAX_DOCUMENTS:,} documents in one file; refusing the rest of it"
                problems.append(Problem(path, *_where(root), "", message))
                break
            _add_document(path, root, documents, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(path, line, column, "", f"YAML syntax error: {_yaml_reason(exc, text)}"))
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        problems.append(Problem(path, 1, 1, "", f"YAML error: {_one_line(str(exc))}"))
    else:
        if composed == 0:
            problems.append(Problem(path, 1, 1, "", NO_YAML, WARNING))
    if _NOT_BREAKS.search(text):
        _renumber(text, documents, problems)
    return documents, problems


# PyYAML reads YAML 1.1, where NEL, U+2028 and U+2029 end a line; in YAML 1.2 (and in editors, git and GitHub)
# only LF and CR do. Positions are given as YAML 1.2 counts them, so FILE:LINE:COL is where the person looks.
_NOT_BREAKS = re.compile("[\x85\u2028\u2029]")


def _renumber(text: str, documents: list[Document], problems: list[Problem]) -> None:
    starts = [(1, 0)]  # for each line as PyYAML counts them: (YAML 1.2 line, column offset of its first character)
    line, column = 1, 0
    for index, char in enumerate(text):
        if char == "\n" or (char == "\r" and text[index + 1 : index + 2] != "\n"):
            line, column = line + 1, 0
            starts.append((line, 0))
        elif char in "\x85\u2028\u2029":
            column += 1
            starts.append((line, column))
        elif char != "\r":
            column += 1

    def fix(position: tuple[int, int]) -> tuple[int, int]:
        row, col = position
        if row < 1 or row > len(starts):
            return position
        real, offset = starts[row - 1]
        return real, offset + col

    for document in documents:
        document.line, document.column = fix((document.line, document.column))
        document.values = {key: fix(value) for key, value in document.values.items()}
        document.keys = {key: fix(value) for key, value in document.keys.items()}
    problems[:] = [replace(p, line=fix((p.line, p.column))[0], column=fix((p.line, p.column))[1]) for p in problems]


def load_paths(paths: list[str]) -> LoadedFiles:
    files, problems = find_files(paths)
    loaded = LoadedFiles(problems=problems)
    total = 0
    for index, (path, named) in enumerate(files):
        # What is read of it: a file over the per-file cap is refused by that cap, not counted whole against the run's.
        total += min(os.path.getsize(path), MAX_FILE_BYTES + 1) if os.path.isfile(path) else 0
        if total > MAX_RUN_BYTES:
            rest = f", nor the {len(files) - index - 1} file(s) after it" if index + 1 < len(files) else ""
            message = f"not read{rest}: the files given pass {MAX_RUN_BYTES // MAX_FILE_BYTES} MiB in total"
            loaded.problems.append(Problem(path, 0, 0, "", message))
            break
        documents, problems = load_file(path)
        if not named and documents and not any(_meant_as_ours(d.data) for d in documents):
            # Found in a folder, and foreign (e.g. a sandbox seed or a Kubernetes manifest): skipped, said.
            loaded.problems.append(Problem(path, 1, 1, "", FOREIGN_FILE, WARNING))
            continue
        loaded.files.append(path)
        loaded.documents.extend(documents)
        loaded.problems.extend(problems)
    empty = _empty_paths(paths, loaded)
    # An empty file named alone: its error says it all; the warnings stay for an empty file inside a folder.
    named_empty = {problem.file for problem in empty}
    loaded.problems = [p for p in loaded.problems if not (p.message in EMPTY and p.file in named_empty)] + empty
    return loaded


def _empty_paths(paths: list[str], loaded: LoadedFiles) -> list[Problem]:
    """An error for each path given that holds no document and no error: a CI job whose files did not arrive (an
    empty checkout, a wrong folder) must fail, not read as "no changes" or "in sync"."""
    found = {os.path.realpath(d.file) for d in loaded.documents}
    found |= {os.path.realpath(p.file) for p in loaded.problems if p.is_error}
    problems = []
    for path in paths:
        if not os.path.exists(path):
            continue  # already an error
        real = os.path.realpath(path)
        inside = real.rstrip(os.sep) + os.sep
        if any(name == real or name.startswith(inside) for name in found):
            continue
        if not os.path.isdir(path):  # a file, or a device such as /dev/null named as one
            what = "this file"
        elif any(os.path.realpath(name).startswith(inside) for name in _yaml_files_seen(loaded)):
            what = "the *.yaml / *.yml files of this folder (-v lists the files skipped)"
        else:
            what = "this folder: no *.yaml or *.yml files"
        problems.append(Problem(path, 0, 0, "", f"{NO_DOCUMENTS} in {what}"))
    return problems


def _yaml_files_seen(loaded: LoadedFiles) -> list[str]:
    return loaded.files + [p.file for p in loaded.problems if p.message == FOREIGN_FILE]


def _meant_as_ours(data: dict) -> bool:
    """Our keys, and not another tool's apiVersion: a Kubernetes manifest (batch/v1, ...) has our keys too."""
    version = data.get("apiVersion")
    # Compared without case: `OvhKube/v1` is a typo of ours, an error to show, not another tool's file to skip.
    ours = isinstance(version, str) and "ovhkube" in version.lower()
    return bool(OUR_KEYS.intersection(data)) and (ours or not isinstance(version, str))


def _add_document(path: str, root: yaml.Node, documents: list[Document], problems: list[Problem]) -> None:
    line, column = _where(root)
    if isinstance(root, yaml.ScalarNode) and root.tag == _NULL:
        problems.append(Problem(path, line, column, "", EMPTY_DOCUMENT, WARNING))
        return
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        message = f"a document must be a mapping (apiVersion, kind, metadata, spec), not {kind}"
        problems.append(Problem(path, line, column, "", message))
        return
    document = Document(path, line, column, data={})
    builder = _Builder(document, problems)
    try:
        document.data = builder.build(root, ())
    except _Refused as refused:
        problems.append(Problem(path, *_where(refused.node), "", str(refused)))
        return
    documents.append(document)


class _Builder:
    """Nodes -> plain values for one document, recording positions and counting what it expands."""

    def __init__(self, document: Document, problems: list[Problem]) -> None:
        self.document = document
        self.problems = problems
        self.nodes = 0
        self.alias_uses = 0
        self.seen: set[int] = set()

    def problem(self, node: yaml.Node, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.document.file, *_where(node), dotted(path), message))

    def build(self, node: yaml.Node, path: tuple) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH or id(node) in self.seen:
            self._count_or_refuse(node, path)
        self.seen.add(id(node))
        mark = node.start_mark
        self.document.values[path] = (mark.line + 1, mark.column + 1)
        kind = type(node)
        if kind is yaml.ScalarNode:
            return node.value if node.tag == _STR else self._scalar(node, path)
        if node.tag not in (_MAP, _SEQ):
            self.problem(node, path, f"unsupported YAML tag {_short_tag(node.tag)}")
        if kind is yaml.SequenceNode:
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        return self._mapping(node, path)

    def _count_or_refuse(self, node: yaml.Node, path: tuple) -> None:
        if self.nodes > MAX_NODES:
            raise _Refused(f"document has more than {MAX_NODES} nodes; refusing it", node)
        if len(path) > MAX_DEPTH:
            message = f"document is nested more than {MAX_DEPTH} levels deep (a recursive alias?); refusing it"
            raise _Refused(message, node)
        self.alias_uses += 1  # a node met again: an alias
        if self.alias_uses > MAX_ALIAS_USES:
            raise _Refused(f"more than {MAX_ALIAS_USES} alias uses (an alias bomb?); refusing the document", node)

    def _scalar(self, node: yaml.Node, path: tuple) -> Any:
        self.document.raw[path] = node.value
        if node.tag not in _SCALAR_TAGS:
            self.problem(node, path, f"unsupported YAML tag {_short_tag(node.tag)}")
            return node.value
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
            # No field takes such a number, and Python will not print an integer of over 4,300 digits.
            self.problem(node, path, f"a number of more than {MAX_NUMBER_CHARS} characters; quote it if it is text")
            return node.value
        try:
            return _core_value(node)
        except Exception as exc:  # e.g. `!!int abc`: report it, keep the text (validation then says no more of it)
            reason = str(exc) if isinstance(exc, _NotCore) else _TAG_REASONS.get(node.tag, "not a valid value")
            self.problem(node, path, f"cannot read {shown(node.value)} as {_short_tag(node.tag)}: {reason}")
            return node.value

    def _mapping(self, node: yaml.Node, path: tuple) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.problem(key_node, path, "merge keys (<<) are not supported; write the fields out")
                continue
            if type(key_node) is not yaml.ScalarNode:
                self.problem(key_node, path, "a key must be plain text, not a list or mapping")
                continue
            key = key_node.value  # the text as written: `on:` stays "on", not True
            field_path = path + (key,)
            if key in result:
                first_line = self.document.keys[field_path][0]
                self.problem(key_node, field_path, f"duplicate key {shown(key)} (first at line {first_line})")
                continue
            mark = key_node.start_mark
            self.document.keys[field_path] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, field_path)
        return result


class _NotCore(ValueError):
    """A tagged scalar that YAML 1.2's core schema does not read as its tag says; the message is the reason."""


# Why PyYAML's own constructor refused a tagged scalar, in words: its exceptions speak Python ("could not convert
# string to float: 'x'").
_TAG_REASONS = {_TAG + "float": "not a number", _TAG + "binary": "not base64", _TAG + "timestamp": "not a date"}


def _core_value(node: yaml.Node) -> Any:
    """A scalar's value by the YAML 1.2 core schema: PyYAML's own constructors would still read `!!bool yes` as
    true and `!!int 012` as ten."""
    if node.tag == _TAG + "bool":
        if node.value not in _CORE_BOOLS:
            raise _NotCore("a YAML 1.2 boolean is true or false")
        return _CORE_BOOLS[node.value]
    if node.tag == _TAG + "int":
        if not _CORE_INT.fullmatch(node.value):
            raise _NotCore("not a YAML 1.2 integer")
        return int(node.value, 0 if node.value[:2] in ("0o", "0x") else 10)
    return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_reason(exc: yaml.MarkedYAMLError, text: str) -> str:
    reason = _named(exc.problem or "invalid YAML", exc.problem_mark, text)
    if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        reason += f" ({exc.context} at line {exc.context_mark.line + 1})"
    elif exc.context:
        reason = f"{exc.context}: {reason}"
    return _one_line(reason)


_ALIAS = re.compile(r"\*[^\s,\[\]{}]{1,40}")


def _named(problem: str, mark: yaml.Mark | None, text: str) -> str:
    """libyaml's words with what they leave out: which character cannot start a token (a tab, most often), which
    alias is undefined."""
    at = text[mark.index : mark.index + 41] if mark is not None and 0 <= mark.index < len(text) else ""
    if problem == "found character that cannot start any token" and at:
        if at[0] == "\t":
            return "found a tab: YAML indents with spaces, not tabs"
        reserved = "; quote the value" if at[0] in "@`" else ""  # reserved indicators
        return f"found character {json.dumps(at[0], ensure_ascii=False)} that cannot start any token{reserved}"
    if problem == "found a tab character that violates indentation":
        return problem + ": YAML indents with spaces, not tabs"
    alias = _ALIAS.match(at)
    if problem == "found undefined alias" and alias:
        return f"found undefined alias {alias[0]} (an alias refers to an &anchor above it in the same document)"
    return problem

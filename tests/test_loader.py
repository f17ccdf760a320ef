"""The YAML loader: positions, duplicate keys, folders, and hostile input refused fast with a clear message."""

import time
from pathlib import Path

import pytest

from reconciler.files.load import (
    MAX_ALIAS_USES,
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_FILE_BYTES,
    MAX_NODES,
    load_file,
    load_paths,
)


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def messages(problems) -> list[str]:
    return [f"{p.line}:{p.column}: {p.path}: {p.message}" for p in problems]


def test_every_value_and_key_keeps_its_line_and_column(tmp_path):
    path = write(tmp_path, "a.yaml", "# header\na: 1\nb:\n  c: [x, y]\n")
    (document,), problems = load_file(path)
    assert problems == []
    assert document.data == {"a": 1, "b": {"c": ["x", "y"]}}
    assert (document.line, document.column) == (2, 1)
    assert document.keys[("b", "c")] == (4, 3)
    assert document.values[("b", "c", 1)] == (4, 10)


def test_keys_stay_as_written_not_yaml_booleans(tmp_path):
    (document,), _ = load_file(write(tmp_path, "a.yaml", "on: 1\nno: 2\n"))
    assert document.data == {"on": 1, "no": 2}


def test_a_duplicate_key_is_an_error_at_the_second(tmp_path):
    _, problems = load_file(write(tmp_path, "a.yaml", "a:\n  b: 1\n  c: 2\n  b: 3\n"))
    assert messages(problems) == ['4:3: a.b: duplicate key "b" (first at line 2)']


def test_several_documents_in_one_file(tmp_path):
    documents, problems = load_file(write(tmp_path, "a.yaml", "a: 1\n---\nb: 2\n---\nc: 3\n"))
    assert problems == []
    assert [(d.line, d.data) for d in documents] == [(1, {"a": 1}), (3, {"b": 2}), (5, {"c": 3})]


def test_empty_files_and_documents_are_warnings(tmp_path):
    _, problems = load_file(write(tmp_path, "a.yaml", ""))
    assert [(p.severity, p.message) for p in problems] == [("warning", "no YAML documents in this file")]
    documents, problems = load_file(write(tmp_path, "b.yaml", "a: 1\n---\n---\nb: 2\n"))
    assert len(documents) == 2
    assert [(p.severity, p.line, p.message) for p in problems] == [("warning", 3, "empty document")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]\n", "a document must be a mapping (apiVersion, kind, metadata, spec), not a list"),
        ("just text\n", "a document must be a mapping (apiVersion, kind, metadata, spec), not a single value"),
        ("? [a, b]\n: 1\n", "a key must be plain text, not a list or mapping"),
        ("a: !!int twelve\n", 'cannot read "twelve" as !!int: not a YAML 1.2 integer'),
        ("a: !!set {x: null}\n", "unsupported YAML tag !!set"),
    ],
)
def test_what_is_not_plain_data_is_named(tmp_path, text, message):
    _, problems = load_file(write(tmp_path, "a.yaml", text))
    assert [p.message for p in problems] == [message]


def test_a_syntax_error_keeps_the_documents_before_it_and_says_where(tmp_path):
    documents, problems = load_file(write(tmp_path, "a.yaml", "a: 1\n---\nb: [1, 2\nc: 3\n"))
    assert [d.data for d in documents] == [{"a": 1}]
    assert [p.line for p in problems] == [4]
    assert problems[0].message.startswith("YAML syntax error: ")


def test_tabs_for_indentation_are_a_syntax_error(tmp_path):
    _, problems = load_file(write(tmp_path, "a.yaml", "a:\n\tb: 1\n"))
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [(2, "YAML syntax error")]


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path):
    path = write(tmp_path, "big.yaml", "a: " + "x" * MAX_FILE_BYTES + "\n")
    _, problems = load_file(path)
    assert [p.message for p in problems] == ["file is larger than 1 MiB; desired-state files are small, refusing it"]


def test_a_file_of_countless_tiny_documents_stops_at_the_document_cap(tmp_path):
    path = write(tmp_path, "many.yaml", "---\na: 1\n" * (MAX_DOCUMENTS + 5000))
    documents, problems = load_file(path)
    assert len(documents) == MAX_DOCUMENTS
    refusal = "more than 10,000 documents in one file; refusing the rest of it"
    assert messages(problems) == [f"{2 * MAX_DOCUMENTS + 2}:1: : {refusal}"]


def test_binary_and_non_utf8_files_are_refused(tmp_path):
    _, problems = load_file(write(tmp_path, "a.yaml", b"\x89PNG\r\n\x1a\n\x00\x00"))
    assert [p.message for p in problems] == ["binary file (contains NUL bytes), not YAML text"]
    _, problems = load_file(write(tmp_path, "b.yaml", "a: 1\nb: caf\u00e9\n".encode("latin-1")))
    assert messages(problems) == ["2:7: : not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    (document,), problems = load_file(write(tmp_path, "a.yaml", b"\xef\xbb\xbfa: caf\xc3\xa9\n"))
    assert problems == [] and document.data == {"a": "caf\u00e9"}


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)


def test_an_alias_bomb_is_refused_within_a_second(tmp_path):
    path = write(tmp_path, "bomb.yaml", BILLION_LAUGHS)
    started = time.perf_counter()
    documents, problems = load_file(path)
    assert time.perf_counter() - started < 1
    assert documents == []
    assert [p.message for p in problems] == [
        f"more than {MAX_ALIAS_USES} alias uses (an alias bomb?); refusing the document"
    ]


def test_a_few_aliases_are_fine(tmp_path):
    (document,), problems = load_file(write(tmp_path, "a.yaml", "a: &t {x: PT1S}\nb: *t\n"))
    assert problems == [] and document.data == {"a": {"x": "PT1S"}, "b": {"x": "PT1S"}}


def test_a_recursive_alias_is_refused(tmp_path):
    documents, problems = load_file(write(tmp_path, "a.yaml", "a: &a [*a]\n"))
    assert documents == []
    assert [p.message for p in problems] == [
        f"document is nested more than {MAX_DEPTH} levels deep (a recursive alias?); refusing it"
    ]


def test_too_many_nodes_and_too_deep_are_refused(tmp_path):
    _, problems = load_file(write(tmp_path, "wide.yaml", "a: [" + "1, " * MAX_NODES + "1]\n"))
    assert [p.message for p in problems] == [f"document has more than {MAX_NODES} nodes; refusing it"]
    _, problems = load_file(write(tmp_path, "deep.yaml", "a: " + "[" * 500 + "]" * 500 + "\n"))
    assert [p.message for p in problems] == [
        f"document is nested more than {MAX_DEPTH} levels deep (a recursive alias?); refusing it"
    ]
    _, problems = load_file(write(tmp_path, "deeper.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert problems[0].message == "YAML syntax error: while increasing flow level: exceeded maximum nesting depth"


def test_folders_are_searched_recursively_in_order_skipping_hidden_ones(tmp_path):
    cluster = "apiVersion: ovhkube/v1\n"
    write(tmp_path, "b.yml", cluster)
    write(tmp_path, "a/z.yaml", cluster)
    write(tmp_path, "a/notes.txt", "not yaml")
    write(tmp_path, ".git/x.yaml", cluster)
    loaded = load_paths([str(tmp_path)])
    assert loaded.files == [str(tmp_path / "a" / "z.yaml"), str(tmp_path / "b.yml")]


def test_a_file_given_twice_is_read_once(tmp_path):
    path = write(tmp_path, "a.yaml", "apiVersion: ovhkube/v1\n")
    assert load_paths([path, str(tmp_path), path]).files == [path]


def test_a_missing_path_is_an_error_naming_it(tmp_path):
    loaded = load_paths([str(tmp_path / "nope.yaml")])
    assert [str(p) for p in loaded.problems] == [f"{tmp_path / 'nope.yaml'}: no such file or directory"]


def test_an_empty_folder_is_an_error(tmp_path):
    loaded = load_paths([str(tmp_path)])
    assert [(p.severity, p.message) for p in loaded.problems] == [
        ("error", "no desired-state documents (apiVersion: ovhkube/v1) in this folder: no *.yaml or *.yml files")
    ]


def test_a_foreign_file_in_a_folder_is_skipped_with_a_warning_but_checked_when_named(tmp_path):
    seed = write(tmp_path, "seed.yaml", "projects: []\n")
    loaded = load_paths([str(tmp_path)])
    assert loaded.files == [] and loaded.documents == []
    assert [p.severity for p in loaded.problems] == ["warning", "error"]  # skipped; then nothing left: an error
    assert load_paths([seed]).files == [seed]


def test_an_endless_stream_is_cut_at_the_size_cap():
    _, problems = load_file("/dev/zero")
    assert [p.message for p in problems] == ["file is larger than 1 MiB; desired-state files are small, refusing it"]

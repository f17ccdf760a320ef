"""Where each effective value of a cluster was written, as FILE:LINE: the cluster's own document or a
ClusterDefaults document. Worked out on demand (a plan asks only for the fields that change)."""

from reconciler.files.defaults import EffectiveDocument
from reconciler.files.load import Document
from reconciler.model import ValueSource

SPEC = ("spec",)
NAME = "metadata.name"


class DocumentProvenance:
    def __init__(self, document: Document) -> None:
        self.document = document

    def source_of(self, path: str) -> ValueSource:
        """`path` under spec ("customization.kubeProxy"), or the cluster's name ("metadata.name")."""
        if path == NAME:
            return source_of(self.document, tuple(NAME.split(".")))
        return source_of(self.document, SPEC + tuple(path.split(".")) if path else SPEC)


def source_of(document: Document, path: tuple) -> ValueSource:
    """The source of the value at `path` (from the document's root), or of its nearest written parent."""
    origin = document.origin_of(path) if isinstance(document, EffectiveDocument) else None
    if origin is None:
        return ValueSource(f"{document.file}:{document.position(path, at_key=True)[0]}")
    return ValueSource(f"{origin.document.file}:{origin.document.position(path, at_key=True)[0]}", origin.name)

"""Continuing a kept `benchmarks.scaleout` build (`--keep DIR`) instead of starting over.

A build stopped part-way (a budget, a kill of its writers) holds some set of the corpus' documents,
not necessarily a prefix of it: the bulk writers each take every n-th file. So the next run reads which
documents the stored index already has (by file name, since a kept folder may have been copied: its
sources then name the old folder) and ingests only the others. It refuses to continue an index that is
not the one `kept.json` describes, or that holds other documents than this corpus: a schema that is
missing or holds another number of documents, a document whose file name the corpus does not have, or
whose content hash differs from the corpus file's (the corpus generator changed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks.scaleout_measure import open_index
from tools.ingest.tree import content_hash_of


class KeptBuildMismatch(SystemExit):
    """The kept index is not the build `kept.json` and this corpus describe; start a new --keep folder."""


def stored_documents(backend: str, dsn: str | None, schema: str, index_dir: Path) -> dict[str, str]:
    """File name -> content hash of every published document of one kept index."""
    if backend == "embedded":
        tree = index_dir / "tree.sqlite"
        if not tree.exists():
            return {}
        with sqlite3.connect(f"file:{tree}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT source, content_hash FROM docs WHERE version IS NOT NULL").fetchall()
    else:
        index = open_index(backend, dsn, schema, index_dir)
        try:
            rows = (
                index.store.db()  # type: ignore[attr-defined]
                .execute("SELECT source, content_hash FROM docs WHERE version IS NOT NULL")
                .fetchall()
            )
        finally:
            index.close()
    return {Path(source).name: digest for source, digest in rows}


def present_files(
    backend: str, dsn: str | None, schema: str, index_dir: Path, files: list[Path], leaves: int
) -> set[str]:
    """Names of the corpus files the kept index already holds, after checking it is this build."""
    stored = stored_documents(backend, dsn, schema, index_dir)
    if len(stored) != leaves:
        raise KeptBuildMismatch(
            f"{backend}: kept.json says {leaves} leaves in {schema or index_dir}, the index holds {len(stored)}"
            " documents: not the kept build (start a new --keep folder)"
        )
    corpus = {f.name: f for f in files}
    strangers = sorted(set(stored) - set(corpus))
    if strangers:
        raise KeptBuildMismatch(
            f"{backend}: the kept index holds {len(strangers)} documents this corpus does not have"
            f" (e.g. {strangers[0]}); pass the --leaves it was built for, or start a new --keep folder"
        )
    for name, digest in stored.items():
        if content_hash_of(corpus[name].read_text(encoding="utf-8")) != digest:  # the hash ingest stores
            raise KeptBuildMismatch(
                f"{backend}: {name} in the kept index differs from the corpus file: the corpus generator"
                " changed since the build; start a new --keep folder"
            )
    return set(stored)

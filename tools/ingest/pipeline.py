"""Ingestion: walk paths, load files, build trees, write them to the index; skips are reported.

Files are parsed on a background thread (`prefetch.parse_ahead`) while the previous batch is
embedded and written, and batches are bounded in documents and characters, so memory stays flat
for a corpus of any size."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tools.acl import normalize_acl
from tools.errors import HragentError
from tools.index import HierarchicalIndex
from tools.ingest.blocks import ParsedDocument
from tools.ingest.loaders import LOADERS
from tools.ingest.prefetch import parse_ahead
from tools.logs import get_logger

log = get_logger(__name__)

IngestProgress = Callable[[str, int, int], None]  # (event, done, total)

# Documents are embedded in batches: one model call per level for many small files is several
# times faster than one per file; the bounds keep memory flat for large files.
BATCH_DOCS = 256
BATCH_CHARS = 400_000


@dataclass
class IngestOutcome:
    """Plain result of an ingest pass; `agent` turns it into the public `IngestReport`."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    nodes: int = 0
    embedded: int = 0  # vectors written
    encoded: int = 0  # texts the encoder read (the rest of the vectors were reused)
    reused: int = 0  # texts whose stored vector was reused


def _skip(outcome: IngestOutcome, path: str, reason: str) -> None:
    outcome.skipped.append((path, reason))
    log.warning("ingest.skipped", source=path, reason=reason)


def discover(paths: Iterable[str | Path], outcome: IngestOutcome) -> list[tuple[Path, str]]:
    """Expand files and directories into (path, source). Symlinks leaving a root, symlink loops and
    unreadable directories are skipped with their reason, never silently and never fatally."""
    found: list[tuple[Path, str]] = []
    for raw in paths:
        root = Path(raw).expanduser()
        try:
            if not root.exists():
                _skip(outcome, str(raw), "path does not exist")
                continue
            if not root.is_dir():
                found.append((root, str(root.resolve(strict=True))))
                continue
            real_root = root.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
            _skip(outcome, str(raw), f"cannot open: {exc}")
            continue

        def walk_error(exc: OSError, where: str = str(raw)) -> None:
            _skip(outcome, str(exc.filename or where), f"cannot list directory: {exc.strerror or exc}")

        for dirpath, dirnames, filenames in os.walk(root, onerror=walk_error, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                if path.suffix.lower() not in LOADERS:
                    continue
                try:
                    real = path.resolve(strict=path.is_symlink())
                except (OSError, RuntimeError) as exc:
                    _skip(outcome, str(path), f"broken or looping symlink: {exc}")
                    continue
                if path.is_symlink() and not real.is_relative_to(real_root):
                    _skip(outcome, str(path), f"symlink points outside the ingest root ({real})")
                    continue
                found.append((path, str(real)))
    return found


def ingest_paths(
    index: HierarchicalIndex,
    paths: Iterable[str | Path],
    *,
    acl: Iterable[str] | None = None,
    prune: bool = False,
    progress: IngestProgress | None = None,
) -> IngestOutcome:
    """Ingest files idempotently. With `prune`, indexed sources under the given roots that no longer
    exist are removed. A file that cannot be read is skipped with its reason; nothing else is lost."""
    outcome = IngestOutcome()
    acl = normalize_acl(acl)  # a bad ACL stops the pass before anything is written
    paths = list(paths)
    index.collect_garbage()
    files = discover(paths, outcome)
    batch: list[ParsedDocument] = []
    encoded_before, reused_before = index.encoded_texts, index.reused_texts
    if progress:
        progress("file", 0, len(files))

    def flush() -> None:
        """Index the loaded batch in one go; on an unexpected error, retry one by one to isolate it."""
        if not batch:
            return
        embed_progress = (lambda d, t: progress("embed", d, t)) if progress else None
        try:
            pairs = list(zip(batch, index.ingest_many(batch, acl=acl, progress=embed_progress), strict=True))
        except HragentError:
            raise
        except (OSError, ValueError, UnicodeError):
            pairs = []
            for doc in batch:
                try:
                    pairs.append((doc, index.ingest(doc, acl=acl, progress=embed_progress)))
                except (OSError, ValueError, UnicodeError) as exc:
                    outcome.skipped.append((doc.source, f"{type(exc).__name__}: {exc}"))
                    log.warning("ingest.skipped", source=doc.source, reason=str(exc))
        for doc, (status, nodes, embedded) in pairs:
            getattr(outcome, status).append(doc.source)
            outcome.nodes += nodes
            outcome.embedded += embedded
            log.info("ingest.document", source=doc.source, status=status, nodes=nodes)
        batch.clear()

    finished = 0
    for item in parse_ahead(files, dl_sections=index.config.dl_sections):
        if item.doc is None:
            _skip(outcome, item.source, item.skip_reason or "could not be loaded")
            finished += 1
            continue
        batch.append(item.doc)
        if sum(len(d.text) for d in batch) >= BATCH_CHARS or len(batch) >= BATCH_DOCS:
            finished += len(batch)
            flush()
            if progress:
                progress("file", finished, len(files))
    flush()
    encoded, reused = index.encoded_texts - encoded_before, index.reused_texts - reused_before
    outcome.encoded, outcome.reused = encoded, reused
    if prune:
        # Prune only under roots that exist now: an unmounted share or a typo must not empty the index.
        roots = []
        for p in paths:
            try:
                roots.append(Path(p).expanduser().resolve(strict=True))
            except (OSError, RuntimeError):
                continue
        present = {s for _, s in files}
        for source in index.sources():
            src = Path(source)
            under_root = any(src == r or src.is_relative_to(r) for r in roots)
            if under_root and source not in present and not _exists(src) and index.delete(source):
                outcome.removed.append(source)
                log.info("ingest.removed", source=source)
    if progress:
        progress("file", len(files), len(files))
    return outcome


def _exists(path: Path) -> bool:
    """Only a definite "not there" prunes; a path we cannot check (permissions) is kept."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, RuntimeError):
        return True
    return True

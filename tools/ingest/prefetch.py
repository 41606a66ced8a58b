"""Parse ahead: a background thread loads and parses the next files while the encoder works.

The encoder (ONNX Runtime, PyTorch) releases the GIL while it computes, so HTML/PDF parsing on this
thread overlaps it. The queue is bounded, so at most `depth` parsed documents wait in memory however
large the corpus is; the consumer sees files in their original order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.errors import HragentError, IngestError
from tools.ingest.blocks import ParsedDocument
from tools.ingest.loaders import load_file

PREFETCH_DOCS = 32


@dataclass(frozen=True)
class Loaded:
    """One file's outcome: its parsed document, or why it was skipped."""

    path: Path
    source: str
    doc: ParsedDocument | None
    skip_reason: str | None = None


_DONE = object()


def parse_ahead(
    files: Sequence[tuple[Path, str]], *, dl_sections: bool, depth: int = PREFETCH_DOCS
) -> Iterator[Loaded]:
    """Yield every file's `Loaded` in order, parsed on a background thread up to `depth` files ahead.

    An unexpected `HragentError` from a loader stops the pass and is raised here, in the caller's
    thread; closing the iterator early stops the thread."""
    slots: queue.Queue[object] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for path, source in files:
                if stop.is_set():
                    return
                if not put(_load(path, source, dl_sections)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread and raised there
            put(exc)
            return
        put(_DONE)

    thread = threading.Thread(target=work, name="hragent-parse-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Loaded)
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _load(path: Path, source: str, dl_sections: bool) -> Loaded:
    try:
        return Loaded(path, source, load_file(path, source, dl_sections=dl_sections))
    except IngestError as exc:
        return Loaded(path, source, None, str(exc))
    except HragentError:
        raise
    except (OSError, ValueError, UnicodeError) as exc:
        return Loaded(path, source, None, f"{type(exc).__name__}: {exc}")

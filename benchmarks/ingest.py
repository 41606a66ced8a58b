"""Ingest throughput on a real manual, per index setting and encoder, next to LlamaIndex's hierarchical
ingest and flat chunk embedding of the same pages, all in one run (so they share the machine's load).

    python -m benchmarks.ingest [--manual DIR] [--pages N] [--systems NAME,...]
    python -m benchmarks.ingest --corpus hotpot     # the 991 pooled HotpotQA dev paragraphs instead

The manual defaults to Flask's HTML documentation from Debian's python-flask-doc (the Python 3
`library/` pages are reserved for the independent check and are refused). Pages are copied to a
scratch folder first; every system starts from those files. hragent's time includes parsing the HTML;
the peers read text hragent's loader extracted once, and the extraction time is added to theirs.
Every encoder is loaded and warmed before its clock starts. "texts" counts what the encoder read;
"re-ingest" edits one page of the default build and ingests the folder again.
Writes `benchmarks/results/ingest.json`.
"""

from __future__ import annotations

import argparse
import functools
import glob
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from benchmarks.hotpot import load_questions, materialise, pooled_corpus, print_table, write_results
from benchmarks.longdocs_baselines import FlatChunks, LlamaIndexAutoMerging
from tools.embeddings import make_embedder
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.loaders import load_file

MANUALS = ("/usr/share/doc/python-flask-doc/html", "/usr/share/doc/python-click-doc/html")


class CountingEmbedder:
    """Passes through to `inner`, counting the texts it encodes (the peers report no such number)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str], **kwargs: Any) -> Any:
        self.texts += len(texts)
        return self.inner.embed(texts, **kwargs)


# Where an ingest's time goes: (label, module, owner attribute or None, function name). Seconds are
# summed over threads (parsing runs on the parse-ahead thread, overlapping the rest).
PHASES = (
    ("parse HTML (parse-ahead thread)", "tools.ingest.prefetch", None, "_load"),
    ("build trees (token counts)", "tools.index", None, "build_tree"),
    ("tree + FTS5 writes (SQLite)", "tools.index", "HierarchicalIndex", "_write_pending"),
    ("publish (FTS5 rows, version swap)", "tools.index", "HierarchicalIndex", "_publish"),
    ("encoder", "tools.index", "HierarchicalIndex", "_vectors_for"),
    ("Chroma adds", "tools.index", "HierarchicalIndex", "_upsert_vectors"),
)


@contextmanager
def phase_timer() -> Iterator[dict[str, float]]:
    """Wraps the ingest's stages for the duration of one build and sums their wall seconds."""
    import importlib

    spent = {label: 0.0 for label, *_ in PHASES}
    lock = threading.Lock()
    undo = []
    for label, module_name, owner_name, fn_name in PHASES:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        original = getattr(owner, fn_name)

        def timed(*args: Any, _f: Any = original, _label: str = label, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                with lock:
                    spent[_label] += time.perf_counter() - t0

        setattr(owner, fn_name, functools.wraps(original)(timed))
        undo.append((owner, fn_name, original))
    try:
        yield spent
    finally:
        for owner, fn_name, original in undo:
            setattr(owner, fn_name, original)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` set in os.environ for the duration, the previous values restored afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def manual_pages(root: str | None, limit: int) -> list[Path]:
    """The manual's HTML pages (not `_static/`, `_sources/`, search or index pages), sorted."""
    found = root or next((m for m in MANUALS if Path(m).is_dir()), None)
    if found is None:
        raise SystemExit(f"no manual found; install python-flask-doc or pass --manual (looked in {MANUALS})")
    if "/library" in found:
        raise SystemExit("the Python 3 library/ pages are reserved for the independent check")
    skip = {"genindex.html", "search.html", "py-modindex.html", "404.html"}
    pages = [
        Path(p)
        for p in sorted(glob.glob(f"{found}/**/*.html", recursive=True))
        if "/_" not in p[len(found) :] and Path(p).name not in skip
    ]
    return pages[:limit] if limit else pages


def copy_corpus(pages: Sequence[Path], root: Path, dest: Path) -> Path:
    for page in pages:
        target = dest / page.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
    return dest


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def precreate_index(path: Path, settings: Settings, heading_path: str) -> None:
    """An empty index whose manifest records `leaf_heading_path` (and the settings' other choices)."""
    cfg = settings.index
    config = IndexConfig(
        embed_sentences=cfg.embed_sentences,
        leaf_headings=cfg.leaf_headings,
        dl_sections=cfg.dl_sections,
        section_vectors=cfg.section_vectors,
        leaf_heading_path=heading_path,
    )
    HierarchicalIndex(path, make_embedder(settings.embedder), config=config).close()


def run_hragent(folder: Path, embedder: str, index: dict[str, Any], *, edit_one: bool = False) -> list[dict[str, Any]]:
    """One fresh build (and, with `edit_one`, a re-ingest after editing one page)."""
    work = Path(tempfile.mkdtemp(prefix="hragent-ingest-"))
    index = dict(index)
    heading_path = index.pop("leaf_heading_path", None)
    settings = Settings(checkpointer="none", llm={"backend": "offline"}, index=index, embedder=embedder)  # type: ignore[arg-type]
    if heading_path:  # not an agent setting: create the index with it; the agent then follows its manifest
        precreate_index(work / "idx", settings, heading_path)
    agent = Agent(work / "idx", settings=settings)
    agent.embedder.embed(["warm up"])  # load (and on first use export) the model before the clock
    with phase_timer() as phases:
        t0 = time.perf_counter()
        report = agent.ingest(folder)
        elapsed = time.perf_counter() - t0
    leaves = int(agent.index.stats()["levels"].get("leaf", 0))
    rows = [
        {
            "seconds": elapsed,
            "texts": report.encoded,
            "vectors": report.embedded,
            "leaves": leaves,
            "disk_kb_per_leaf": disk_bytes(work / "idx") / 1024 / max(leaves, 1),
            "documents": report.documents,
            "phases_s": {k: round(v, 1) for k, v in phases.items()},
        }
    ]
    if edit_one:
        page = sorted(folder.rglob("*.html"))[len(report.added) // 2]
        html = page.read_text(encoding="utf-8", errors="replace")
        cut = html.find("</p>")  # one new sentence at the end of the page's first paragraph
        page.write_text(html[:cut] + " This sentence was added to measure re-ingestion." + html[cut:], encoding="utf-8")
        t0 = time.perf_counter()
        again = agent.ingest(folder)
        rows.append(
            {
                "seconds": time.perf_counter() - t0,
                "texts": again.encoded,
                "vectors": again.embedded,
                "documents": len(again.updated),
                "notes": f"{len(again.updated)} page updated, {len(again.unchanged)} unchanged, {again.reused} vectors reused",
            }
        )
    agent.close()
    shutil.rmtree(work, ignore_errors=True)
    return rows


def run_peer(kind: str, pages: list[tuple[str, str]], embedder: str, extract_s: float) -> dict[str, Any]:
    enc = CountingEmbedder(make_embedder(embedder))
    enc.embed(["warm up"])
    enc.texts = 0
    t0 = time.perf_counter()
    if kind == "llamaindex":
        peer: Any = LlamaIndexAutoMerging(pages, enc)
        notes = f"HierarchicalNodeParser 2048/512/128 + VectorStoreIndex, {peer.n_leaves} leaves embedded"
    else:
        peer = FlatChunks(pages, enc)
        notes = f"{len(peer.pieces)} chunks of 1,000 characters embedded once (+ BM25)"
    return {"seconds": time.perf_counter() - t0 + extract_s, "texts": enc.texts, "vectors": enc.texts, "notes": notes}


SYSTEMS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # name: (kind, embedder spec, index settings); hragent rows use the index defaults plus the override.
    "hragent": ("hragent", "minilm", {}),  # the default: ONNX fp32, no sentence vectors (+ a re-ingest)
    "hragent:sentences": ("hragent", "minilm", {"embed_sentences": True}),  # the default before #20's 4th session
    "hragent:int8": ("hragent", "minilm-int8", {}),
    "hragent:int8-all": ("hragent", "minilm-int8-all", {}),  # every MatMul int8 (faster, further from fp32)
    "hragent:last": ("hragent", "minilm", {"leaf_heading_path": "last"}),  # fewer heading tokens per leaf
    "hragent:page_and_last": ("hragent", "minilm", {"leaf_heading_path": "page_and_last"}),
    "hragent:no-headings": ("hragent", "minilm", {"leaf_headings": False}),
    "hragent:int8:sentences": ("hragent", "minilm-int8", {"embed_sentences": True}),
    "hragent:torch": ("hragent", "minilm-torch", {}),  # the encoder before #20 (PyTorch fp32)
    "hragent:1session": ("hragent", "minilm", {}),  # fp32, one ONNX session (see SYSTEM_ENV)
    "llamaindex:torch": ("llamaindex", "minilm-torch", {}),
    "llamaindex:int8": ("llamaindex", "minilm-int8", {}),
    "flat1000:torch": ("flat", "minilm-torch", {}),
    "flat1000:fp32": ("flat", "minilm-fp32", {}),
    "flat1000:int8": ("flat", "minilm-int8", {}),
}
# Environment a system runs under (restored afterwards), for settings read from it.
SYSTEM_ENV: dict[str, dict[str, str]] = {
    "hragent:1session": {"HRAGENT_ENCODER_WORKERS": "1"},  # one ONNX session on every core (before s10)
}
DEFAULT_SYSTEMS = ("hragent", "hragent:int8", "hragent:torch", "llamaindex:torch", "flat1000:torch")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", choices=["manual", "hotpot"], default="manual")
    ap.add_argument("--manual", help="a folder of HTML pages (default: Flask's, then Click's Debian docs)")
    ap.add_argument("--pages", type=int, default=0, help="only the first N pages (0 = all)")
    ap.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS), help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    args = ap.parse_args(argv)
    chosen = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SYSTEMS]
    if unknown:
        raise SystemExit(f"unknown systems {unknown}; choose from {list(SYSTEMS)}")
    scratch = Path(tempfile.mkdtemp(prefix="hragent-ingest-corpus-"))
    if args.corpus == "hotpot":
        source = materialise(pooled_corpus(load_questions()), "pooled-ingest")
        files = sorted(source.glob("*.md"))[: args.pages or None]
        root = source
        label = f"HotpotQA pooled dev paragraphs ({len(files)})"
    else:
        files = manual_pages(args.manual, args.pages)
        root = Path(args.manual or next(m for m in MANUALS if Path(m).is_dir()))
        label = f"{root} ({len(files)} pages)"
    t0 = time.perf_counter()
    pages = [(str(f), load_file(f, str(f), dl_sections=True).text) for f in files]
    extract_s = time.perf_counter() - t0
    print(f"corpus: {label}, {sum(len(t) for _, t in pages):,} characters; extraction {extract_s:.1f}s", flush=True)
    rows: list[dict[str, Any]] = []
    for name in chosen:
        kind, embedder, index = SYSTEMS[name]
        folder = copy_corpus(files, root, scratch / f"run{len(rows)}")
        if kind == "hragent":
            with environment(SYSTEM_ENV.get(name, {})):
                got = run_hragent(folder, embedder, index, edit_one=name == "hragent")
            new = [{"system": name, **got[0]}]
            if len(got) > 1:
                new.append({"system": "  hragent re-ingest, one page edited", **got[1]})
        else:
            new = [{"system": name, **run_peer(kind, pages, embedder, extract_s)}]
        rows += new
        for r in new:
            print(f"  {r['system'].strip()}: {r['seconds']:.1f}s, {r['texts']} texts encoded", flush=True)
    llama = next((r["seconds"] for r in rows if r["system"] == "llamaindex:torch"), None)
    for r in rows:
        seconds = r["seconds"]
        r["pages_per_s"] = round(r.get("documents", len(files)) / seconds, 2)
        r["texts_per_s"] = round(r["texts"] / seconds, 1)
        r["x_llamaindex"] = round(seconds / llama, 2) if llama else None
        r["seconds"] = round(seconds, 1)
        if "disk_kb_per_leaf" in r:
            r["disk_kb_per_leaf"] = round(r["disk_kb_per_leaf"], 1)
    shutil.rmtree(scratch, ignore_errors=True)
    columns = ["system", "seconds", "pages_per_s", "texts", "texts_per_s", "vectors", "leaves", "disk_kb_per_leaf"]
    print_table(rows, [*columns, "x_llamaindex"])
    for r in rows:
        if r.get("notes"):
            print(f"  {r['system'].strip()}: {r['notes']}")
        if r.get("phases_s"):
            print(f"  {r['system']}: " + ", ".join(f"{k} {v}s" for k, v in r["phases_s"].items()))
    payload = {"corpus": label, "pages": len(files), "extract_s": round(extract_s, 1), "rows": rows}
    path = write_results("ingest", payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

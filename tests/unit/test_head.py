"""The coarse-to-fine head's geometry, loss and identity (random token states; no encoder needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tools.hierarchy.head import CoarseToFineHead, HeadConfig, expmap0, head_id, load_head, poincare_dist, save_head


def _batch(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 12, 384), generator=g)
    mask = torch.ones((n, 12), dtype=torch.bool)
    mask[:, 9:] = False
    return x, mask


def test_points_lie_in_the_ball_with_radius_growing_per_segment() -> None:
    head = CoarseToFineHead(HeadConfig())
    x, mask = _batch(5, 0)
    pts = head(x, mask)
    assert pts.shape == (5, 3, 128)
    radii = pts.norm(dim=-1)
    assert torch.all(radii < 1.0)
    assert torch.all(radii[:, 0] < radii[:, 1]) and torch.all(radii[:, 1] < radii[:, 2])
    # padding is ignored: changing padded token states changes nothing
    x2 = x.clone()
    x2[:, 10] += 100.0
    assert torch.allclose(head(x2, mask), pts, atol=1e-5)


def test_poincare_distance_is_a_metric_on_samples() -> None:
    u = expmap0(torch.randn(6, 8), 1.0)
    d = poincare_dist(u, u, 1.0)
    assert torch.allclose(torch.diagonal(d), torch.zeros(6), atol=2e-2)
    assert torch.allclose(d, d.T, atol=1e-4)
    assert torch.all(d[~torch.eye(6, dtype=torch.bool)] > 0)


def test_nce_loss_falls_when_trained_on_structured_pairs() -> None:
    torch.manual_seed(0)
    head = CoarseToFineHead(HeadConfig())
    sections = torch.randn(8, 384)
    q_x = sections[:, None, :] + 0.5 * torch.randn(8, 6, 384)
    c_x = sections[:, None, :] + 0.5 * torch.randn(8, 6, 384)
    f_x = q_x + 0.2 * torch.randn(8, 6, 384)
    mask = torch.ones((8, 6), dtype=torch.bool)
    same = torch.eye(8, dtype=torch.bool)
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = head.loss(head(q_x, mask), head(c_x, mask), head(f_x, mask), same)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_saved_head_keeps_its_id(tmp_path: Path) -> None:
    head = CoarseToFineHead(HeadConfig(dim=32))
    hid = save_head(head, tmp_path / "head.pt")
    loaded, loaded_id = load_head(tmp_path / "head.pt")
    assert loaded_id == hid == head_id(loaded)
    other = CoarseToFineHead(HeadConfig(dim=32))
    assert head_id(other) != hid
    x, mask = _batch(2, 1)
    assert np.allclose(loaded(x, mask).detach().numpy(), head.eval()(x, mask).detach().numpy(), atol=1e-6)


def test_the_default_onnx_encoder_feeds_the_head() -> None:
    """The head pools PyTorch token states; with the ONNX encoder (the CPU default) it loads the same
    wheel weights in PyTorch, and encoding points keeps no autograd graph (both failed before)."""
    from tools.encoders import OnnxEmbedder
    from tools.hierarchy.train_head import TokenEncoder, encode_points

    encoder = TokenEncoder(OnnxEmbedder(precision="fp32"), max_tokens=32)
    head = CoarseToFineHead(HeadConfig()).eval()
    points = encode_points(head, encoder, ["Drain the pump before the frost.", "Winter storage"])
    assert points.shape == (2, head.cfg.segments, head.cfg.dim) and np.isfinite(points).all()
    again = encode_points(head, encoder, ["Drain the pump before the frost."])
    assert np.allclose(again[0], points[0], atol=1e-5)  # a text's point does not depend on its batch-mates


@pytest.mark.slow
@pytest.mark.integration
def test_train_head_cli_round_trip(tmp_path: Path) -> None:
    """`hragent train-head` on the sample corpus; the head strategy answers; a foreign head is refused."""
    import json
    import shutil

    from agent import Agent, IndexMismatchError
    from agent.cli import main
    from tests.conftest import SAMPLE, offline_settings

    index_dir = tmp_path / "idx"
    agent = Agent(index_dir, settings=offline_settings())
    agent.ingest(sorted(SAMPLE.glob("0[13]-*.md")))
    agent.close()
    assert main(["train-head", "--index", str(index_dir), "--pairs", "32", "--epochs", "1", "--json"]) == 0
    assert (index_dir / "head.pt").stat().st_size < 5 * 1024 * 1024
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["head"].startswith("c2f-")
    agent = Agent(index_dir, settings=offline_settings())
    hits = agent.retrieve("How long can the Kestrel fly?", k=3, strategy="head_hybrid")
    assert hits
    shutil.copy(index_dir / "head.pt", tmp_path / "keep.pt")
    save_head(CoarseToFineHead(HeadConfig()), index_dir / "head.pt")  # weights no longer match the vectors
    import tools.hierarchy.train_head as th

    th._LOADED.clear()
    with pytest.raises(IndexMismatchError):
        agent.retrieve("How long can the Kestrel fly?", k=3, strategy="head")

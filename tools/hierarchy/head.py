"""A coarse-to-fine embedding head on the frozen MiniLM (seed 002, with seed 001's slow/fast loop).

Token states -> attention pooling -> HRM-style refinement (a slow H cell and a fast L cell) run for
M segments -> each segment's tangent vector scaled to a radius that grows per segment and mapped into
the Poincaré ball. Early segments sit near the origin (coarse: which section), the last one near the
boundary (fine: which leaf). Trained with coarse-to-fine hyperbolic NCE: segment m pulls the query
towards a blend of its coarse positive (the section) and fine positive (the leaf), weights alpha_m.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class HeadConfig:
    """Everything that shapes the head; saved with its weights."""

    dim_in: int = 384
    dim: int = 128
    segments: int = 3
    cycles: int = 2  # slow (H) updates per segment
    fast_steps: int = 2  # fast (L) updates per slow update
    scales: list[float] = field(default_factory=lambda: [0.6, 1.2, 1.8])  # s_m: radius grows per segment
    alphas: list[float] = field(default_factory=lambda: [0.0, 0.5, 1.0])  # 0 = coarse positive, 1 = fine
    weights: list[float] = field(default_factory=lambda: [0.25, 0.25, 0.5])
    curvature: float = 1.0
    temperature: float = 0.1
    max_tokens: int = 128  # word pieces the frozen encoder reads for the head


class TokenAttentionPooler(nn.Module):
    """Learned weights over token states (instead of the fixed mean the sentence embedding uses)."""

    def __init__(self, dim_in: int, hidden: int = 64) -> None:
        super().__init__()
        self.proj = nn.Linear(dim_in, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = self.score(torch.tanh(self.proj(states))).squeeze(-1)
        logits = logits.masked_fill(~mask, -1e4)
        weights = torch.softmax(logits, dim=-1)
        return torch.einsum("bt,btd->bd", weights, states)


class HRMRefiner(nn.Module):
    """Slow H and fast L recurrent cells; one tangent vector out per segment."""

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Linear(cfg.dim_in, cfg.dim)
        self.low = nn.GRUCell(2 * cfg.dim, cfg.dim)
        self.high = nn.GRUCell(cfg.dim, cfg.dim)
        self.out = nn.Linear(cfg.dim, cfg.dim)

    def forward(self, pooled: torch.Tensor) -> list[torch.Tensor]:
        x = self.inp(pooled)
        z_h = torch.tanh(x)
        z_l = torch.zeros_like(x)
        tangents = []
        for _ in range(self.cfg.segments):
            for _ in range(self.cfg.cycles):
                for _ in range(self.cfg.fast_steps):
                    z_l = self.low(torch.cat([x, z_h], dim=-1), z_l)
                z_h = self.high(z_l, z_h)
            tangents.append(self.out(z_h))
        return tangents


def expmap0(u: torch.Tensor, c: float) -> torch.Tensor:
    """Exponential map at the origin of the Poincaré ball of curvature -c."""
    sqrt_c = float(c**0.5)
    norm = u.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    out: torch.Tensor = torch.tanh(sqrt_c * norm) * u / (sqrt_c * norm)
    return out


def poincare_dist(x: torch.Tensor, y: torch.Tensor, c: float) -> torch.Tensor:
    """Pairwise distances between rows of x (n, d) and y (m, d): (n, m), computed in float32."""
    x2 = (x * x).sum(-1, keepdim=True)
    y2 = (y * y).sum(-1, keepdim=True).T
    num = torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist") ** 2  # stable near the boundary
    den = ((1 - c * x2) * (1 - c * y2)).clamp(min=1e-6)
    arg = (1 + 2 * c * num / den).clamp(min=1 + 1e-6)
    out: torch.Tensor = torch.acosh(arg) / float(c**0.5)
    return out


class CoarseToFineHead(nn.Module):
    def __init__(self, cfg: HeadConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or HeadConfig()
        self.pool = TokenAttentionPooler(self.cfg.dim_in)
        self.refine = HRMRefiner(self.cfg)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, segments, dim) points in the Poincaré ball."""
        pooled = self.pool(states, mask)
        points = []
        for scale, tangent in zip(self.cfg.scales, self.refine(pooled), strict=True):
            direction = tangent / tangent.norm(dim=-1, keepdim=True).clamp(min=1e-6)
            points.append(expmap0(scale * direction, self.cfg.curvature))
        return torch.stack(points, dim=1)

    def loss(
        self, q: torch.Tensor, coarse: torch.Tensor, fine: torch.Tensor, same_section: torch.Tensor
    ) -> torch.Tensor:
        """Coarse-to-fine hyperbolic NCE with in-batch negatives: row i's positives are coarse[i] and
        fine[i]; every other row's section and leaf is a negative unless it is the same section."""
        cfg = self.cfg
        total = q.new_zeros(())
        target = torch.arange(q.shape[0])
        off = same_section & ~torch.eye(q.shape[0], dtype=torch.bool)
        for m in range(cfg.segments):
            terms = []
            for pos in (coarse, fine):
                logits = -poincare_dist(q[:, m], pos[:, m], cfg.curvature) / cfg.temperature
                terms.append(nn.functional.cross_entropy(logits.masked_fill(off, -1e4), target))
            total = total + cfg.weights[m] * ((1 - cfg.alphas[m]) * terms[0] + cfg.alphas[m] * terms[1])
        return total


def head_id(head: CoarseToFineHead) -> str:
    """A stable id of the weights (what the index records its head vectors were made with)."""
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in sorted(head.state_dict().items())}, buf)
    return "c2f-" + hashlib.sha1(buf.getvalue()).hexdigest()[:12]


def save_head(head: CoarseToFineHead, path: Any) -> str:
    hid = head_id(head)
    torch.save({"config": asdict(head.cfg), "state": head.state_dict(), "id": hid}, path)
    return hid


def load_head(path: Any) -> tuple[CoarseToFineHead, str]:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    head = CoarseToFineHead(HeadConfig(**blob["config"]))
    head.load_state_dict(blob["state"])
    head.eval()
    return head, str(blob["id"])

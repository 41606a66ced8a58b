"""The ONNX encoders of the bundled MiniLM: same vectors as PyTorch (fp32), close ones (int8), their
own manifest id, and the default picking an existing index's encoding. The first run exports the
model into the user cache (once, ~30 s); later runs reuse it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.embeddings import SentenceTransformerEmbedder, make_embedder
from tools.encoders import MINILM_ID, OnnxEmbedder, resolve_device
from tools.encoders.device import _cuda_available
from tools.encoders.onnx_minilm import token_batches
from tools.encoders.select import make_minilm, manifest_embedder_id
from tools.errors import ConfigError, IndexMismatchError
from tools.index import HierarchicalIndex

TEXTS = [
    "The kettle switches itself off when the water boils.",
    "Descale the coffee machine every month with a mild acid; rinse twice before brewing again. " * 6,
    "Ovens",
    "Press and hold the reset button for five seconds until the lamp blinks green, then release it.",
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return SentenceTransformerEmbedder(device="cpu").embed(TEXTS)


def test_onnx_fp32_gives_pytorchs_vectors(torch_vectors: np.ndarray) -> None:
    enc = OnnxEmbedder(precision="fp32")
    got = enc.embed(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float((got * torch_vectors).sum(axis=1).min()) > 0.9999
    assert enc.id == MINILM_ID  # interchangeable with a PyTorch-built index


def test_onnx_int8_is_close_and_has_its_own_id(torch_vectors: np.ndarray) -> None:
    enc = OnnxEmbedder(precision="int8")
    cos = (enc.embed(TEXTS) * torch_vectors).sum(axis=1)
    assert float(cos.min()) > 0.97
    assert enc.id != MINILM_ID and "int8" in enc.id
    # Dynamic quantisation scales activations per batch, so a text's vector moves a little with its
    # batch-mates (RESULTS.md); it must stay the same text's vector.
    alone = OnnxEmbedder(precision="int8", batch_size=1).embed(TEXTS[::-1])[::-1]
    assert float((alone * enc.embed(TEXTS)).sum(axis=1).min()) > 0.98
    assert enc.embed([]).shape == (0, 384)


def test_token_budgeted_batches_give_the_same_vectors(torch_vectors: np.ndarray) -> None:
    small = OnnxEmbedder(precision="fp32", batch_tokens=40).embed(TEXTS)  # about one text a pass
    whole = OnnxEmbedder(precision="fp32", batch_tokens=None, batch_size=32).embed(TEXTS)  # one pass
    np.testing.assert_allclose(small, whole, atol=1e-5)
    assert float((small * torch_vectors).sum(axis=1).min()) > 0.9999
    with pytest.raises(ConfigError, match="positive"):
        OnnxEmbedder(precision="fp32", batch_tokens=0)


def test_token_batches_respect_both_limits() -> None:
    lengths = [3, 5, 5, 9, 40, 2]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])  # [5, 0, 1, 2, 3, 4]
    assert token_batches(order, lengths, 32, None) == [order]
    assert token_batches(order, lengths, 2, None) == [[5, 0], [1, 2], [3, 4]]
    # padded size = texts x longest: 4 x 5 = 20 fits, adding the 9-token text would pad to 5 x 9 = 45
    assert token_batches(order, lengths, 32, 20) == [[5, 0, 1, 2], [3], [4]]  # 40 > 20 still goes alone
    got = token_batches(order, lengths, 3, 18)
    assert sorted(i for b in got for i in b) == list(range(len(lengths)))
    assert all(len(b) <= 3 and (len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 18) for b in got)
    assert token_batches([], [], 8, 64) == []


def test_token_counts_see_past_the_models_window() -> None:
    enc = OnnxEmbedder(precision="int8")
    long = "word " * 600
    assert enc.count_tokens(long) == SentenceTransformerEmbedder().count_tokens(long) > enc.max_tokens


def test_an_int8_index_refuses_the_fp32_encoder(tmp_path: Path) -> None:
    HierarchicalIndex(tmp_path / "idx", OnnxEmbedder(precision="int8")).close()
    with pytest.raises(IndexMismatchError, match="int8"):
        HierarchicalIndex(tmp_path / "idx", OnnxEmbedder(precision="fp32"), create=False)


def test_the_two_int8_recipes_never_share_an_index(tmp_path: Path, torch_vectors: np.ndarray) -> None:
    full = OnnxEmbedder(precision="int8-all")
    assert full.id == f"{MINILM_ID}#onnx-int8-all" != OnnxEmbedder(precision="int8").id
    got = full.embed(TEXTS)
    assert float((got * torch_vectors).sum(axis=1).min()) > 0.97  # close, not equal: its own id
    assert float((got * OnnxEmbedder(precision="int8").embed(TEXTS)).sum(axis=1).min()) < 0.99999
    HierarchicalIndex(tmp_path / "all", full).close()
    for other in ("int8", "fp32"):
        with pytest.raises(IndexMismatchError, match="int8-all"):
            HierarchicalIndex(tmp_path / "all", OnnxEmbedder(precision=other), create=False)
    HierarchicalIndex(tmp_path / "int8", OnnxEmbedder(precision="int8")).close()
    with pytest.raises(IndexMismatchError, match="int8"):
        HierarchicalIndex(tmp_path / "int8", full, create=False)


def test_the_default_keeps_an_existing_indexs_encoding(tmp_path: Path) -> None:
    for built_with in (OnnxEmbedder(precision=p) for p in ("int8", "int8-all", "fp32")):
        where = tmp_path / built_with.precision
        HierarchicalIndex(where, built_with).close()
        assert manifest_embedder_id(where) == built_with.id
        assert make_embedder("minilm", device="cpu", index_dir=where).id == built_with.id
    assert manifest_embedder_id(tmp_path / "nowhere") is None
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    assert manifest_embedder_id(tmp_path / "broken") is None


def test_explicit_precisions_and_bad_settings() -> None:
    assert make_minilm("int8", "cpu").id.endswith("#onnx-int8")
    assert make_embedder("minilm-int8-all", device="cpu").id.endswith("#onnx-int8-all")
    assert isinstance(make_minilm("fp32", "cpu"), OnnxEmbedder)
    assert isinstance(make_embedder("minilm-torch", device="cpu"), SentenceTransformerEmbedder)
    with pytest.raises(ConfigError, match="precision"):
        make_minilm("int4", "cpu")
    with pytest.raises(ConfigError, match="device"):
        resolve_device("tpu")
    for int8 in ("int8", "int8-all"):
        with pytest.raises(ConfigError, match="CPU only"):
            OnnxEmbedder(precision=int8, device="cuda")
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda", "mps")


@pytest.mark.skipif(_cuda_available(), reason="this machine has a GPU")
def test_asking_for_an_absent_gpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_export_is_cached_and_keyed(tmp_path: Path) -> None:
    from tools.encoders.onnx_export import export_key, onnx_model_path
    from tools.encoders.onnx_minilm import bundled_minilm_dir

    model = bundled_minilm_dir()
    first = onnx_model_path(model, "int8")
    assert first.exists() and export_key(model) in str(first)
    assert onnx_model_path(model, "int8") == first  # no second export
    with pytest.raises(ConfigError):
        onnx_model_path(model, "int4")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no model weights"):
        export_key(tmp_path)


def test_a_new_index_gets_fp32_on_a_cpu(tmp_path: Path) -> None:
    enc = make_embedder("minilm", device="cpu", index_dir=tmp_path / "fresh")
    assert isinstance(enc, OnnxEmbedder) and enc.precision == "fp32" and enc.id == MINILM_ID

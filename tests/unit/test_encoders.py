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


def test_token_counts_see_past_the_models_window() -> None:
    enc = OnnxEmbedder(precision="int8")
    long = "word " * 600
    assert enc.count_tokens(long) == SentenceTransformerEmbedder().count_tokens(long) > enc.max_tokens


def test_an_int8_index_refuses_the_fp32_encoder(tmp_path: Path) -> None:
    HierarchicalIndex(tmp_path / "idx", OnnxEmbedder(precision="int8")).close()
    with pytest.raises(IndexMismatchError, match="int8"):
        HierarchicalIndex(tmp_path / "idx", OnnxEmbedder(precision="fp32"), create=False)


def test_the_default_keeps_an_existing_indexs_encoding(tmp_path: Path) -> None:
    for built_with in (OnnxEmbedder(precision="int8"), OnnxEmbedder(precision="fp32")):
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
    assert isinstance(make_minilm("fp32", "cpu"), OnnxEmbedder)
    assert isinstance(make_embedder("minilm-torch", device="cpu"), SentenceTransformerEmbedder)
    with pytest.raises(ConfigError, match="precision"):
        make_minilm("int4", "cpu")
    with pytest.raises(ConfigError, match="device"):
        resolve_device("tpu")
    with pytest.raises(ConfigError, match="CPU only"):
        OnnxEmbedder(precision="int8", device="cuda")
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

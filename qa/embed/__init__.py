"""Text -> L2-normalised vectors: a sentence-transformers model in torch or ONNX Runtime (int8), or a
static model (a vector per token, averaged) distilled from it for big archives.

The protocol every backend follows is qa.types.Embedder; this package holds the backends:

models.py         where a model is loaded from and the name an index records; EmbedderError
torch_backend.py  SentenceTransformerEmbedder      onnx_backend.py  OnnxEmbedder
static.py         StaticEmbedder                   distill.py       the static model, distilled once
choose.py         resolve_backend, load_embedder (one model per process)

`from qa.embed import load_embedder` (and the other names below) is how callers reach them.
"""

from qa.embed.choose import load_embedder, resolve_backend
from qa.embed.distill import distill_static_model, static_model_dir
from qa.embed.models import EmbedderError, manifest_name, recorded_name, resolve_model_location
from qa.embed.onnx_backend import OnnxEmbedder
from qa.embed.static import StaticEmbedder, is_static_model
from qa.embed.torch_backend import SentenceTransformerEmbedder
from qa.types import Embedder

__all__ = [
    "Embedder",
    "EmbedderError",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "distill_static_model",
    "is_static_model",
    "load_embedder",
    "manifest_name",
    "recorded_name",
    "resolve_backend",
    "resolve_model_location",
    "static_model_dir",
]

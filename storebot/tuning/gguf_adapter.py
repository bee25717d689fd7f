"""Write a PEFT LoRA adapter as a GGUF LoRA adapter that llama.cpp loads beside the base model.

This follows llama.cpp's ``convert_lora_to_gguf.py``: ``general.type`` is
``adapter``, ``adapter.type`` is ``lora``, ``adapter.lora.alpha`` holds alpha
(llama.cpp scales by alpha / rank), and each adapted weight ``W`` of shape
(out, in) gets ``<tensor>.lora_a`` of numpy shape (rank, in) and
``<tensor>.lora_b`` of shape (out, rank), PEFT's own layouts: GGUF lists
dimensions in reverse, so llama.cpp sees ``a`` as [in, rank] and ``b`` as
[rank, out], the shapes it checks against the base tensor.

Example:
    >>> path = write_gguf_adapter(result.state, alpha=16, path="adapter.gguf")  # doctest: +SKIP
    >>> Llama(model_path=bundled_model_path(), lora_path=path)                   # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from storebot.errors import StorebotError

ARCHITECTURE = "llama"  # SmolLM2 is a llama-architecture model
_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_KEY = re.compile(r"layers\.(\d+)\.(self_attn\.\w+_proj|mlp\.\w+_proj)\.lora_([AB])\.weight$")
_PERMUTED = ("attn_q", "attn_k")


def gguf_tensor_name(peft_key: str) -> str:
    """``...layers.3.self_attn.v_proj.lora_A.weight`` -> ``blk.3.attn_v.weight.lora_a``."""
    match = _KEY.search(peft_key)
    if not match or match.group(2) not in _NAMES:
        raise StorebotError(
            f"Cannot map the adapter tensor {peft_key!r} to a llama.cpp tensor.",
            fix="Train LoRA on the attention or MLP projections of a llama-architecture model.",
        )
    return f"blk.{match.group(1)}.{_NAMES[match.group(2)]}.weight.lora_{match.group(3).lower()}"


def write_gguf_adapter(state: dict[str, Any], *, alpha: float, path: str | Path) -> str:
    """Write the PEFT adapter weights ``state`` to ``path`` as a GGUF LoRA adapter; returns the path.

    Raises:
        StorebotError: an adapter for Q or K (llama.cpp permutes those rows), or an unknown tensor.
    """
    import gguf
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for key, value in sorted(state.items()):
        name = gguf_tensor_name(key)
        if any(f".{p}." in name for p in _PERMUTED):
            raise StorebotError(
                f"{key}: adapters for q_proj/k_proj are not exported (llama.cpp permutes their rows).",
                fix="Target v_proj, o_proj and the MLP projections.",
            )
        tensors[name] = np.ascontiguousarray(value.detach().to("cpu").float().numpy(), dtype=np.float32)
    if not tensors:
        raise StorebotError("The adapter has no weights to write.", fix="Train the adapter first.")
    tmp = path.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), ARCHITECTURE)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)  # a half-written adapter is never served
    return str(path)

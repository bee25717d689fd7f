"""LLM backends behind one registry: local (llama.cpp + bundled SmolLM2), openai, openai-compatible."""

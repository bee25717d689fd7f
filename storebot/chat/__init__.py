"""The conversational retrieval chain: memory, reference resolution, intent, prompts, grounding."""

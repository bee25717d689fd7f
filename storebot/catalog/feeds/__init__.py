"""Feed parsers (placeholder; being written)."""

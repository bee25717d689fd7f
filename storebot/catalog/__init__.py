"""The catalog: products, variants, reviews and policies, their feeds, and sync."""

"""HTML pages: the demo storefront."""

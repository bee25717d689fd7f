"""Retrieval: embeddings, the hnswlib vector store, keyword search, filters and hybrid ranking."""

"""Tools: ingestion, the hierarchical index, embeddings and retrieval strategies."""

"""Ingestion: loaders, the document tree, and the pipeline that writes trees into the index."""

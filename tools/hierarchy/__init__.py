"""Representations derived from the document tree: merged section vectors, routing, the coarse-to-fine head."""

"""Text analysis both engines share: words, dates, normalisation, answer types, candidate spans.

Deterministic and dependency-free on purpose: this is what runs with no model at all. Nothing here
imports from `graphs.roles`, so the offline reader, the LLM roles and the graph nodes can all use it.
"""

"""Policies: every bound, checklist, validator and citation rule the graph enforces."""

from policies.limits import LimitExceeded, Limits, recursion_limit_for

__all__ = ["LimitExceeded", "Limits", "recursion_limit_for"]

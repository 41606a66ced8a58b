"""Fixtures shared by the integration tests."""

from tests.support.zoo import zoo, zoo_index  # noqa: F401 (fixtures: the LLM server zoo)

"""Storage backends of the hierarchical index behind one contract (`IndexStore`)."""

from tools.store.protocol import IndexStore
from tools.store.records import IndexCheck, IndexConfig, NodeRecord, VectorRow

__all__ = ["IndexCheck", "IndexConfig", "IndexStore", "NodeRecord", "VectorRow"]

"""The in-memory backend: the same semantics as SQLite in plain Python structures, for tests,
embedding and the in-memory side of the benchmarks' ratios. Nothing survives the process.
"""

from emitflow.store.memory.store import MemoryStore

__all__ = ["MemoryStore"]

"""The facade users call: `Agent(index_dir=...)` then `ingest`, `retrieve`, `run` (and async/stream).

Data flow: `Agent.run` → `graphs.build` (plan → retrieve → solve → verify → compose) → `RunResult`.
Each surface lives in its own module: construction (`agent.core`), documents (`agent.documents`),
runs (`agent.runs`), streams (`agent.streaming`), LangChain adapters (`agent.adapters`).
"""

from __future__ import annotations

from agent.adapters import AdaptersMixin
from agent.documents import DocumentsMixin
from agent.runs import HARD_STOP_GRACE_S
from agent.streaming import StreamsMixin

__all__ = ["HARD_STOP_GRACE_S", "Agent"]


class Agent(StreamsMixin, DocumentsMixin, AdaptersMixin):
    """A planner–solver–verifier agent over one hierarchical index.

    Everything is passed in or built from `Settings`; nothing global, so many agents can coexist.
    Constructing one changes nothing in the host process: logging stays the host's (the CLI, or a
    caller of `agent.logging.configure_logging`, sets it up) and no environment variable is written.
    """

"""Child process for the resume test: runs one task with the SQLite checkpointer and a thread id,
printing every role call, and parks (to be SIGKILLed) when it reaches a chosen call. Test support."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from graphs.roles.base import Roles
from graphs.roles.offline import offline_roles
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex


class Recorder:
    """Wraps the offline roles; logs `PLAN <round>`, `READ <subgoal>`, `VERIFY`, `COMPOSE` calls and
    optionally stops forever at the first call whose log line equals `park_at`."""

    def __init__(self, park_at: str | None = None, echo: bool = False) -> None:
        self.calls: list[str] = []
        self.park_at = park_at
        self.echo = echo

    def note(self, line: str) -> None:
        if line == self.park_at:
            print(f"AT {line}", flush=True)
            time.sleep(600)
        self.calls.append(line)
        if self.echo:
            print(line, flush=True)

    def roles(self, index: HierarchicalIndex) -> Roles:
        base = offline_roles(index.embedder)
        rec = self

        class Planner:
            def plan(self, task: str, **kw: Any) -> Any:
                rec.note(f"PLAN {kw.get('round', 0)}")
                return base.planner.plan(task, **kw)

        class Solver:
            def read(self, task: str, subgoal: Any, *a: Any, **kw: Any) -> Any:
                rec.note(f"READ {subgoal['id']}")
                return base.solver.read(task, subgoal, *a, **kw)

            def finalize(self, *a: Any) -> Any:
                return base.solver.finalize(*a)

        class Verifier:
            def verify(self, *a: Any) -> Any:
                rec.note("VERIFY")
                return base.verifier.verify(*a)

        class Composer:
            def compose(self, *a: Any) -> Any:
                rec.note("COMPOSE")
                return base.composer.compose(*a)

        return Roles(Planner(), Solver(), Verifier(), Composer())


def make_agent(index_dir: Path, recorder: Recorder) -> Agent:
    settings = Settings(checkpointer="sqlite", llm={"backend": "offline"})  # type: ignore[arg-type]
    return Agent(index_dir, settings=settings, embedder=HashingEmbedder(), roles=recorder.roles)


def main(argv: list[str]) -> int:
    index_dir, thread_id, park_at, task = Path(argv[0]), argv[1], argv[2], argv[3]
    agent = make_agent(index_dir, Recorder(park_at, echo=True))
    print("START", flush=True)
    agent.run(task, thread_id=thread_id)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

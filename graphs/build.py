"""Graph wiring: (read messages) → plan → retrieve (parallel per subgoal) → solve → … → verify → compose (→ reply), with a
bounded refinement edge from verify back to plan. Reads top to bottom like the picture Studio draws."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

from graphs.asyncnodes import dual
from graphs.budget import abudgeted, budgeted
from graphs.composer import make_compose_node
from graphs.context import HragentContext
from graphs.conversation import read_messages, reply
from graphs.deps import GraphDeps
from graphs.planner import make_plan_node
from graphs.retriever import RetrieveTask, make_retrieve_node
from graphs.review import make_review_node
from graphs.routing import after_verify, next_hops
from graphs.solver import make_asolve_node, make_solve_node
from graphs.state import AgentState, InputState, OutputState
from graphs.verifier import make_verify_node


def build_graph(
    deps: GraphDeps,
    *,
    checkpointer: Any | None = None,
    interrupt_before: Sequence[str] | None = None,
    approve_plans: bool = False,
    name: str = "hragent",
) -> Any:
    """Compile the agent graph. `approve_plans=True` pauses after planning for human approval
    (resume with `Command(resume=True | False | [queries])`); needs a checkpointer."""
    builder = StateGraph(AgentState, context_schema=HragentContext, input_schema=InputState, output_schema=OutputState)
    # Every node has a sync body (`invoke`) and an async form (`ainvoke`: cancellable, see asyncnodes).
    builder.add_node("read_messages", dual(read_messages))
    builder.add_node("plan", dual(budgeted(deps, make_plan_node(deps))))
    builder.add_node("review_plan", dual(make_review_node(approve_plans)))
    builder.add_node("retrieve", dual(make_retrieve_node(deps)), input_schema=RetrieveTask)
    # The solve node's model reads are native coroutines under `ainvoke` (see graphs.solver).
    builder.add_node("solve", dual(budgeted(deps, make_solve_node(deps)), abudgeted(deps, make_asolve_node(deps))))
    builder.add_node("verify", dual(budgeted(deps, make_verify_node(deps))))
    builder.add_node("compose", dual(budgeted(deps, make_compose_node(deps))))
    builder.add_node("reply", dual(reply))

    builder.add_edge(START, "read_messages")
    builder.add_edge("read_messages", "plan")
    builder.add_edge("plan", "review_plan")
    builder.add_conditional_edges("review_plan", next_hops, ["retrieve", "verify"])
    builder.add_edge("retrieve", "solve")
    builder.add_conditional_edges("solve", next_hops, ["retrieve", "verify"])
    builder.add_conditional_edges("verify", after_verify, {"plan": "plan", "compose": "compose"})
    builder.add_edge("compose", "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=checkpointer, interrupt_before=list(interrupt_before or []), name=name)

"""#17 messages in, message out: a `messages` input becomes the task, follow-ups resolve against
earlier turns, the reply is an `AIMessage` carrying claims and citations, and the compiled graph
works as a subgraph node of a `MessagesState` parent."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph

from agent import Agent
from graphs.build import build_graph
from graphs.conversation import resolve_follow_up
from graphs.deps import GraphDeps


def _answered(text: str, short: str, task: str) -> AIMessage:
    return AIMessage(content=text, response_metadata={"hragent": {"short_answer": short, "task": task}})


@pytest.mark.parametrize(
    ("history", "question", "resolved"),
    [
        (  # a pronoun takes the previous answer when it is a name
            [
                HumanMessage("Which guild runs the Brackwater ferry?"),
                _answered("The Oarmakers Guild [1].", "Oarmakers Guild", "Which guild runs the Brackwater ferry?"),
            ],
            "and who founded it?",
            "Who founded Oarmakers Guild?",
        ),
        (  # a possessive one too
            [
                HumanMessage("Which guild runs the Brackwater ferry?"),
                _answered("Oarmakers Guild [1]", "Oarmakers Guild", "Which guild runs the Brackwater ferry?"),
            ],
            "Where is its hall?",
            "Where is Oarmakers Guild's hall?",
        ),
        (  # not a name (a year): the previous question's first name
            [
                HumanMessage("When did Ilse Varga open the Brackwater ferry?"),
                _answered("1911 [1]", "1911", "When did Ilse Varga open the Brackwater ferry?"),
            ],
            "Where was she born?",
            "Where was Ilse Varga born?",
        ),
        (  # a comparison's other side
            [
                HumanMessage("Who is older, Ilse Varga or Oren Tamm?"),
                _answered("Ilse Varga [1]", "Ilse Varga", "Who is older, Ilse Varga or Oren Tamm?"),
            ],
            "and where was the other one born?",
            "Where was Oren Tamm born?",
        ),
        (  # "the other one" of two things an earlier answer named together
            [
                HumanMessage("Which two boats does the Oarmakers Guild own?"),
                _answered(
                    "It owns the Heron and the Plover [1].",
                    "Heron and Plover",
                    "Which two boats does the Oarmakers Guild own?",
                ),
                HumanMessage("How long is the Heron?"),
                _answered("Twelve metres [1].", "Twelve metres", "How long is the Heron?"),
            ],
            "and the other one?",
            "How long is the Plover?",
        ),
        (  # an ellipsis naming the new subject
            [
                HumanMessage("How long is the Heron?"),
                _answered("Twelve metres [1].", "Twelve metres", "How long is the Heron?"),
            ],
            "what about the Plover?",
            "How long is the Plover?",
        ),
        (  # a standalone question stays as asked
            [
                HumanMessage("How long is the Heron?"),
                _answered("Twelve metres [1].", "Twelve metres", "How long is the Heron?"),
            ],
            "Who built the Plover?",
            "Who built the Plover?",
        ),
    ],
)
def test_follow_ups_resolve_against_earlier_turns(history: list[Any], question: str, resolved: str) -> None:
    assert resolve_follow_up(question, history) == resolved


def test_a_question_with_no_history_is_unchanged() -> None:
    assert resolve_follow_up("and who founded it?", []) == "and who founded it?"


def _reply(state: dict[str, Any]) -> AIMessage:
    message = state["messages"][-1]
    assert isinstance(message, AIMessage) and message.name == "hragent"
    return message


def test_messages_in_ai_message_out_and_a_follow_up_on_the_same_thread(sample_agent: Agent) -> None:
    config = {"configurable": {"thread_id": "chat-1"}}
    first = sample_agent.graph.invoke({"messages": [HumanMessage("Which company makes the Kestrel drone?")]}, config)
    reply = _reply(first)
    meta = reply.response_metadata["hragent"]
    assert reply.content == first["answer"] and first["answer"]
    assert meta["citations"] == first["citations"] and meta["claims"] == first["claims"]
    assert meta["short_answer"] == first["short_answer"] == "Halden Robotics"
    assert all(c["quote"] for c in meta["citations"])

    second = sample_agent.graph.invoke({"messages": [HumanMessage("and who founded it?")]}, config)
    assert len(second["messages"]) == 4  # two questions, two replies
    assert _reply(second).response_metadata["hragent"]["task"] == "Who founded Halden Robotics?"
    # The second run started clean: its trace and counters are its own, not the first run's too.
    assert sum(1 for t in second["trace"] if t["node"] == "compose") == 1


def test_a_task_input_still_works_and_adds_no_message(sample_agent: Agent) -> None:
    out = sample_agent.graph.invoke(
        {"task": "Which company makes the Kestrel drone?"}, {"configurable": {"thread_id": "t"}}
    )
    assert out["answer"] and not out.get("messages")


def test_hragent_as_a_subgraph_of_a_messages_state_parent(sample_agent: Agent) -> None:
    index = sample_agent.index
    hragent = build_graph(GraphDeps.of(index, sample_agent._roles(index)))  # no checkpointer: the parent's

    def greet(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("Let me look that up.")]}

    def ask(state: MessagesState) -> dict[str, Any]:
        return {"messages": [HumanMessage("Which company makes the Kestrel drone?")]}

    parent = StateGraph(MessagesState)
    parent.add_node("ask", ask)
    parent.add_node("hragent", hragent)
    parent.add_node("greet", greet)
    parent.add_edge(START, "ask")
    parent.add_edge("ask", "hragent")
    parent.add_edge("hragent", "greet")
    app = parent.compile(checkpointer=InMemorySaver())
    out = app.invoke({"messages": [HumanMessage("hello")]}, {"configurable": {"thread_id": "p"}})
    kinds = [(m.type, getattr(m, "name", None)) for m in out["messages"]]
    assert kinds == [("human", None), ("human", None), ("ai", "hragent"), ("ai", None)]
    answer = out["messages"][2]
    assert "Halden Robotics" in str(answer.content)
    assert answer.response_metadata["hragent"]["citations"]

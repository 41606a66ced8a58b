"""The `hragent` command: ingest, ask, inspect, graph, demo. Exit codes: 0 ok, 1 usage/config error,
2 index problem, 3 bad task, 4 LLM failure."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from agent.errors import ConfigError, HragentError, IndexStoreError, InvalidTaskError, LLMError
from agent.results import RunResult

DEMO_QUESTION = "In which city was the chief executive of the company that makes the Kestrel drone born?"
SAMPLE_CORPUS = Path(__file__).parent / "sample_corpus"


def _agent(args: argparse.Namespace) -> object:
    from agent.agent import Agent
    from agent.settings import Settings

    settings = Settings.load()
    index_dir = args.index or os.environ.get("HRAGENT_INDEX_DIR") or settings.index_dir
    return Agent(index_dir=index_dir, settings=settings)


def render_result(result: RunResult, *, console: object | None = None) -> None:
    """Human-readable answer, numbered citations (source, heading path, quote) and claim verdicts."""
    from rich.console import Console
    from rich.table import Table

    out = console if isinstance(console, Console) else Console()
    out.print(f"[bold]Question:[/bold] {result.task}")
    out.print()
    out.print("[bold]Answer[/bold]")
    out.print(result.answer, markup=False)
    out.print()
    if result.citations:
        out.print("[bold]Citations[/bold]")
        for i, cit in enumerate(result.citations, start=1):
            where = " > ".join(cit.section) or "(document)"
            out.print(f"  [{i}] {cit.source}", markup=False)
            out.print(f"      section: {where}", markup=False)
            out.print(f'      quote:   "{cit.quote}"', markup=False)
        out.print()
    table = Table(title="Verification", show_lines=False)
    table.add_column("claim")
    table.add_column("verdict")
    table.add_column("conf.", justify="right")
    colors = {"supported": "green", "contradicted": "red", "not_enough_evidence": "yellow"}
    for claim in result.claims:
        table.add_row(claim.text[:100], f"[{colors[claim.verdict]}]{claim.verdict}[/]", f"{claim.confidence:.2f}")
    out.print(table)
    plan = " → ".join(f"{s.id}: {s.query} ⇒ {s.answer or '∅'}" for s in result.subgoals if s.status)
    out.print(f"[dim]plan: {plan}[/dim]", markup=True, highlight=False)
    s = result.stats
    out.print(
        f"[dim]halt: {result.halt_reason} · hops {s.hops} · refinements {s.refinements} · "
        f"llm calls {s.llm_calls} · {s.elapsed_s:.2f}s · engines {result.engines}[/dim]"
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    agent = _agent(args)
    acl = [a for a in (args.acl or "").split(",") if a] or None
    report = agent.ingest(args.paths, acl=acl, prune=args.prune)  # type: ignore[attr-defined]
    if args.json:
        print(report.model_dump_json(indent=2))
        return 0
    print(
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"removed {len(report.removed)}, skipped {len(report.skipped)}; {report.documents} documents in index "
        f"({report.nodes} nodes, {report.embedded} vectors, {report.elapsed_s:.1f}s)"
    )
    for skip in report.skipped:
        print(f"  skipped {skip.path}: {skip.reason}", file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    agent = _agent(args)
    principal = [p for p in (args.principal or "").split(",") if p] or None
    result = agent.run(args.task, principal=principal, strategy=args.strategy)  # type: ignore[attr-defined]
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        render_result(result)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from tools.index import HierarchicalIndex

    agent = _agent(args)
    index: HierarchicalIndex = agent.index  # type: ignore[attr-defined]
    print(json.dumps(index.stats(), indent=2))
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    agent = _agent(args)
    print(agent.graph.get_graph().draw_mermaid())  # type: ignore[attr-defined]
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Index the bundled sample corpus and answer a two-document question, offline."""
    from agent.agent import Agent
    from agent.settings import LLMSettings, Settings

    index_dir = Path(args.index or ".hragent-demo")
    agent = Agent(index_dir=index_dir, settings=Settings.load(llm=LLMSettings(backend="offline")))
    report = agent.ingest(SAMPLE_CORPUS)
    print(
        f"Indexed {report.documents} documents from {SAMPLE_CORPUS} into {index_dir} "
        f"({len(report.added)} new, {len(report.unchanged)} unchanged, {report.elapsed_s:.1f}s)\n"
    )
    render_result(agent.run(args.task or DEMO_QUESTION))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hragent", description="Cited, verified answers over your documents.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_index(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--index", help="index directory (default: $HRAGENT_INDEX_DIR or ./.hragent)")
        return p

    p = with_index(sub.add_parser("ingest", help="index files or directories"))
    p.add_argument("paths", nargs="+")
    p.add_argument("--acl", help="comma-separated principals/groups allowed to see these documents")
    p.add_argument("--prune", action="store_true", help="remove indexed files under PATHS that no longer exist")
    p.add_argument("--json", action="store_true", help="print the IngestReport as JSON")
    p.set_defaults(func=cmd_ingest)

    p = with_index(sub.add_parser("ask", help="answer a task with citations"))
    p.add_argument("task")
    p.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    p.add_argument("--principal", help="comma-separated identities of the caller (default: public only)")
    p.add_argument("--strategy", default=None, help="retrieval strategy (default: auto)")
    p.set_defaults(func=cmd_ask)

    p = with_index(sub.add_parser("inspect", help="print index statistics"))
    p.set_defaults(func=cmd_inspect)

    p = with_index(sub.add_parser("graph", help="print the agent graph as Mermaid"))
    p.set_defaults(func=cmd_graph)

    p = with_index(sub.add_parser("demo", help="index the bundled sample corpus and answer a question"))
    p.add_argument("task", nargs="?", default=None)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InvalidTaskError as exc:
        print(f"hragent: invalid task: {exc}", file=sys.stderr)
        return 3
    except IndexStoreError as exc:
        print(f"hragent: index error: {exc}", file=sys.stderr)
        return 2
    except LLMError as exc:
        print(f"hragent: LLM error: {exc}", file=sys.stderr)
        return 4
    except (ConfigError, HragentError) as exc:
        print(f"hragent: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The `hragent` command: ingest, ask, inspect, train-head, graph, mcp, demo. Exit codes: 0 ok, 1 usage/config error,
2 index problem, 3 bad task, 4 LLM failure."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.errors import (
    ConfigError,
    HragentError,
    IndexNotFoundError,
    IndexStoreError,
    IngestError,
    InvalidTaskError,
    LLMError,
)
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
    labels = {"answered": "[bold]Answer[/bold]", "partial": "[bold]Answer[/bold] [yellow](partial)[/yellow]"}
    out.print(labels.get(result.outcome, "[bold yellow]Not found[/bold yellow]"))
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
        f"[dim]outcome: {result.outcome} · halt: {result.halt_reason} · hops {s.hops} · refinements {s.refinements} · "
        f"llm calls {s.llm_calls} · {s.elapsed_s:.2f}s · engines {result.engines}[/dim]"
    )
    if result.degraded:  # never a silent switch to the offline engine
        from rich.markup import escape

        first = result.degraded[0]
        roles = ", ".join(dict.fromkeys(d.role for d in result.degraded))
        out.print(
            f"[yellow]degraded: {roles} ran on the offline engine ({first.reason}: {escape(first.detail)})[/yellow]",
            highlight=False,
        )


def cmd_ingest(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Table

    missing = [p for p in args.paths if not Path(p).expanduser().exists()]
    if missing:  # a cron job with a typo must fail, not report "skipped" and exit 0
        raise IngestError(f"no such file or directory: {', '.join(missing)}; nothing was ingested")
    agent = _agent(args)
    acl = [a for a in (args.acl or "").split(",") if a] or None
    console = Console(stderr=True)
    show = not args.json and not args.quiet and console.is_terminal
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),  # ETA from the files finished so far
        console=console,
        disable=not show,
    ) as progress:
        files = progress.add_task("files", total=None, rate="")
        vectors = progress.add_task("embeddings", total=None, rate="")
        started = time.perf_counter()
        embedded = [0]

        def on_progress(kind: str, done: int, total: int) -> None:
            if kind == "file":
                rate = done / max(time.perf_counter() - started, 1e-6)
                progress.update(files, completed=done, total=total, rate=f"{rate:.1f} files/s")
                progress.reset(vectors, total=None)
            else:
                embedded[0] += max(0, done - int(progress.tasks[vectors].completed))
                rate = embedded[0] / max(time.perf_counter() - started, 1e-6)
                progress.update(vectors, completed=done, total=total, rate=f"{rate:.0f} emb/s")

        report = agent.ingest(args.paths, acl=acl, prune=args.prune, progress=on_progress)  # type: ignore[attr-defined]
    if args.json:
        print(report.model_dump_json(indent=2))
        return 0
    table = Table(title="Ingest summary")
    for col in (
        "added",
        "updated",
        "unchanged",
        "removed",
        "skipped",
        "documents",
        "nodes",
        "vectors",
        "encoded",
        "seconds",
    ):
        table.add_column(col, justify="right")
    table.add_row(
        *map(
            str,
            (
                len(report.added),
                len(report.updated),
                len(report.unchanged),
                len(report.removed),
                len(report.skipped),
                report.documents,
                report.nodes,
                report.embedded,
                report.encoded,
                f"{report.elapsed_s:.1f}",
            ),
        )
    )
    Console().print(table)
    for skip in report.skipped:
        print(f"  skipped {skip.path}: {skip.reason}", file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    agent = _agent(args)
    principal = [p for p in (args.principal or "").split(",") if p] or None
    if args.stream:
        result = None
        writing = False  # inside a run of answer tokens, printed as they arrive on one line
        for event in agent.stream(args.task, principal=principal, strategy=args.strategy):  # type: ignore[attr-defined]
            if event.kind == "result":
                result = event.result
            elif args.json:
                continue
            elif event.kind == "answer_token":
                print(("· answer: " if not writing else "") + event.data["text"], end="", file=sys.stderr, flush=True)
                writing = True
            else:
                if writing:
                    print(file=sys.stderr)
                    writing = False
                print(f"· {event.kind}: {_summarise(event.data)}", file=sys.stderr, flush=True)
        assert result is not None
    else:
        result = agent.run(args.task, principal=principal, strategy=args.strategy)  # type: ignore[attr-defined]
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        render_result(result)
    return 0


def _summarise(data: dict[str, Any]) -> str:
    if "subgoals" in data and isinstance(data["subgoals"], list):
        return "; ".join(str(s.get("query")) for s in data["subgoals"] if isinstance(s, dict))
    if "hits" in data:
        return f"{data.get('subgoal')} hop {data.get('hop')}: {len(data['hits'])} hits for {data.get('query')!r}"
    if "claims" in data:
        verdicts = [c.get("verdict") for c in data["claims"]]
        return f"{verdicts} → {data.get('decision')}"
    return json.dumps(data, default=str)[:160]


# `hragent check` exit status when a vector segment is damaged (#19): re-ingest into a new directory.
EXIT_DAMAGED_VECTORS = 5


def cmd_check(args: argparse.Namespace) -> int:
    """Print `Agent.check_index()` as JSON; 0 when consistent, 1 on problems, 5 on a damaged vector segment."""
    agent = _agent(args)
    index_dir = Path(args.index or os.environ.get("HRAGENT_INDEX_DIR") or ".hragent")
    if agent.settings.index.backend == "embedded" and not (index_dir / "manifest.json").exists():  # type: ignore[attr-defined]
        raise IndexNotFoundError(f"no hragent index at {index_dir}; run `hragent ingest PATH --index {index_dir}`")
    found = agent.check_index()  # type: ignore[attr-defined]
    print(json.dumps(found, indent=2))
    if found["damaged_vectors"]:
        print(f"hragent: {found['problems'][0] if found['problems'] else 'damaged vectors'}", file=sys.stderr)
        return EXIT_DAMAGED_VECTORS
    return 0 if found["ok"] else 1


def cmd_inspect(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.tree import Tree

    from tools.index import HierarchicalIndex

    agent = _agent(args)
    index_dir = Path(args.index or os.environ.get("HRAGENT_INDEX_DIR") or ".hragent")
    embedded = agent.settings.index.backend == "embedded"  # type: ignore[attr-defined]
    if embedded and not (index_dir / "manifest.json").exists():
        raise IndexNotFoundError(f"no hragent index at {index_dir}; run `hragent ingest PATH --index {index_dir}`")
    index: HierarchicalIndex = agent.index  # type: ignore[attr-defined]
    stats = index.stats()
    docs = index.document_stats()
    if args.json:
        print(json.dumps({"stats": stats, "documents": docs}, indent=2))
        return 0
    tree = Tree(
        f"[bold]{index.location}[/bold] · {stats['documents']} documents · embedder {stats['embedder']} ({stats['dim']}-d)"
    )
    for doc in docs[: args.limit]:
        acl = f" · acl {','.join(doc['acl'])}" if doc["acl"] else ""
        tree.add(
            f"{doc['title']} [dim]({doc['source']}){acl}[/dim] — {doc.get('section', 0)} sections, "
            f"{doc.get('chunk', 0)} chunks, {doc.get('leaf', 0)} leaves, {doc.get('sentence', 0)} sentences"
        )
    if len(docs) > args.limit:
        tree.add(f"… {len(docs) - args.limit} more (use --limit)")
    Console().print(tree)
    return 0


def cmd_train_head(args: argparse.Namespace) -> int:
    """Train the coarse-to-fine head on the index's own documents and store it (and its vectors) there."""
    from tools.hierarchy.head import HeadConfig
    from tools.hierarchy.train_head import train_head
    from tools.index import HierarchicalIndex

    agent = _agent(args)
    index: HierarchicalIndex = agent.index  # type: ignore[attr-defined]
    report = train_head(
        index,
        budget_s=args.minutes * 60,
        pairs=args.pairs,
        epochs=args.epochs,
        config=HeadConfig(dim_in=int(index.manifest.get("dim") or 384), max_tokens=args.max_tokens),
        progress=lambda msg: print(msg, file=sys.stderr),
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"trained head {report['head_id']} on {report['pairs']} pairs in {report['train_s']:.0f}s, "
            f"encoded {report['leaves']} leaves and {report['sections']} sections ({report['total_s']:.0f}s total); "
            "use it with --strategy head or head_hybrid"
        )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Copy an embedded index into PostgreSQL (no re-embedding) and verify both answer alike."""
    from dataclasses import asdict

    from tools.index import HierarchicalIndex
    from tools.store.postgres.migrate import migrate_index

    if not str(args.to).startswith(("postgresql://", "postgres://")):
        raise ConfigError("--to must be a postgresql:// DSN")
    agent = _agent(args)
    index: HierarchicalIndex = agent.index  # type: ignore[attr-defined]
    report = migrate_index(index, args.to, args.schema, queries=args.queries)
    print(json.dumps({**asdict(report), "identical": report.identical}, indent=2))
    return 0 if report.identical else 1


def cmd_graph(args: argparse.Namespace) -> int:
    agent = _agent(args)
    print(agent.graph.get_graph().draw_mermaid())  # type: ignore[attr-defined]
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve the agent over MCP (stdio) as the principal given here, never one a tool call names."""
    try:
        from agent.mcp_server import serve_stdio
    except ModuleNotFoundError as exc:
        raise ConfigError("`hragent mcp` needs the MCP SDK: pip install 'hragent[mcp]'") from exc

    agent = _agent(args)
    principal = [p for p in (args.principal or "").split(",") if p] or None
    index_dir = Path(args.index or os.environ.get("HRAGENT_INDEX_DIR") or agent.settings.index_dir)  # type: ignore[attr-defined]
    serve_stdio(agent, principal=principal, index_dir=index_dir)  # type: ignore[arg-type]
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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = with_index(sub.add_parser("ask", help="answer a task with citations"))
    p.add_argument("task")
    p.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    p.add_argument("--principal", help="comma-separated identities of the caller (default: public only)")
    p.add_argument("--strategy", default=None, help="retrieval strategy (default: auto)")
    p.add_argument("--stream", action="store_true", help="show each step live on stderr")
    p.set_defaults(func=cmd_ask)

    p = with_index(sub.add_parser("inspect", help="print the index tree (documents → sections → chunks) and stats"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=50, help="documents to list")
    p.set_defaults(func=cmd_inspect)

    p = with_index(
        sub.add_parser(
            "check",
            help="cross-check the index stores, vector segments included (exit 1: problems, 5: damaged vectors)",
        )
    )
    p.set_defaults(func=cmd_check)

    p = with_index(sub.add_parser("train-head", help="train the coarse-to-fine embedding head on this index"))
    p.add_argument("--minutes", type=float, default=10.0, help="wall-clock budget, encoding included")
    p.add_argument("--pairs", type=int, default=1500, help="training queries sampled from the documents")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--max-tokens", type=int, default=128, help="word pieces of each text the head reads")
    p.add_argument("--json", action="store_true", help="print the training report as JSON")
    p.set_defaults(func=cmd_train_head)

    p = with_index(sub.add_parser("migrate", help="copy this embedded index into PostgreSQL without re-embedding"))
    p.add_argument("--to", required=True, help="postgresql://user:pass@host/db (pgvector installed)")
    p.add_argument("--schema", default="hragent", help="the new index's schema (must not hold an index yet)")
    p.add_argument("--queries", type=int, default=50, help="probe queries compared on both backends")
    p.set_defaults(func=cmd_migrate)

    p = with_index(sub.add_parser("graph", help="print the agent graph as Mermaid"))
    p.set_defaults(func=cmd_graph)

    p = with_index(sub.add_parser("mcp", help="serve ask/retrieve/list_sources as an MCP server over stdio"))
    p.add_argument(
        "--principal", help="comma-separated identities every tool call runs as (fixed for the server's life)"
    )
    p.set_defaults(func=cmd_mcp)

    p = with_index(sub.add_parser("demo", help="index the bundled sample corpus and answer a question"))
    p.add_argument("task", nargs="?", default=None)
    p.set_defaults(func=cmd_demo)
    return parser


def _configure_logging() -> None:
    """The CLI owns its process, so it (not the library) sets up logging from the settings."""
    from agent.logging import configure_logging
    from agent.settings import Settings

    settings = Settings.load()
    configure_logging(settings.log_level, settings.log_format)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _configure_logging()
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
    except BrokenPipeError:  # `hragent ask ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""Structure-aware HTML (#12): definition-list entries as sections, and section vectors merged from leaves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.embeddings import HashingEmbedder
from tools.hierarchy.merge import mean_section_vectors, section_leaf_members
from tools.ingest.loaders import parse_html
from tools.ingest.tree import build_tree

API_PAGE = """<html><head><title>Cmd — Docs</title></head><body><div role="main">
<h1>Command line¶</h1><p>Intro to options.</p>
<h2>Options¶</h2>
<dl class="std cmdoption"><dt class="sig sig-object std" id="o-c">-c &lt;command&gt;<a class="headerlink">¶</a></dt>
<dd><p>Execute the code in command.</p>
<dl class="field-list simple"><dt>Parameters</dt><dd><p>the command</p></dd></dl>
</dd></dl>
<p>Text after the list belongs to Options.</p>
<dl><dt>-a</dt><dt>--all</dt><dd><p>Stage every modified file.</p>
<dl class="py method"><dt>inner()</dt><dd><p>A nested entry.</p></dd></dl></dd></dl>
<dl class="simple"><dt>term</dt><dd><p>A short definition.</p></dd></dl>
<h2>Next¶</h2><p>Other text.</p>
</div></body></html>"""


def _sections(html: str, **kwargs: bool) -> dict[tuple[str, ...], str]:
    doc = parse_html(html, "page.html", **kwargs)
    tree = build_tree(doc, HashingEmbedder().count_tokens)
    out: dict[tuple[str, ...], str] = {}
    for sec in tree.by_level("section"):
        leaves = [n.text for n in tree.by_level("leaf") if n.section_id == sec.node_id]
        out[tuple(sec.section)] = " ".join(leaves)
    return out


def test_dl_entries_become_sections_under_the_current_heading() -> None:
    secs = _sections(API_PAGE)
    assert ("Command line", "Options", "-c <command>") in secs
    assert "Execute the code in command." in secs[("Command line", "Options", "-c <command>")]
    # field lists and "simple" lists stay prose inside their entry / section
    assert "Parameters" in secs[("Command line", "Options", "-c <command>")]
    assert not any("Parameters" in path for path in secs)
    assert not any("term" in path for path in secs)
    # the list closed: following text goes back to the enclosing section
    assert "Text after the list belongs to Options." in secs[("Command line", "Options")]
    assert "A short definition." in secs[("Command line", "Options")]
    # consecutive <dt> name one entry; nested lists nest one level deeper
    assert ("Command line", "Options", "-a, --all") in secs
    assert ("Command line", "Options", "-a, --all", "inner()") in secs
    assert ("Command line", "Next") in secs


def test_dl_sections_can_be_switched_off_and_text_is_verbatim() -> None:
    secs = _sections(API_PAGE, dl_sections=False)
    assert all(len(path) <= 2 for path in secs)
    doc = parse_html(API_PAGE, "page.html")
    tree = build_tree(doc, HashingEmbedder().count_tokens)
    for node in tree.nodes:
        assert node.text == doc.text[node.start : node.end]


def test_mean_section_vectors_average_every_leaf_below() -> None:
    doc = parse_html(API_PAGE, "page.html")
    tree = build_tree(doc, HashingEmbedder().count_tokens)
    leaves = tree.by_level("leaf")
    rng = np.random.default_rng(0)
    leaf_vecs = rng.normal(size=(len(leaves), 8)).astype(np.float32)
    sections = tree.by_level("section")
    members = section_leaf_members(tree)
    root = next(s for s in sections if s.section == ["Command line"])
    assert sorted(members[root.node_id]) == list(range(len(leaves)))  # the top section holds every leaf
    calls: list[list[int]] = []

    def fallback(idx: list[int]) -> np.ndarray:
        calls.append(idx)
        return np.ones((len(idx), 8), dtype=np.float32)

    vecs = mean_section_vectors(tree, sections, leaf_vecs, fallback)
    expect = leaf_vecs.mean(axis=0)
    expect /= np.linalg.norm(expect)
    got = vecs[sections.index(root)]
    assert np.allclose(got, expect, atol=1e-5)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert not calls  # every section here has a leaf


def test_index_settings_are_recorded_and_kept(tmp_path: Path, make_agent: object) -> None:
    from agent import Settings

    page = tmp_path / "docs" / "cmd.html"
    page.parent.mkdir()
    page.write_text(API_PAGE)
    settings = Settings(checkpointer="memory", llm={"backend": "offline"}, index={"section_vectors": "mean"})  # type: ignore[arg-type]
    agent = make_agent("idx", settings=settings)  # type: ignore[operator]
    agent.ingest(page.parent)
    assert agent.index.manifest["section_vectors"] == "mean"
    assert agent.index.manifest["dl_sections"] is True
    hits = agent.retrieve("Stage every modified file", k=3, strategy="summary_route")
    assert hits and hits[0].section[-1] == "-a, --all"


def test_tree_hybrid_finds_an_entry_and_head_needs_training(tmp_path: Path, make_agent: object) -> None:
    from agent import ConfigError

    page = tmp_path / "docs" / "cmd.html"
    page.parent.mkdir()
    page.write_text(API_PAGE)
    agent = make_agent("idx")  # type: ignore[operator]
    agent.ingest(page.parent)
    hits = agent.retrieve("Execute the code in command", k=2, strategy="tree_hybrid")
    assert hits[0].section[-1] == "-c <command>"
    assert all(h.strategy == "tree_hybrid" for h in hits)
    try:
        agent.retrieve("anything", k=2, strategy="head")
    except ConfigError as exc:
        assert "train-head" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("the head strategy must ask for a trained head")

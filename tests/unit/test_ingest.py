from __future__ import annotations

from pathlib import Path

import pytest

from tools.embeddings import HashingEmbedder
from tools.errors import IngestError
from tools.ingest.loaders import load_file, parse_html, parse_markdown, parse_text
from tools.ingest.sentences import split_sentences
from tools.ingest.tree import TreeConfig, build_tree

MD = """# Guide

Intro paragraph. It has two sentences.

## Install

Run the installer. Then restart.

```python
def f():
    return 1  # a code block. With periods. That must stay whole.
```

| a | b |
|---|---|
| 1 | 2 |

### Deep

Deep text here.
"""


def test_sentences_keep_offsets_and_abbreviations() -> None:
    text = "Dr. J. Smith was born in 1950. He moved to the U.S. in 1970! Really?"
    spans = split_sentences(text)
    parts = [text[s:e] for s, e in spans]
    assert parts == ["Dr. J. Smith was born in 1950.", "He moved to the U.S. in 1970!", "Really?"]


def test_markdown_blocks_headings_code_and_table() -> None:
    doc = parse_markdown(MD, "guide.md")
    kinds = [b.kind for b in doc.blocks]
    assert kinds.count("heading") == 3
    assert "code" in kinds and "table" in kinds
    code = next(b for b in doc.blocks if b.kind == "code")
    assert doc.block_text(code).startswith("```python") and doc.block_text(code).endswith("```")
    assert doc.title == "Guide"


def test_tree_offsets_are_verbatim_and_code_is_one_sentence() -> None:
    doc = parse_markdown(MD, "guide.md")
    tree = build_tree(doc, HashingEmbedder().count_tokens)
    for node in tree.nodes:
        assert node.text == doc.text[node.start : node.end]
    sections = {tuple(n.section) for n in tree.by_level("section")}
    assert ("Guide", "Install", "Deep") in sections
    code_sents = [n for n in tree.by_level("sentence") if n.text.startswith("```")]
    assert len(code_sents) == 1 and code_sents[0].text.endswith("```")
    leaf_parents = {n.parent_id for n in tree.by_level("leaf")}
    assert leaf_parents <= {n.node_id for n in tree.by_level("chunk")}


def test_leaves_respect_token_budget() -> None:
    para = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(200))
    doc = parse_markdown(f"# T\n\n{para}\n", "t.md")
    counter = HashingEmbedder().count_tokens
    tree = build_tree(doc, counter, TreeConfig(leaf_tokens=64))
    leaves = tree.by_level("leaf")
    assert len(leaves) > 5
    assert all(counter(leaf.text) <= 64 for leaf in leaves)


def test_html_keeps_main_content_and_pre_blocks() -> None:
    html = """<html><head><title>Page — Site</title></head><body>
    <div role="navigation"><a>index</a> next</div>
    <div role="main"><h1>Title¶</h1><p>First <code>x</code> para.</p><pre>a = 1
b = 2</pre><h2>Sub</h2><table><tr><th>k</th><th>v</th></tr><tr><td>1</td><td>2</td></tr></table></div>
    <footer>copyright</footer></body></html>"""
    doc = parse_html(html, "p.html")
    assert "index" not in doc.text and "copyright" not in doc.text
    assert "a = 1\nb = 2" in doc.text
    assert [b.title for b in doc.blocks if b.kind == "heading"] == ["Title", "Sub"]
    assert "k | v" in doc.text
    assert doc.title == "Page"


def test_plain_text_headings() -> None:
    doc = parse_text("Overview\nThe system works well. It is fast.\n\nDetails\nMore text here.\n", "a.txt")
    assert [b.title for b in doc.blocks if b.kind == "heading"] == ["Overview", "Details"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.md", b"", "empty"),
        ("bin.txt", b"\x00\x01\x02binary", "binary"),
        ("x.docx", b"PK..", "unsupported"),
        ("bad.pdf", b"%PDF-1.4 garbage", "PDF"),
    ],
)
def test_bad_files_raise_typed_errors(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError, match=reason):
        load_file(path)


def test_cp1252_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 opened in 1999. It serves coffee.".encode("cp1252"))
    assert "Café" in load_file(path).text

"""Continuing a kept scale-out build: the documents already stored are found by file name (a copied
folder's sources name the old folder), and an index that is not this build of this corpus is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.scaleout_measure import make_corpus, open_index
from benchmarks.scaleout_resume import KeptBuildMismatch, present_files
from tools.ingest.pipeline import ingest_paths


@pytest.fixture
def kept(tmp_path: Path) -> tuple[Path, list[Path]]:
    """An embedded index holding every other one of 6 invented corpus files, built in one folder
    and then copied to another (as `cp -a` of a kept build does)."""
    files = make_corpus(tmp_path / "old" / "docs", 6)
    index = open_index("embedded", None, "", tmp_path / "old" / "index-embedded")
    ingest_paths(index, files[::2])
    index.close()
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    return tmp_path / "new" / "index-embedded", make_corpus(tmp_path / "new" / "docs", 6)


def test_a_copied_build_is_continued_by_file_name(kept: tuple[Path, list[Path]]) -> None:
    index_dir, files = kept
    assert present_files("embedded", None, "", index_dir, files, 3) == {f.name for f in files[::2]}


def test_another_number_of_documents_is_refused(kept: tuple[Path, list[Path]]) -> None:
    index_dir, files = kept
    with pytest.raises(KeptBuildMismatch, match="holds 3"):
        present_files("embedded", None, "", index_dir, files, 4)


def test_documents_the_corpus_lacks_are_refused(kept: tuple[Path, list[Path]]) -> None:
    index_dir, files = kept
    with pytest.raises(KeptBuildMismatch, match="does not have"):
        present_files("embedded", None, "", index_dir, files[:4], 3)  # d0000004 is stored, not in the corpus


def test_a_changed_corpus_file_is_refused(kept: tuple[Path, list[Path]]) -> None:
    index_dir, files = kept
    files[2].write_text(files[2].read_text() + "One more invented line.\n")
    with pytest.raises(KeptBuildMismatch, match="differs from the corpus file"):
        present_files("embedded", None, "", index_dir, files, 3)


def test_a_missing_index_is_refused(tmp_path: Path) -> None:
    files = make_corpus(tmp_path / "docs", 2)
    with pytest.raises(KeptBuildMismatch, match="holds 0"):
        present_files("embedded", None, "", tmp_path / "nowhere", files, 2)

"""Entity linking by document title: which indexed documents does a piece of text name?

Multi-hop questions name their first entity, and the evidence for it names the next one ("…directed
by Nadia Roos"). Dense search blurs names; an exact title lookup does not. Matching is
case-sensitive on whole words (titles are proper nouns), and a title's trailing parenthetical
("Summer Ledger (1947 film)") also matches without it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from tools.index import HierarchicalIndex

_WORD = re.compile(r"\w+(?:[-'’.]\w+)*", re.UNICODE)
_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
MAX_TITLE_WORDS = 10
# One-word titles that are ordinary capitalised words would link everything; they need a second
# signal (dense or BM25) to surface, so they are not linked.
_COMMON = frozenset(
    [
        "The",
        "A",
        "An",
        "In",
        "On",
        "Of",
        "And",
        "For",
        "To",
        "It",
        "He",
        "She",
        "They",
        "His",
        "Her",
        "This",
        "That",
        "These",
        "Those",
        "There",
        "What",
        "Which",
        "Who",
        "When",
        "Where",
        "Why",
        "How",
        "Is",
        "Was",
        "Are",
        "Were",
        "Be",
        "Not",
        "No",
        "Yes",
        "I",
        "We",
        "You",
        "Its",
        "After",
        "Before",
        "During",
        "While",
        "Since",
        "As",
        "At",
        "By",
        "From",
        "With",
    ]
)


def _key(words: list[str]) -> str:
    return " ".join(words)


@dataclass
class TitleMatcher:
    """Title word-sequence -> doc ids, built once per index version."""

    version: tuple[float, int]
    keys: dict[str, list[str]]
    max_words: int

    @classmethod
    def build(cls, pairs: list[tuple[str, str]], version: tuple[float, int]) -> TitleMatcher:
        keys: dict[str, list[str]] = {}
        longest = 1
        for doc_id, title in pairs:
            for variant in dict.fromkeys([title, _PAREN.sub("", title)]):
                words = _WORD.findall(variant)
                if not words or len(words) > MAX_TITLE_WORDS:
                    continue
                if len(words) == 1 and (words[0] in _COMMON or len(words[0]) < 3 or not words[0][0].isupper()):
                    continue
                keys.setdefault(_key(words), []).append(doc_id)
                longest = max(longest, len(words))
        return cls(version, keys, longest)

    def mentions(self, text: str, exclude: frozenset[str] = frozenset()) -> list[list[str]]:
        """Per distinct name in `text` (text order, longest match at each position), the doc ids it
        may mean: "Colm Barry" names both "Colm Barry" and "Colm Barry (film)"."""
        words = _WORD.findall(text)
        groups: dict[str, list[str]] = {}
        i = 0
        while i < len(words):
            step = 1
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                key = _key(words[i : i + n])
                ids = self.keys.get(key)
                if ids:
                    kept = [d for d in ids if d not in exclude]
                    if kept:
                        groups.setdefault(key, []).extend(d for d in kept if d not in groups.get(key, []))
                    step = n
                    break
            i += step
        return list(groups.values())

    def find(self, text: str, exclude: frozenset[str] = frozenset()) -> list[str]:
        """Doc ids whose title occurs in `text`, in text order."""
        return list(dict.fromkeys(d for group in self.mentions(text, exclude) for d in group))


# One matcher per live index object (bounded: an entry goes when its index does), never shared
# between indexes; the lock makes concurrent first calls build it once.
_CACHE: WeakKeyDictionary[HierarchicalIndex, TitleMatcher] = WeakKeyDictionary()
_LOCK = threading.Lock()


def _index_version(index: HierarchicalIndex) -> tuple[float, int]:
    """This process's last write time and the manifest file's mtime: every ingest or delete rewrites
    the manifest, so a document another process ingested changes the second half (one `stat`)."""
    try:
        mtime = (index.path / "manifest.json").stat().st_mtime_ns
    except OSError:
        mtime = 0
    return float(index.manifest.get("updated_at") or 0.0), mtime


def title_matcher(index: HierarchicalIndex) -> TitleMatcher:
    """The index's matcher, rebuilt only when the index has changed since it was built."""
    version = _index_version(index)
    with _LOCK:
        cached = _CACHE.get(index)
        if cached is None or cached.version != version:
            cached = TitleMatcher.build(index.doc_titles(), version)
            _CACHE[index] = cached
        return cached

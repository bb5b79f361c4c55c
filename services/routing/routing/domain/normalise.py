"""Informal Indonesian turned into the plain, lower-case standard words the classifier learnt
from, and those words' stems. Pure functions (the stemmer and its memo are caches, not state
anyone can observe).

Why each step: complaints arrive from web forms that leave HTML behind, from SMS with
abbreviations (yth, mhn, tdk, sy, dgn), from chat with slang and stretched words ("rusaaak"),
and from people who mix in Javanese or Sundanese. Two people describing the same broken road
must end up with the same words, or the model needs twice the examples to learn one thing.
Numbers are dropped (house numbers, dates, NIK: they never decide a category, and a NIK is
personal data); reduplication written with a 2 ("anak2") becomes the base word.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from routing.domain import lexicon

_TAG = re.compile(r"<[^>]{0,200}>")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+")
_REDUPLICATED = re.compile(r"\b([a-z]{2,})2(?:an|nya)?\b")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_TOKEN = re.compile(r"[a-z0-9]+")

_WORDS = lexicon.table()
_PHRASES = lexicon.PHRASES


def normalise(text: str) -> str:
    """`text` as lower-case standard Indonesian words separated by single spaces."""
    text = html.unescape(text or "").lower()
    text = _TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _REDUPLICATED.sub(r"\1", text)
    tokens = [t for t in _TOKEN.findall(text) if not t.isdigit()]
    return " ".join(w for w in _words(tokens) if w)


def _words(tokens: list[str]) -> list[str]:
    """Two-word expressions first ("teu acan" is "belum", not "tidak belum"), then words."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        pair = f"{tokens[i]} {tokens[i + 1]}" if i + 1 < len(tokens) else ""
        if pair in _PHRASES:
            out.append(_PHRASES[pair])
            i += 2
            continue
        out.append(_word(tokens[i]))
        i += 1
    return out


def _word(token: str) -> str:
    """One token: looked up as written, then with stretched letters squeezed."""
    if token in _WORDS:
        return _WORDS[token]
    squeezed = _ELONGATED.sub(r"\1", token)
    if squeezed != token:
        return _WORDS.get(squeezed, squeezed)
    return token


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory   # slow to build: once
    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """One word's stem (Sastrawi is ~1 ms a word; the memo makes repeated words free)."""
    return _stemmer().stem(word) or word


def stems(text: str) -> list[str]:
    """The stems of `text`'s normalised words, in order."""
    return [stem(w) for w in normalise(text).split()]

"""The minimal normalisation the keyword classifier reads text through: lower case, HTML
remnants and punctuation removed, common abbreviations expanded (real complaints are informal).
"""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "jln": "jalan", "jl": "jalan", "yth": "yang terhormat", "mhn": "mohon", "tdk": "tidak",
    "sdh": "sudah", "blm": "belum", "dg": "dengan", "dgn": "dengan", "sy": "saya",
    "rs": "rumah sakit", "pju": "lampu jalan", "tlg": "tolong", "krn": "karena",
}


def normalise(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text.lower())
    text = re.sub(r"[^\w\s-]", " ", text)
    words = [ABBREVIATIONS.get(word, word) for word in text.split()]
    return " " + " ".join(words) + " "

"""Informal Indonesian as citizens write it, made readable for a model: lower case, HTML remnants
and links gone, letters repeated for emphasis squeezed ("lamaaa" -> "lama"), SMS abbreviations,
slang, common typos and everyday Javanese, Sundanese and Betawi words replaced by standard
Indonesian, then words stemmed with Sastrawi (a well-kept Indonesian stemmer from PyPI), so
"diperbaiki", "perbaikan" and "memperbaiki" count as one word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

# Abbreviations, slang, typos and regional words -> standard Indonesian (a phrase may replace one).
LEXICON = {
    # SMS and chat abbreviations
    "yth": "yang terhormat", "mhn": "mohon", "mohn": "mohon", "tdk": "tidak", "gak": "tidak",
    "ga": "tidak", "gk": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak",
    "tak": "tidak", "kagak": "tidak", "sy": "saya", "sya": "saya", "aku": "saya", "gue": "saya",
    "gw": "saya", "dgn": "dengan", "dg": "dengan", "sdh": "sudah", "udh": "sudah", "udah": "sudah",
    "dah": "sudah", "blm": "belum", "blum": "belum", "jln": "jalan", "jl": "jalan", "tlg": "tolong",
    "tolonglah": "tolong", "krn": "karena", "karna": "karena", "bgt": "banget", "yg": "yang",
    "utk": "untuk", "untk": "untuk", "dr": "dari", "dri": "dari", "pd": "pada", "kpd": "kepada",
    "spt": "seperti", "dll": "dan lain lain", "tp": "tapi", "tpi": "tapi", "sm": "sama",
    "aja": "saja", "lg": "lagi", "bnyk": "banyak", "byk": "banyak", "org": "orang", "jg": "juga",
    "klo": "kalau", "kalo": "kalau", "gmn": "bagaimana", "gimana": "bagaimana", "bgmn": "bagaimana",
    "knp": "kenapa", "napa": "kenapa", "skrg": "sekarang", "skr": "sekarang", "sampe": "sampai",
    "trs": "terus", "trus": "terus", "bs": "bisa", "bsa": "bisa", "hrs": "harus",
    "sdgkan": "sedangkan", "dpn": "depan", "blkg": "belakang", "sblh": "sebelah", "rmh": "rumah",
    "pak": "bapak", "bu": "ibu", "mas": "bapak", "min": "admin", "kel": "kelurahan",
    "kec": "kecamatan", "kab": "kabupaten", "pemkot": "pemerintah kota", "pemda": "pemerintah daerah",
    "pju": "lampu jalan", "rs": "rumah sakit", "sd": "sekolah", "smp": "sekolah", "sma": "sekolah",
    "smk": "sekolah", "ektp": "ktp", "kk": "kartu keluarga", "ojol": "ojek online",
    # Javanese
    "ora": "tidak", "mboten": "tidak", "durung": "belum", "dereng": "belum", "wis": "sudah",
    "sampun": "sudah", "piye": "bagaimana", "pripun": "bagaimana", "opo": "apa", "nopo": "apa",
    "ning": "di", "neng": "di", "karo": "dengan", "kalih": "dengan", "dalan": "jalan",
    "mlaku": "jalan", "banyu": "air", "omah": "rumah", "uwong": "orang", "wong": "orang",
    "kulo": "saya", "reged": "kotor", "mambu": "bau",
    # Sundanese
    "teu": "tidak", "acan": "belum", "tos": "sudah", "abdi": "saya", "punten": "maaf",
    "kumaha": "bagaimana", "cai": "air", "imah": "rumah", "ruksak": "rusak",
    # Betawi and eastern Indonesia
    "udeh": "sudah", "kaga": "tidak", "ape": "apa", "sa": "saya", "tra": "tidak", "sonde": "tidak",
    # typos seen often
    "rusk": "rusak", "rusakk": "rusak", "berlubng": "berlubang", "sampa": "sampah",
    "lampunya": "lampu", "listirk": "listrik", "lisrik": "listrik",
}

_TAG = re.compile(r"<[^>]+>|&[a-z]+;")
_URL = re.compile(r"https?://\S+|www\.\S+")
_REPEAT = re.compile(r"(\w)\1{2,}")          # three or more of one letter: emphasis
_NON_WORD = re.compile(r"[^\w\s]")
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """Lower case, no markup or links, emphasis squeezed, abbreviations and regional words
    replaced; numbers become one token (a house number says nothing of the category)."""
    text = _URL.sub(" ", _TAG.sub(" ", text.lower()))
    text = _REPEAT.sub(r"\1", text)
    text = _DIGITS.sub(" 0 ", _NON_WORD.sub(" ", text))
    return " ".join(LEXICON.get(w, w) for w in text.split())


@lru_cache(maxsize=1)
def _stemmer():
    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer().stem(word) or word


def stems(text: str) -> list[str]:
    """The normalised text's words, each stemmed (memoised: Sastrawi is slow per word)."""
    return [stem(w) for w in normalise(text).split()]

"""A simple keyword rule table: each OPD with the words that point to it.

A stand-in for the real classifier (a later issue), kept honest: it scores every OPD, abstains
when nothing or several OPDs match equally, and says which words decided. Text is normalised
first (lower case, HTML remnants and punctuation removed, common abbreviations expanded),
because real complaints are informal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPD_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "dinas-pupr": ("Dinas Pekerjaan Umum dan Penataan Ruang", (
        "jalan rusak", "jalan berlubang", "berlubang", "aspal", "jembatan", "drainase",
        "gorong-gorong", "saluran air", "trotoar", "banjir", "pothole", "road",
    )),
    "dlh": ("Dinas Lingkungan Hidup", (
        "sampah", "tps", "pencemaran", "limbah", "bau busuk", "polusi", "pohon tumbang",
        "garbage", "waste",
    )),
    "disdukcapil": ("Dinas Kependudukan dan Pencatatan Sipil", (
        "ktp", "e-ktp", "kartu keluarga", "kk", "akta kelahiran", "akta kematian", "akta",
        "kependudukan", "nik", "identity card",
    )),
    "dishub": ("Dinas Perhubungan", (
        "parkir liar", "parkir", "lampu jalan", "lampu lalu lintas", "angkot", "terminal",
        "macet", "rambu", "street light", "parking",
    )),
    "dinkes": ("Dinas Kesehatan", (
        "puskesmas", "rumah sakit", "bpjs", "obat", "dokter", "demam berdarah", "posyandu",
        "hospital", "clinic",
    )),
    "disdik": ("Dinas Pendidikan", (
        "sekolah", "guru", "ppdb", "zonasi", "pungutan sekolah", "murid", "school", "teacher",
    )),
    "dpmptsp": ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", (
        "izin", "perizinan", "imb", "pbg", "nib", "izin usaha", "permit",
    )),
    "bapenda": ("Badan Pendapatan Daerah", (
        "pajak", "pbb", "pajak daerah", "retribusi", "tax",
    )),
    "satpol-pp": ("Satuan Polisi Pamong Praja", (
        "pkl", "pedagang kaki lima", "ketertiban", "bangunan liar", "reklame liar", "miras",
    )),
    "dinsos": ("Dinas Sosial", (
        "bansos", "dtks", "bantuan sosial", "pkh", "gelandangan", "pengemis",
    )),
}

ABBREVIATIONS = {
    "jln": "jalan", "jl": "jalan", "yth": "yang terhormat", "mhn": "mohon", "tdk": "tidak",
    "sdh": "sudah", "blm": "belum", "dg": "dengan", "dgn": "dengan", "sy": "saya",
    "rs": "rumah sakit", "pju": "lampu jalan", "tlg": "tolong", "krn": "karena",
}


@dataclass(frozen=True)
class Decision:
    """An assignment (opd_id set) or an abstention (opd_id None) with the reason either way."""

    opd_id: str | None
    opd_name: str | None
    confidence: float
    reason: str
    suggestions: tuple[str, ...] = ()


def normalise(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text.lower())
    text = re.sub(r"[^\w\s-]", " ", text)
    words = [ABBREVIATIONS.get(word, word) for word in text.split()]
    return " " + " ".join(words) + " "


def _score(text: str, keywords: tuple[str, ...]) -> list[str]:
    return [k for k in keywords if f" {k} " in text]


def classify(title: str, description: str, min_confidence: float = 0.5,
             exclude: frozenset[str] = frozenset()) -> Decision:
    """Score every OPD but those in `exclude` (the OPDs that already said "bukan wewenang": a
    complaint never goes back to one of them, not even as a suggestion). An excluded OPD is
    treated as if it did not exist, so the confidence is shared among the others only; when
    nothing but excluded OPDs matched, the reason says so, so the operator knows the text
    itself points at a unit that refused it."""
    text = normalise(f"{title} {title} {description}")  # the title counts twice
    every = {opd: _score(text, words) for opd, (_, words) in OPD_RULES.items()}
    hits = {opd: words for opd, words in every.items() if opd not in exclude}
    scored = sorted(((len(words), opd) for opd, words in hits.items() if words), reverse=True)
    if not scored:
        refused = [opd for opd in OPD_RULES if opd in exclude and every[opd]]
        if refused:
            return Decision(None, None, 0.0, f"only excluded OPDs matched: {', '.join(refused)}")
        return Decision(None, None, 0.0, "no keyword of any OPD matched")
    best_count, best = scored[0]
    total = sum(count for count, _ in scored)
    confidence = round(best_count / total, 3)
    suggestions = tuple(opd for _, opd in scored[:3])
    if confidence < min_confidence or (len(scored) > 1 and scored[1][0] == best_count):
        return Decision(None, None, confidence,
                        f"ambiguous: {', '.join(suggestions)} matched equally or closely",
                        suggestions)
    return Decision(best, OPD_RULES[best][0], confidence,
                    f"keywords matched: {', '.join(hits[best])}", suggestions)

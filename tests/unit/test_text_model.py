"""The classifier as `make model` builds it, on the corpus's own split: informal text normalised,
obvious complaints read right, rejecters' categories excluded, confidences that mean something,
and the words that decided."""

import pytest

from routing.adapters.model_file import load_model
from routing.domain.informal import normalise, stems
from routing.train import held_out, load

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def model():
    return load_model()      # `make test` builds it first (make model)


@pytest.mark.parametrize("written, readable", [
    ("Yth. Bpk/Ibu, jln rusaaak bgt dpn SD", "yang terhormat bpk ibu jalan rusak banget depan sekolah"),
    ("<p>gak ada&nbsp;yg ngurus</p>", "tidak ada yang ngurus"),
    ("dalan ora dibenerke, wis suwe", "jalan tidak dibenerke sudah suwe"),
    ("cai teu ngocor tos saminggu", "air tidak ngocor sudah saminggu"),
    ("liat https://t.co/x no 12", "liat no 0"),
])
def test_informal_writing_is_made_readable(written, readable):
    assert normalise(written) == readable


def test_words_are_stemmed():
    assert stems("perbaikan jalan diperbaiki") == ["baik", "jalan", "baik"]


@pytest.mark.parametrize("title, description, main", [
    ("Jalan berlubang", "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 sdh dua minggu.", "pupr"),
    ("sampah numpuk", "sampah di tps pasar gak diangkut seminggu, bau bgt", "lingkungan"),
    ("ktp blm jadi", "udh 3 bulan rekam ktp-el blm jg dicetak", "adminduk"),
    ("PDAM mati", "air pdam mati terus sdh 4 hari, tlg", "air-minum"),
    ("listrik padam", "pln gmn sih listrik mati 3x sehari", "energi"),
])
def test_obvious_complaints_are_read_right(model, title, description, main):
    read = model.classify(title, description)
    assert read.main_category == main and read.subcategory.startswith(main + ".")
    assert 0 <= read.confidence <= 1 and read.explanation
    assert [c for c, _ in read.alternatives][0] == read.subcategory
    assert list(read.alternatives) == sorted(read.alternatives, key=lambda a: -a[1])


def test_an_excluded_category_is_never_chosen_and_the_rest_renormalised(model):
    read = model.classify("Jalan berlubang dan sampah", "Jalan berlubang di pasar, sampah menumpuk.",
                          exclude_subcategories=frozenset({"pupr.jalan-rusak"}))
    assert read.subcategory != "pupr.jalan-rusak"
    assert all(c != "pupr.jalan-rusak" for c, _ in read.alternatives)
    assert sum(p for _, p in read.alternatives) <= 1.001


def test_confident_readings_of_the_held_out_split_are_mostly_right(model):
    test = [e for i, e in load() if held_out(i)]
    read = model.classify_many([(e.title, e.description) for e in test])
    sure = [(r, e) for r, e in zip(read, test) if r.confidence >= 0.9]
    assert len(sure) >= len(test) // 2
    right = sum(r.main_category == e.subcategory.split(".")[0] for r, e in sure)
    assert right / len(sure) >= 0.9, "a confidence of 0.9 must mean about nine in ten right"

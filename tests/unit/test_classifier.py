"""The trained classifier (routing.domain.classifier, built by routing.training.build) on the
project's corpus: obvious complaints read right however they are written, a rejecter's
subcategory excluded with the rest renormalised, confidences that mean what they say on the
held-out split, the words that decided, and a build that is reproducible."""

import re

import joblib
import numpy as np
import pytest

from contracts import taxonomy as tx
from routing.domain.classifier import ModelMissing, default_model_path, load_classifier, prepare
from routing.training import build, corpus, evaluate

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def split():
    return corpus.split(corpus.load())


@pytest.fixture(scope="module")
def classifier(split, tmp_path_factory):
    """The built model when it was built from this corpus, else one trained here (~20 s)."""
    path = default_model_path()
    if path.is_file():
        found = load_classifier(path)
        if found.model.corpus_digest == corpus.digest():
            return found
    training, _ = split
    model = build.train(training, tx.load(), corpus.digest())
    out = tmp_path_factory.mktemp("model") / "classifier.joblib"
    joblib.dump(model, out)
    return load_classifier(out)


@pytest.mark.parametrize("title, description, main", [
    ("Jalan berlubang", "Mhn diperbaiki, jln berlubang besar di dpn SDN 3 sdh 2 minggu.", "pupr"),
    ("sampah numpuk", "sampah di tps pasar gak diangkut seminggu, bau bgt", "lingkungan"),
    ("ktp blm jadi", "udh 3 bulan rekam e-ktp blm jg dicetak", "adminduk"),
    ("PDAM mati", "air pdam mati terus sdh 4 hari, tlg", "air-minum"),
    ("listrik padam", "pln gmn sih listrik mati 3x sehari", "energi"),
    ("paspor", "mau perpanjang paspor di kantor imigrasi antri lama bgt", "imigrasi"),
    ("uwuh", "uwuh neng kalen ora diangkut wis seminggu, mambu", "lingkungan"),
    ("runtah", "runtah di TPS teu acan diangkut, hangseur pisan", "lingkungan"),
    ("PPDB zonasi", "anak sy gak keterima sekolah negeri pdhl rumah dkt, zonasi gmn sih",
     "pendidikan"),
])
def test_obvious_complaints_go_to_the_right_main_category(classifier, title, description, main):
    read = classifier.classify(title, description)
    assert read.main_category == main
    assert read.subcategory.startswith(main + ".")
    assert 0.0 <= read.confidence <= 1.0
    assert read.report_type in ("pengaduan", "aspirasi", "permintaan_informasi")
    assert read.urgency in ("rendah", "sedang", "tinggi")


def test_alternatives_start_with_the_choice_then_by_probability(classifier):
    read = classifier.classify("jalan rusak dan sampah",
                               "jalan berlubang, sampah numpuk di pinggirnya")
    codes = [c for c, _ in read.alternatives]
    assert codes[0] == read.subcategory and len(codes) == len(set(codes)) == 3
    rest = [p for _, p in read.alternatives[1:]]
    assert rest == sorted(rest, reverse=True)
    assert all(0.0 <= p <= 1.0 for _, p in read.alternatives)


def test_the_explanation_names_words_of_the_text(classifier):
    read = classifier.classify("Jalan berlubang", "jalan berlubang besar, motor jatuh")
    assert read.explanation
    doc = prepare("Jalan berlubang", "jalan berlubang besar, motor jatuh")
    # stemmed n-grams the model weighed, or taxonomy keywords found in the normalised text
    assert all(term in doc.stemmed or term in doc.plain for term in read.explanation)
    assert "lubang" in read.explanation or "berlubang" in read.explanation


def test_an_excluded_subcategory_is_never_chosen_nor_suggested(classifier):
    text = ("Jalan berlubang", "Jalan berlubang besar di depan pasar")
    first = classifier.classify(*text)
    again = classifier.classify(*text, exclude_subcategories=frozenset({first.subcategory}))
    assert again.subcategory != first.subcategory
    assert first.subcategory not in {c for c, _ in again.alternatives}
    assert sum(p for _, p in again.alternatives) <= 1.0001
    assert 0.0 <= again.confidence <= 1.0


def test_excluding_a_whole_main_category_moves_to_another(classifier):
    pupr = frozenset(c for c in classifier.subcategories if c.startswith("pupr."))
    read = classifier.classify("Jalan berlubang", "jalan berlubang besar",
                               exclude_subcategories=pupr)
    assert read.main_category != "pupr"


def test_excluding_everything_is_an_error(classifier):
    with pytest.raises(ValueError):
        classifier.classify("a", "b", exclude_subcategories=frozenset(classifier.subcategories))


def test_a_confidence_of_09_is_right_nine_times_in_ten_on_the_held_out_split(classifier, split):
    _, held_out = split
    read = classifier.classify_many([(e.title, e.description) for e in held_out])
    sure = [(r, e) for r, e in zip(read, held_out) if r.confidence >= 0.9]
    assert len(sure) >= len(held_out) // 2
    assert sum(r.main_category == e.main_category for r, e in sure) / len(sure) >= 0.9


def test_the_fast_path_computes_the_pipelines_features(classifier, split):
    _, held_out = split
    docs = [prepare(e.title, e.description) for e in held_out[:40]]
    expected = classifier.model.features.transform(docs).toarray()
    for i, doc in enumerate(docs):
        cols, vals = classifier.features_of(doc)
        row = np.zeros(expected.shape[1])
        np.add.at(row, cols, vals)
        assert np.allclose(row, expected[i])


def test_a_missing_model_says_to_run_make_model(tmp_path):
    with pytest.raises(ModelMissing, match="make model"):
        load_classifier(tmp_path / "nothing.joblib")


def test_the_split_is_disjoint_stable_and_measures_every_subcategory(split):
    training, held_out = split
    assert not {e.id for e in training} & {e.id for e in held_out}
    assert 0.15 <= len(held_out) / (len(training) + len(held_out)) <= 0.25
    assert {e.subcategory for e in held_out} == {s.code for s in tx.load().subcategories()}
    again_training, again_held = corpus.split(list(reversed(training + held_out)))
    assert {e.id for e in again_held} == {e.id for e in held_out}


def test_bad_corpus_lines_are_named(tmp_path):
    (tmp_path / "x.jsonl").write_text(
        '{"id": "x-1", "title": "t", "description": "d", "subcategory": "pupr.nope", '
        '"report_type": "pengaduan", "urgency": "sedang"}\n')
    with pytest.raises(corpus.CorpusError, match=r"x.jsonl:1: unknown subcategory"):
        corpus.load(tmp_path)


def test_the_build_is_reproducible(split):
    training, _ = split
    few = [e for e in training if e.main_category in ("pupr", "lingkungan", "imigrasi")]
    a, b = (build.train(few, tx.load()) for _ in range(2))
    assert np.array_equal(a.subcategory.coef_, b.subcategory.coef_)
    assert a.temperature == b.temperature and a.recommended_threshold == b.recommended_threshold


def test_evaluate_ends_with_the_summary_line(classifier, tmp_path, capsys):
    path = tmp_path / "m.joblib"
    joblib.dump(classifier.model, path)
    code = evaluate.main(["--model", str(path)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    number = r"(\d\.\d{4})"
    match = re.fullmatch(f"macro_f1={number} auto_precision={number} coverage={number}", last)
    assert match, last
    assert code == (0 if float(match.group(1)) >= evaluate.MIN_MACRO_F1 else 1)

"""The packaged taxonomy: every main category of the domain, well-formed stable codes, and
attributes typed as Open311 wants them; a broken data file is refused, not half-loaded."""

import re
from pathlib import Path

import pytest

from contracts import taxonomy

pytestmark = pytest.mark.unit
DOMAIN = Path("/work/shared/domain.md")
MAIN = ["Administrasi Kependudukan", "Kesehatan", "Pendidikan dan Kebudayaan",
        "Pekerjaan Umum dan Penataan Ruang", "Perumahan dan Kawasan Permukiman", "Perhubungan",
        "Lingkungan Hidup dan Kehutanan", "Sosial dan Kesejahteraan", "Ketenagakerjaan",
        "Ketenteraman, Ketertiban Umum dan Perlindungan Masyarakat", "Keamanan dan Kepolisian",
        "Air Minum", "Energi dan Sumber Daya Mineral", "Kepegawaian dan ASN",
        "Komunikasi dan Informatika", "Pertanahan", "Ekonomi, Keuangan dan Pajak",
        "Penanggulangan Bencana", "Imigrasi", "Perizinan dan Penanaman Modal",
        "Perdagangan, Industri dan UMKM", "Pertanian, Pangan dan Perikanan", "Topik Lainnya"]


def test_every_main_category_of_the_domain_with_subcategories():
    t = taxonomy.load()
    assert [c.name for c in t.categories] == MAIN
    for c in t.categories:
        assert len(c.subcategories) >= 2, c.code
        for s in c.subcategories:
            assert re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+", s.code) and s.group == c.name
            assert t.subcategory(s.code) is s


def test_attributes_are_open311_typed_and_ordered():
    road = taxonomy.load().subcategory("pupr.jalan-rusak")
    assert [a.code for a in road.attributes] == ["ukuran", "membahayakan", "sejak"]
    assert road.attributes[0].required and road.attributes[0].datatype == "singlevaluelist"
    assert {a.datatype for s in taxonomy.load().subcategories() for a in s.attributes} <= set(taxonomy.DATATYPES)


@pytest.mark.parametrize("broken", [
    {"categories": [{"code": "a", "name": "A", "subcategories": [{"code": "b.x", "name": "X"}]}]},
    {"categories": [{"code": "a", "name": "A", "subcategories": [
        {"code": "a.x", "name": "X"}, {"code": "a.x", "name": "Y"}]}]},
    {"categories": [{"code": "a", "name": "A", "subcategories": [{"code": "a.x", "name": "X", "attributes": [
        {"code": "q", "description": "Q", "datatype": "colour"}]}]}]},
    {"categories": [{"code": "a", "name": "A", "subcategories": [{"code": "a.x", "name": "X", "attributes": [
        {"code": "q", "description": "Q", "datatype": "singlevaluelist"}]}]}]},
])
def test_a_broken_file_is_refused(broken):
    with pytest.raises(taxonomy.TaxonomyError):
        taxonomy.parse(broken)

"""Informal Indonesian made plain (routing.domain.normalise): two people describing the same
problem in SMS shorthand, chat slang, Javanese or Sundanese must end up with the same words."""

import pytest

from routing.domain import lexicon
from routing.domain.normalise import normalise, stem, stems

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("written, plain", [
    # SMS abbreviations
    ("Yth Bpk/Ibu", "yang terhormat bapak ibu"),
    ("mhn dibantu", "mohon dibantu"),
    ("sy tdk tau", "saya tidak tau"),
    ("dtg dgn anak sy", "datang dengan anak saya"),
    ("sdh 2 minggu blm diangkut", "sudah minggu belum diangkut"),
    ("jln di dpn rmh", "jalan di depan rumah"),
    ("tlg krn bahaya", "tolong karena bahaya"),
    ("yg di kel sukajadi kec coblong", "yang di kelurahan sukajadi kecamatan coblong"),
    # chat slang
    ("gak ada yg ngurus", "tidak ada yang mengurus"),
    ("udah gede bgt lobangnya", "sudah besar sekali lobangnya"),
    ("lobang gede", "lubang besar"),
    ("ga bisa, ribet bgt", "tidak bisa rumit sekali"),
    ("gw udh lapor kmrn", "saya sudah lapor kemarin"),
    ("selokan mampet", "selokan tersumbat"),
    # elongated letters
    ("rusaaaak parahhh", "rusak parah"),
    ("tolonggg dongg", "tolong dongg"),
    ("jalannnn", "jalan"),
    ("bgttt", "sekali"),
    # HTML remnants, links, e-mail, numbers
    ("<p>sampah&nbsp;numpuk</p><br/>", "sampah menumpuk"),
    ("lihat https://t.co/abc dan www.contoh.id/x", "lihat dan"),
    ("kirim ke warga@contoh.id ya", "kirim ke ya"),
    ("rt 03 rw 12 no 45", "rt rw nomor"),
    ("NIK 3273010101010001 tidak terdaftar", "nik tidak terdaftar"),
    ("anak2 sekolah", "anak sekolah"),
    ("e-KTP blm jadi", "ktp belum jadi"),
    # Javanese
    ("dalan rusak ora didandani", "jalan rusak tidak diperbaiki"),
    ("banyune mambu, wis suwe", "air bau sudah lama"),
    ("uwuh neng kalen akeh", "sampah di selokan banyak"),
    ("nyuwun tulung, dereng wonten", "mohon tolong belum ada"),
    ("matur nuwun", "terima kasih"),
    # Sundanese
    ("runtah di solokan teu acan diangkut", "sampah di selokan belum diangkut"),
    ("cai teu aya tos saminggu", "air tidak ada sudah saminggu"),
    ("punten, jalanna ruksak pisan", "permisi jalan rusak sekali"),
    ("hatur nuhun", "terima kasih"),
    ("lampu pareum, poek pisan", "lampu padam gelap sekali"),
    # typos
    ("jaln rsak", "jalan rusak"),
    ("smpah di pukesmas", "sampah di puskesmas"),
    ("listirk mati", "listrik mati"),
    ("sertipikat tanah", "sertifikat tanah"),
    ("mati lampu lagi", "listrik padam lagi"),
    # nothing to read
    ("", ""),
    ("!!! ??? 123", ""),
])
def test_informal_text_becomes_plain_indonesian(written, plain):
    assert normalise(written) == plain


def test_upper_case_shouting_reads_like_lower_case():
    assert normalise("JALAN RUSAK PARAH!!!") == normalise("jalan rusak parah")


def test_stems_join_word_forms():
    assert stems("perbaikan jalan diperbaiki") == ["baik", "jalan", "baik"]
    assert stems("jln berlubang, tlg diperbaiki") == ["jalan", "lubang", "tolong", "baik"]


def test_stem_is_memoised_and_never_empty():
    assert stem("pelayanan") == stem("pelayanan") == "layan"
    assert stem("di") == "di"


def test_the_lexicon_maps_to_words_not_back_to_itself():
    table = lexicon.table()
    assert all(k != v and " " not in k and k.islower() for k, v in table.items())
    assert len(table) > 400
    # every value is plain: normalising it changes nothing
    assert all(normalise(v) == v for v in table.values() if v)

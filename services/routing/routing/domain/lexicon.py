"""The informal words citizens write, each mapped to the standard Indonesian the classifier
learnt from: SMS abbreviations, chat slang, Javanese and Sundanese everyday words, frequent
typos. Kept as plain tables so anyone reading a misrouted complaint can add the word that
fooled the classifier (then `make model`).

A value may hold several words ("yth" -> "yang terhormat"). Only whole tokens are replaced;
`normalise` squeezes elongated letters ("rusaaak") before looking a word up, and looks up the
squeezed form first, then the form with doubled letters reduced to one ("tolonggg" -> "tolong").
Ambiguous short forms are left out on purpose: "kali" is Indonesian for "times" and Javanese
for "river", so it stays; "kl" could be "kalau" or "kali", so it stays too.
"""

from __future__ import annotations

# SMS and chat abbreviations of standard words.
ABBREVIATIONS: dict[str, str] = {
    "yth": "yang terhormat", "ykh": "yang kami hormati", "mhn": "mohon", "mohn": "mohon",
    "tdk": "tidak", "tdak": "tidak", "tak": "tidak", "gak": "tidak", "ga": "tidak",
    "gk": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak", "engga": "tidak",
    "kagak": "tidak", "ndak": "tidak", "nda": "tidak", "g": "tidak", "tk": "tidak",
    "sy": "saya", "sya": "saya", "aku": "saya", "gue": "saya", "gw": "saya", "gua": "saya",
    "dgn": "dengan", "dg": "dengan", "dng": "dengan", "sdh": "sudah", "udh": "sudah",
    "udah": "sudah", "dah": "sudah", "sudh": "sudah", "blm": "belum", "blum": "belum",
    "belom": "belum", "lom": "belum", "jln": "jalan", "jl": "jalan", "jalanan": "jalan",
    "tlg": "tolong", "tlng": "tolong", "tolongin": "tolong", "krn": "karena", "karna": "karena",
    "krna": "karena", "soalnya": "karena", "yg": "yang", "yng": "yang", "dr": "dari",
    "dri": "dari", "utk": "untuk", "untk": "untuk", "tp": "tetapi",
    "tapi": "tetapi", "tpi": "tetapi", "sm": "sama", "ama": "sama", "bgt": "sekali",
    "banget": "sekali", "bngt": "sekali", "kalo": "kalau", "klo": "kalau", "klw": "kalau",
    "kpd": "kepada", "kpda": "kepada", "pd": "pada", "dlm": "dalam", "dl": "dulu",
    "skrg": "sekarang", "skg": "sekarang", "sekrg": "sekarang", "skrang": "sekarang",
    "hrs": "harus", "org": "orang", "orng": "orang", "bs": "bisa", "bsa": "bisa",
    "jd": "jadi", "jdi": "jadi", "lg": "lagi", "lgi": "lagi", "aja": "saja", "aj": "saja",
    "sj": "saja", "gmn": "bagaimana", "gimana": "bagaimana", "bgmn": "bagaimana",
    "gmana": "bagaimana", "knp": "kenapa", "np": "kenapa", "napa": "kenapa", "kpn": "kapan",
    "brp": "berapa", "brapa": "berapa", "dmn": "dimana", "dmna": "dimana", "mana": "mana",
    "sbg": "sebagai", "spt": "seperti", "sprt": "seperti", "kyk": "seperti", "kayak": "seperti",
    "kek": "seperti", "trs": "terus", "trus": "terus", "bln": "bulan", "thn": "tahun",
    "th": "tahun", "hr": "hari", "mgg": "minggu", "mg": "minggu", "min": "admin",
    "bpk": "bapak", "bp": "bapak", "pak": "bapak", "ibu": "ibu", "bu": "ibu",
    "sdr": "saudara", "kel": "kelurahan", "kec": "kecamatan", "kab": "kabupaten",
    "kota": "kota", "pemkot": "pemerintah kota", "pemkab": "pemerintah kabupaten",
    "pemda": "pemerintah daerah", "pemprov": "pemerintah provinsi", "dsb": "dan sebagainya",
    "dpn": "depan", "blkg": "belakang", "sblh": "sebelah",
    "dkt": "dekat", "dket": "dekat", "atas": "atas", "bwh": "bawah",
    "dll": "dan lain lain", "dst": "dan seterusnya", "tsb": "tersebut", "ttg": "tentang",
    "trhdp": "terhadap", "thd": "terhadap", "sblm": "sebelum", "stlh": "setelah",
    "stelah": "setelah", "sampe": "sampai", "smp": "sampai", "ampe": "sampai", "bkn": "bukan",
    "msh": "masih", "masi": "masih", "mash": "masih", "sgt": "sangat", "bnyk": "banyak",
    "byk": "banyak", "bnyak": "banyak", "sdkt": "sedikit", "dikit": "sedikit", "emg": "memang",
    "emang": "memang", "mmg": "memang", "trims": "terima kasih", "tks": "terima kasih",
    "thx": "terima kasih", "makasih": "terima kasih", "mksh": "terima kasih",
    "mks": "terima kasih", "trmksh": "terima kasih", "ttd": "tanda tangan", "no": "nomor",
    "nmr": "nomor", "hp": "telepon", "tlp": "telepon", "telp": "telepon", "rt": "rt",
    "rw": "rw", "ato": "atau", "atw": "atau", "or": "atau", "n": "dan", "dn": "dan",
    "sbb": "sebagai berikut", "bbrp": "beberapa", "brp2": "beberapa", "tgl": "tanggal",
    "sblmnya": "sebelumnya", "gara2": "gara gara", "smua": "semua", "smw": "semua",
    "mw": "mau", "mo": "mau", "pengen": "ingin", "pgn": "ingin", "pengin": "ingin",
    "ngurus": "mengurus", "ngurusin": "mengurus", "nyampe": "sampai", "kasi": "kasih",
    "ksh": "kasih", "liat": "lihat", "ngeliat": "melihat", "nunggu": "menunggu",
    "nungguin": "menunggu", "dtg": "datang", "dateng": "datang", "pergi": "pergi",
    "rmh": "rumah", "rmah": "rumah", "sklh": "sekolah", "sekolahan": "sekolah",
    "anak2": "anak anak", "warga2": "warga", "rusak2": "rusak", "lobang": "lubang",
    "bolong": "lubang", "bolongan": "lubang", "brlubang": "berlubang", "pdhl": "padahal",
    "pdhal": "padahal", "biar": "agar", "gitu": "begitu", "gini": "begini",
    "aplg": "apalagi", "ap": "apa", "ap2": "apa apa", "kmrn": "kemarin", "kmaren": "kemarin",
    "kemaren": "kemarin", "bsk": "besok", "ntr": "nanti", "nnti": "nanti", "tiap2": "tiap",
    "brkali2": "berkali kali", "sering2": "sering", "ny": "nya",
    # Service names people shorten.
    "pju": "lampu jalan umum", "rs": "rumah sakit", "rsu": "rumah sakit umum",
    "pkm": "puskesmas", "dukcapil": "disdukcapil", "capil": "disdukcapil",
    "ektp": "ktp", "e-ktp": "ktp", "ktpel": "ktp", "kk": "kartu keluarga",
    "imb": "imb", "pdam": "pdam", "pln": "pln", "satpolpp": "satpol pp",
    "damkar": "pemadam kebakaran", "sekda": "sekretaris daerah",
}

# Words from colloquial Jakarta speech and chat that are not abbreviations.
SLANG: dict[str, str] = {
    "gede": "besar", "gedhe": "besar", "ancur": "hancur", "parah": "parah",
    "mampet": "tersumbat", "mampat": "tersumbat", "macet": "macet", "nyumbat": "tersumbat",
    "bau": "bau", "bauu": "bau", "ngebul": "berasap", "nyala": "menyala", "mati": "mati",
    "byarpet": "padam", "byar": "padam", "kelar": "selesai", "beres": "selesai",
    "nyolong": "mencuri", "maling": "pencuri", "ngebut": "kencang", "pungli": "pungutan liar",
    "duit": "uang", "doi": "dia", "bokap": "ayah", "nyokap": "ibu", "bocah": "anak",
    "bocil": "anak", "ortu": "orang tua", "cewek": "perempuan", "cowok": "laki laki",
    "ngasih": "memberi", "dikasih": "diberi", "nyuruh": "menyuruh", "bikin": "membuat",
    "dibikin": "dibuat", "benerin": "perbaiki", "dibenerin": "diperbaiki",
    "dibenahi": "diperbaiki", "nambal": "menambal", "nembak": "menembak", "ribet": "rumit",
    "lelet": "lambat", "lemot": "lambat", "males": "malas", "cuek": "abai", "nyampah": "sampah",
    "numpuk": "menumpuk", "ditumpuk": "ditumpuk", "berserakan": "berserakan",
    "ngecor": "mengecor", "nyetrum": "tersetrum", "kesetrum": "tersetrum",
    "kebanjiran": "banjir", "kecebur": "tercebur", "kejeblos": "terperosok",
    "nyungsep": "terjatuh", "jatoh": "jatuh", "kepleset": "terpeleset", "ngamuk": "mengamuk",
    "nongkrong": "berkumpul", "mabok": "mabuk", "mabuk2an": "mabuk", "ciu": "miras",
    "oplosan": "miras", "nyabu": "narkoba", "sabu2": "sabu", "ngutang": "berutang",
    "minjem": "pinjam", "pinjol": "pinjaman online", "ngemis": "mengemis", "pengamen": "pengamen",
    "ngamen": "mengamen", "duluan": "dahulu", "doang": "saja", "cuman": "hanya", "cuma": "hanya",
    "nyampah2": "sampah", "sampahnya": "sampah",
}

# Javanese (ngoko and krama) everyday words.
JAVANESE: dict[str, str] = {
    "ora": "tidak", "ra": "tidak", "mboten": "tidak", "boten": "tidak", "ndak": "tidak",
    "dalan": "jalan", "ratan": "jalan", "margi": "jalan", "rusak": "rusak", "bubrah": "rusak",
    "banyu": "air", "toya": "air", "omah": "rumah", "griya": "rumah", "kali": "kali",
    "kalen": "selokan", "got": "selokan", "wong": "orang", "tiyang": "orang", "uwong": "orang",
    "akeh": "banyak", "kathah": "banyak", "sithik": "sedikit", "sitik": "sedikit",
    "wis": "sudah", "uwis": "sudah", "sampun": "sudah", "durung": "belum", "dereng": "belum",
    "opo": "apa", "nopo": "apa", "menapa": "apa", "piye": "bagaimana", "pripun": "bagaimana",
    "kepiye": "bagaimana", "ngopo": "mengapa", "kenopo": "mengapa", "kapan": "kapan",
    "didandani": "diperbaiki", "dandani": "perbaiki", "ndandani": "memperbaiki",
    "kowe": "kamu", "sampeyan": "anda", "panjenengan": "anda", "aku": "saya", "kulo": "saya",
    "kula": "saya", "dalem": "dalam", "lan": "dan", "karo": "dengan", "kaliyan": "dengan",
    "neng": "di", "ning": "di", "ing": "di", "teng": "di", "saka": "dari", "seko": "dari",
    "soko": "dari", "saking": "dari", "gedhe": "besar", "ageng": "besar", "cilik": "kecil",
    "alit": "kecil", "suwe": "lama", "dangu": "lama", "nganti": "sampai", "ngantos": "sampai",
    "tulung": "tolong", "nyuwun": "mohon", "mbok": "tolong", "iki": "ini", "niki": "ini",
    "kuwi": "itu", "niku": "itu", "kae": "itu", "sing": "yang", "ingkang": "yang",
    "ana": "ada", "onten": "ada", "wonten": "ada", "mung": "hanya", "namung": "hanya",
    "saiki": "sekarang", "sakniki": "sekarang", "wingi": "kemarin", "sesuk": "besok",
    "mbenjing": "besok", "bengi": "malam", "dalu": "malam", "esuk": "pagi", "enjing": "pagi",
    "sekolahe": "sekolah", "dalane": "jalan", "banyune": "air", "uwuh": "sampah",
    "sampahe": "sampah", "lampune": "lampu", "mati": "mati", "peteng": "gelap",
    "banjir": "banjir", "longsor": "longsor", "kobong": "terbakar", "kobongan": "kebakaran",
    "geni": "api", "rego": "harga", "regine": "harga", "larang": "mahal", "murah": "murah",
    "duwit": "uang", "arto": "uang", "dhuwit": "uang", "bocor": "bocor", "mambu": "bau",
    "ambune": "bau", "lara": "sakit", "loro": "sakit", "gerah": "sakit", "dokter": "dokter",
    "bocah": "anak", "lare": "anak", "guru": "guru", "pasar": "pasar",
    "dodolan": "berjualan", "bakul": "pedagang", "tuku": "beli", "tumbas": "beli",
    "adol": "jual", "sawah": "sawah", "tandur": "tanam", "rabuk": "pupuk", "pari": "padi",
    "wit": "pohon", "uwit": "pohon", "ambruk": "roboh", "rubuh": "roboh",
    "nggon": "tempat", "panggonan": "tempat", "mlebu": "masuk", "metu": "keluar",
    "ngurusi": "mengurus", "ngurus": "mengurus", "ditanggapi": "ditanggapi",
    "kudu": "harus", "kedah": "harus", "iso": "bisa", "isa": "bisa", "saged": "bisa",
    "apik": "bagus", "sae": "bagus", "elek": "jelek", "awon": "jelek", "banget": "sekali",
    "tenan": "sungguh", "temen": "sungguh",
}

# Sundanese everyday words (Bandung, West Java).
SUNDANESE: dict[str, str] = {
    "teu": "tidak", "henteu": "tidak", "moal": "tidak akan", "acan": "belum",
    "tacan": "belum", "atos": "sudah", "tos": "sudah", "parantos": "sudah", "geus": "sudah",
    "jalan": "jalan", "jalanna": "jalan", "cai": "air", "caina": "air", "imah": "rumah",
    "jalma": "orang", "urang": "kita", "abdi": "saya", "kuring": "saya",
    "aing": "saya", "anjeun": "anda", "maneh": "kamu", "seueur": "banyak", "loba": "banyak",
    "saeutik": "sedikit", "sakedik": "sedikit", "naon": "apa", "kumaha": "bagaimana",
    "iraha": "kapan", "sabaraha": "berapa", "dimana": "dimana", "dimanakah": "dimana",
    "kunaon": "kenapa", "naha": "kenapa", "sareng": "dengan", "jeung": "dan", "di": "di",
    "ti": "dari", "ka": "ke", "ieu": "ini", "eta": "itu", "nu": "yang", "aya": "ada",
    "teu aya": "tidak ada", "ayeuna": "sekarang", "kamari": "kemarin", "isukan": "besok",
    "wengi": "malam", "peuting": "malam", "isuk": "pagi", "ageung": "besar", "gede": "besar",
    "leutik": "kecil", "alit": "kecil", "lami": "lama", "lila": "lama", "dugi": "sampai",
    "nepi": "sampai", "punten": "permisi", "mangga": "silakan", "hatur nuhun": "terima kasih",
    "nuhun": "terima kasih", "tulung": "tolong", "bade": "akan", "rek": "akan",
    "rusak": "rusak", "ruksak": "rusak", "butut": "rusak", "runtah": "sampah",
    "runtahna": "sampah", "solokan": "selokan", "walungan": "sungai", "susukan": "sungai",
    "hurung": "menyala", "pareum": "padam", "poek": "gelap", "caah": "banjir",
    "urug": "longsor", "kahuruan": "kebakaran", "seuneu": "api", "harga": "harga",
    "mahal": "mahal", "artos": "uang", "duit": "uang", "gering": "sakit", "udur": "sakit",
    "budak": "anak", "murangkalih": "anak", "sakola": "sekolah", "sakolana": "sekolah",
    "sawah": "sawah", "tangkal": "pohon", "tangkalna": "pohon", "rubuh": "roboh",
    "ragrag": "jatuh", "bau": "bau", "hangseur": "bau", "kudu": "harus", "tiasa": "bisa",
    "bisa": "bisa", "sae": "bagus", "alus": "bagus", "goreng": "jelek", "pisan": "sekali",
    "teuing": "sekali", "euy": "", "mah": "", "teh": "", "atuh": "", "tea": "",
}

# Frequent misspellings (typed fast on a phone keyboard).
TYPOS: dict[str, str] = {
    "jaln": "jalan", "jalam": "jalan", "jlan": "jalan", "rsak": "rusak", "ruska": "rusak",
    "rusk": "rusak", "sampha": "sampah", "smpah": "sampah", "sampa": "sampah",
    "smapah": "sampah", "lampuu": "lampu", "lmpu": "lampu", "listirk": "listrik",
    "lisrik": "listrik", "listrk": "listrik", "puskemas": "puskesmas", "puskesmaas": "puskesmas",
    "pukesmas": "puskesmas", "pusksmas": "puskesmas", "banjr": "banjir", "bajir": "banjir",
    "drainse": "drainase", "drainasi": "drainase", "dreinase": "drainase", "selokn": "selokan",
    "sekolh": "sekolah", "skolah": "sekolah", "pelayann": "pelayanan", "pelayana": "pelayanan",
    "pelyanan": "pelayanan", "pengaduann": "pengaduan", "pengadun": "pengaduan",
    "kartu keluarag": "kartu keluarga", "ktpp": "ktp", "akte": "akta", "sertipikat": "sertifikat",
    "sertifkat": "sertifikat", "sertivikat": "sertifikat", "pajek": "pajak", "pajka": "pajak",
    "tagihn": "tagihan", "tagiahn": "tagihan", "perbaiik": "perbaiki", "perbaikan": "perbaikan",
    "diperbaikin": "diperbaiki", "diperbaiiki": "diperbaiki", "segra": "segera",
    "segerra": "segera", "tolonk": "tolong", "tolng": "tolong", "mohin": "mohon",
    "mhon": "mohon", "terimakasih": "terima kasih", "trimakasih": "terima kasih",
    "bantuan": "bantuan", "bantuann": "bantuan", "bansosnya": "bansos", "bpjsnya": "bpjs",
    "ktpnya": "ktp", "kknya": "kartu keluarga", "pdamnya": "pdam", "plnnya": "pln",
    "jembtan": "jembatan", "jembatn": "jembatan", "trotoir": "trotoar", "trotoarnya": "trotoar",
    "parkirr": "parkir", "parikr": "parkir", "angkutn": "angkutan", "kebakarn": "kebakaran",
    "kebakran": "kebakaran", "longsr": "longsor", "gempaa": "gempa", "narkob": "narkoba",
    "pencurain": "pencurian", "pencurin": "pencurian", "sinyl": "sinyal", "signal": "sinyal",
    "sinyalnya": "sinyal", "internetnya": "internet", "aplikasinya": "aplikasi",
}


def table() -> dict[str, str]:
    """Every replacement, later tables winning: a typo fix beats a regional reading."""
    merged: dict[str, str] = {}
    for part in (JAVANESE, SUNDANESE, SLANG, ABBREVIATIONS, TYPOS):
        merged.update(part)
    return {k: v for k, v in merged.items() if " " not in k and k != v}


# Multi-word expressions replaced before single words.
PHRASES: dict[str, str] = {
    "teu aya": "tidak ada", "teu acan": "belum", "hatur nuhun": "terima kasih",
    "matur nuwun": "terima kasih", "matur suwun": "terima kasih", "e ktp": "ktp",
    "ktp el": "ktp", "kartu keluarag": "kartu keluarga", "mati lampu": "listrik padam",
    "ga ada": "tidak ada", "gak ada": "tidak ada", "nggak ada": "tidak ada",
    "ora ono": "tidak ada", "ora ana": "tidak ada", "mboten wonten": "tidak ada",
    "terima kasih": "terima kasih",
}

"""Every message kind has its e-mail, SMS and WhatsApp wording in Bahasa Indonesia and English,
shipped in the package; each renders with the catalog's long sample, with the optional values
missing (notify fills a field the event did not carry with None) and for a merged duplicate's
reporter; citizens' messages carry the tracking number and the status link, staff messages the
console link; an SMS fits one GSM-7 segment before `fit_sms` would cut, even with the longest
dates; a city's own templates win for its jurisdiction; a missing language falls back to
Indonesian."""

import re
from importlib.resources import files

import pytest

from notify.domain.catalog import KINDS
from notify.domain.channel_texts import gsm7, sms_length
from notify.domain.templates import Templates

pytestmark = pytest.mark.unit
T = Templates()
CHANNELS = ("email", "sms", "whatsapp")
LANGS = ("id", "en")
CASES = [(k, ch, lang) for k in KINDS for ch in CHANNELS for lang in LANGS]
CITIZEN_KINDS = [k for k, kind in KINDS.items() if kind.audience == "citizen"]
STAFF_KINDS = [k for k, kind in KINDS.items() if kind.audience != "citizen"]
FOLLOWED = "123456789099"
# The longest local times and dates notify writes (local_time.py): day and month names in full.
LONGEST_DUE = {"id": "Selasa, 30 September 2026 23.59 WITA", "en": "Wednesday, 30 September 2026 23:59 WITA"}
LONGEST_DATE = {"id": "Selasa, 30 September 2026", "en": "Wednesday, 30 September 2026"}


def raw(kind: str, channel: str, lang: str, context: dict) -> str:
    """The template's own text, before `Templates.render` tidies it (and `fit_sms` cuts it)."""
    return T._env.select_template(T.candidates(kind, channel, lang, None)).render(**context)


def sample(kind: str) -> dict:
    return dict(KINDS[kind].sample)


def sparse(kind: str) -> dict:
    """What notify renders when the event carried none of the kind's own fields (compose.py
    fills each with None) and the reporter is anonymous; a digest still has its day and items."""
    context = {**sample(kind), "name": None}
    context.update({f: None for f in KINDS[kind].fields if f not in ("items", "date")})
    return context


def longest(kind: str, lang: str) -> dict:
    context = sample(kind)
    if "due_at_local" in context:
        context["due_at_local"] = LONGEST_DUE[lang]
    if kind == "operator_digest":
        context["date"] = LONGEST_DATE[lang]
        context["items"] = [{**i, "due_at_local": LONGEST_DUE[lang]} for i in context["items"]]
    return context


def text_of(message) -> str:
    return f"{message.subject}\n{message.body}"


def test_every_kind_has_all_six_files_in_the_package():
    root = files("notify") / "templates"
    missing = [f"{ch}/{k}.{lang}.j2" for k, ch, lang in CASES if not (root / ch / f"{k}.{lang}.j2").is_file()]
    assert not missing
    assert not list(files("notify").joinpath("templates").glob("complaint_*.txt.j2")), \
        "the old e-mail templates are gone"


@pytest.mark.parametrize("kind,channel,lang", CASES)
def test_every_template_renders_full_sparse_and_for_a_follower(kind, channel, lang):
    variants = {"sample": sample(kind), "sparse": sparse(kind)}
    if KINDS[kind].audience == "citizen":
        variants["follower"] = {**sample(kind), "follower_of": FOLLOWED}
        variants["sparse follower"] = {**sparse(kind), "follower_of": FOLLOWED}
    for label, context in variants.items():
        message = T.render(kind, channel, lang, context)
        text = text_of(message)
        assert message.body.strip(), label
        assert "None" not in text and "{{" not in text and "{%" not in text, (label, text)
        assert context["tracking_number"] in text, label
        assert context["status_url"] in text, (label, "citizens get their status page, staff the console")
        if channel == "email":
            assert message.subject.startswith("[LAPOR] ") and len(message.subject) > len("[LAPOR] ")
            assert "\n" not in message.subject
        if channel == "whatsapp":
            assert len(message.body) <= 600, (label, len(message.body))


@pytest.mark.parametrize("kind,lang", [(k, lang) for k in CITIZEN_KINDS for lang in LANGS])
def test_citizen_emails_greet_politely_sign_off_and_tell_a_follower_why(kind, lang):
    named = T.render(kind, "email", lang, sample(kind)).body
    anonymous = T.render(kind, "email", lang, sparse(kind)).body
    if lang == "id":
        assert named.startswith("Yth. Siti Rahayu,") and anonymous.startswith("Yth. Bapak/Ibu Pelapor,")
        assert named.rstrip().endswith("Salam,\nTim Pengelola Pengaduan")
    else:
        assert named.startswith("Dear Siti Rahayu,") and anonymous.startswith("Dear citizen,")
    assert FOLLOWED not in named
    followed = T.render(kind, "email", lang, {**sample(kind), "follower_of": FOLLOWED}).body
    assert FOLLOWED in followed, "a duplicate's reporter is told which report of theirs this is"
    assert re.search(r"digabungkan|merged", followed)


@pytest.mark.parametrize("kind,channel", [(k, ch) for k in KINDS for ch in CHANNELS])
def test_english_and_indonesian_differ(kind, channel):
    assert T.render(kind, channel, "id", sample(kind)) != T.render(kind, channel, "en", sample(kind))


@pytest.mark.parametrize("kind,lang", [(k, lang) for k in KINDS for lang in LANGS])
def test_every_sms_fits_one_gsm7_segment_before_any_cut(kind, lang):
    variants = [sample(kind), sparse(kind), longest(kind, lang)]
    if KINDS[kind].audience == "citizen":
        variants.append({**sample(kind), "follower_of": FOLLOWED})
    if kind == "rating_requested":
        variants.append({**sample(kind), "rating_url": "https://lapor.bandung.go.id/nilai/123456789012"})
    for context in variants:
        text = re.sub(r"\s+", " ", raw(kind, "sms", lang, context)).strip()
        assert gsm7(text) == text, f"only GSM-7 characters: {text}"
        assert sms_length(text) <= 160, (sms_length(text), text)
        assert T.render(kind, "sms", lang, context).body == text, "fit_sms leaves it whole"
        assert context["status_url"] in text
        for free_text in ("note", "evidence", "title"):
            if context.get(free_text):
                assert context[free_text] not in text, "no free text in an SMS: the link leads to it"


def test_notes_are_the_point_on_whatsapp_and_in_email():
    for kind in ("complaint_followed_up", "complaint_postponed", "complaint_resolved", "complaint_archived"):
        note = KINDS[kind].sample["note"]
        for lang in LANGS:
            assert note in T.render(kind, "whatsapp", lang, sample(kind)).body
            assert note in T.render(kind, "email", lang, sample(kind)).body
    evidence = KINDS["complaint_resolved"].sample["evidence"]
    assert all(evidence in T.render("complaint_resolved", ch, lang, sample("complaint_resolved")).body
               for ch in ("email", "whatsapp") for lang in LANGS)


REASONS = ("unclear", "too_general", "not_public_service", "spam", "duplicate")


@pytest.mark.parametrize("kind,channel,lang", [("complaint_archived", ch, lang) for ch in CHANNELS for lang in LANGS])
def test_archive_reasons_are_worded_not_coded(kind, channel, lang):
    texts = [text_of(T.render(kind, channel, lang, {**sample(kind), "reason": r, "note": None})) for r in REASONS]
    assert len(set(texts)) == len(REASONS), "each reason has its own words"
    assert not any(code in text for code in REASONS if "_" in code for text in texts)
    if channel == "sms" and lang == "id":
        assert "bukan terkait pelayanan publik" in texts[REASONS.index("not_public_service")]


def test_closing_says_whether_it_closed_itself_or_was_confirmed():
    for channel in CHANNELS:
        for lang in LANGS:
            by_itself = T.render("complaint_closed", channel, lang, {**sample("complaint_closed"), "auto": True})
            confirmed = T.render("complaint_closed", channel, lang, {**sample("complaint_closed"), "auto": False})
            assert by_itself != confirmed
            assert re.search(r"otomatis|automatically", by_itself.body)
            assert not re.search(r"otomatis|automatically", confirmed.body)


def test_auto_close_names_the_deadline_and_the_way_out():
    due = KINDS["auto_close_coming"].sample["due_at_local"]
    for channel in CHANNELS:
        for lang, words in (("id", r"(?i)tanggap.*konfirmasi"), ("en", r"(?i)reply or confirm")):
            body = T.render("auto_close_coming", channel, lang, sample("auto_close_coming")).body
            assert due in body and re.search(words, body), (channel, lang, body)


def test_rating_invites_one_to_five_at_the_rating_page():
    context = {**sample("rating_requested"), "rating_url": "https://lapor.bandung.go.id/nilai/123456789012"}
    for channel in CHANNELS:
        for lang in LANGS:
            body = T.render("rating_requested", channel, lang, context).body
            assert context["rating_url"] in body and context["status_url"] in body
            assert re.search(r"1.{1,20}5", body)


def test_clock_and_level_names_are_for_people():
    for channel in CHANNELS:
        warning = text_of(T.render("opd_deadline_warning", channel, "id", sample("opd_deadline_warning")))
        assert "tindak lanjut pertama" in warning and "first_response" not in warning
        warning = text_of(T.render("opd_deadline_warning", channel, "en", sample("opd_deadline_warning")))
        assert "first response" in warning and "first_response" not in warning
        escalated = T.render("operator_sla_escalated", channel, "id", sample("operator_sla_escalated"))
        assert "Inspektorat" in text_of(escalated)
    assert "penyelesaian" in T.render("operator_sla_escalated", "email", "id", sample("operator_sla_escalated")).body


def test_the_digest_lists_each_item_and_the_sms_counts_them():
    items = KINDS["operator_digest"].sample["items"]
    for channel in ("email", "whatsapp"):
        for lang, level, clock in (("id", "kepala OPD", "penyelesaian"), ("en", "head of the OPD", "resolution")):
            body = T.render("operator_digest", channel, lang, sample("operator_digest")).body
            for item in items:
                assert item["tracking_number"] in body and item["opd_name"] in body
                assert item["due_at_local"] in body
            escalation = next(line for line in body.splitlines() if items[1]["tracking_number"] in line)
            assert level in escalation and clock in escalation
    for lang in LANGS:
        body = T.render("operator_digest", "sms", lang, sample("operator_digest")).body
        assert re.findall(r"\b1\b", body) == ["1", "1"], body
        assert items[0]["tracking_number"] not in body.replace(sample("operator_digest")["status_url"], "")
    empty = T.render("operator_digest", "email", "en", {**sample("operator_digest"), "items": []})
    assert "0 alerts" in empty.subject and "- none" in empty.body


def test_a_citys_override_wins_for_its_jurisdiction_and_a_missing_language_falls_back(tmp_path):
    own = tmp_path / "jurisdictions" / "kota-x" / "sms"
    own.mkdir(parents=True)
    (own / "complaint_received.id.j2").write_text("KOTA X: nomor {{ tracking_number }}\n")
    city = Templates(override_dir=tmp_path)
    context = sample("complaint_received")
    assert city.render("complaint_received", "sms", "id", context, "kota-x").body == "KOTA X: nomor 123456789012"
    assert city.render("complaint_received", "sms", "id", context, "kota-y").body.startswith("LAPOR: ")
    assert city.render("complaint_received", "sms", "id", context).body.startswith("LAPOR: ")
    assert city.render("complaint_received", "sms", "en", context, "kota-x").body.startswith(
        "LAPOR: Your complaint"), "the language comes first: the shipped English wording"
    (own / "city_notice.id.j2").write_text("Pemberitahuan {{ tracking_number }}\n")
    assert city.render("city_notice", "sms", "en", context, "kota-x").body == \
        "Pemberitahuan 123456789012", "no English anywhere: Indonesian"
    assert city.render("city_notice", "sms", "xx", context, "kota-x").body == "Pemberitahuan 123456789012"
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms" / "complaint_closed.en.j2").write_text("Closed {{ tracking_number }}.\n")
    assert city.render("complaint_closed", "sms", "en", sample("complaint_closed")).body == "Closed 123456789012."
    assert T.render("complaint_closed", "sms", "en", sample("complaint_closed")).body != "Closed 123456789012."

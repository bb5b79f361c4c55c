"""Every message kind has its e-mail, SMS and WhatsApp wording in Bahasa Indonesia and English;
each renders with long realistic values and with the optional ones missing; citizens' messages
carry the tracking number and the status link; an SMS fits one GSM-7 segment before any cut;
a city's own templates win for its jurisdiction; a missing language falls back to Indonesian."""

import re

import pytest

from notify.domain.catalog import KINDS
from notify.domain.channel_texts import gsm7, sms_length
from notify.domain.templates import Templates

pytestmark = pytest.mark.unit
T = Templates()
CASES = [(k, ch, lang) for k in KINDS for ch in ("email", "sms", "whatsapp") for lang in ("id", "en")]
OPTIONAL = ("name", "follower_of", "note", "opd_name", "responsible", "level", "due_at_local",
            "title", "category", "opd_id", "hours_left")


def raw(kind: str, channel: str, lang: str, context: dict) -> str:
    return T._env.select_template(T.candidates(kind, channel, lang, None)).render(**context)


def sample(kind: str) -> dict:
    context = dict(KINDS[kind].sample)
    if kind in ("opd_complaint_assigned", "opd_deadline_warning") or "due_at_local" in context:
        context.setdefault("due_at_local", None)
    return context


@pytest.mark.parametrize("kind,channel,lang", CASES)
def test_every_template_renders_with_long_and_missing_values(kind, channel, lang):
    context = sample(kind)
    full = T.render(kind, channel, lang, context)
    sparse = T.render(kind, channel, lang, {**context, **{k: None for k in OPTIONAL if k in context}})
    for message in (full, sparse):
        assert message.body.strip()
        if channel == "email":
            assert message.subject.startswith("[LAPOR] ") and "\n" not in message.subject
    if KINDS[kind].audience == "citizen" and kind != "operator_digest":
        text = full.subject + full.body
        assert context["tracking_number"] in text
        target = context.get("rating_url") if kind == "rating_requested" else context["status_url"]
        assert target in text
        followed = T.render(kind, channel, lang, {**context, "follower_of": "123456789000"})
        if channel == "email" and kind != "complaint_received":
            assert "123456789000" in followed.body, "a duplicate's reporter is told why they hear this"
    if channel == "whatsapp":
        assert len(full.body) <= 1000


@pytest.mark.parametrize("kind,lang", [(k, lang) for k in KINDS for lang in ("id", "en")])
def test_every_sms_fits_one_gsm7_segment_before_any_cut(kind, lang):
    text = re.sub(r"\s+", " ", raw(kind, "sms", lang, sample(kind))).strip()
    assert gsm7(text) == text, "only GSM-7 characters"
    assert sms_length(text) <= 160, (len(text), text)
    assert not text.endswith("...")


def test_the_two_languages_differ_and_indonesian_is_polite():
    for kind in KINDS:
        context = sample(kind)
        assert T.render(kind, "email", "id", context).subject != T.render(kind, "email", "en", context).subject
    assert T.render("complaint_assigned", "email", "id", sample("complaint_assigned")).body.startswith("Yth. ")
    anonymous = T.render("complaint_assigned", "email", "id", {**sample("complaint_assigned"), "name": None})
    assert anonymous.body.startswith("Yth. Bapak/Ibu Pelapor")


def test_a_citys_override_wins_for_its_jurisdiction_and_a_missing_language_falls_back(tmp_path):
    own = tmp_path / "jurisdictions" / "kota-x" / "sms"
    own.mkdir(parents=True)
    (own / "complaint_received.id.j2").write_text("KOTA X: nomor {{ tracking_number }}\n")
    city = Templates(override_dir=tmp_path)
    context = sample("complaint_received")
    assert city.render("complaint_received", "sms", "id", context, "kota-x").body == "KOTA X: nomor 123456789012"
    assert city.render("complaint_received", "sms", "en", context, "kota-x").body.startswith(
        "LAPOR: Your complaint"), "the language comes first: the shipped English wording"
    (own / "city_notice.id.j2").write_text("Pemberitahuan {{ tracking_number }}\n")
    assert city.render("city_notice", "sms", "en", context, "kota-x").body == \
        "Pemberitahuan 123456789012", "no English anywhere: Indonesian"
    assert city.render("complaint_received", "sms", "id", context, "kota-y").body.startswith("LAPOR: ")
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms" / "complaint_closed.en.j2").write_text("Closed {{ tracking_number }}.\n")
    assert city.render("complaint_closed", "sms", "en", sample("complaint_closed")).body == "Closed 123456789012."

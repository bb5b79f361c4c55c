"""Which form each lifecycle action needs, and how a submitted form becomes intake's action
body. The actions a person may take are intake's `allowed_actions` for them: the console only
draws those, in a useful order, and never decides itself what is allowed.

OPD staff ask the citizen for more information with a follow-up (`respond`): in the lifecycle
the citizen answers a follow-up with `citizen_reply`, and the OPD's clock waits on the answer,
so "ask for information" is a follow-up whose note is the question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from contracts.events import ArchiveReason

ARCHIVE_REASONS: tuple[str, ...] = get_args(ArchiveReason)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str              # text, textarea, opd, archive_reason, tracking_number
    required: bool = True


@dataclass(frozen=True)
class ActionForm:
    key: str               # the form's name (and its label's key)
    action: str            # intake's action
    fields: tuple[Field, ...]
    danger: bool = False


_NOTE = Field("note", "textarea", required=False)
FORMS: tuple[ActionForm, ...] = (
    ActionForm("accept", "accept", (_NOTE,)),
    ActionForm("respond", "respond", (Field("note", "textarea"),)),
    ActionForm("ask_info", "respond", (Field("note", "textarea"),)),
    ActionForm("resolve", "resolve", (Field("evidence", "textarea"), _NOTE)),
    ActionForm("reject_not_authority", "reject_not_authority",
               (Field("reason", "textarea"), Field("suggested_opd_id", "opd", required=False)),
               danger=True),
    ActionForm("assign", "assign", (Field("opd_id", "opd"), _NOTE)),
    ActionForm("reassign", "reassign", (Field("opd_id", "opd"), _NOTE)),
    ActionForm("postpone", "postpone", (Field("note", "textarea"),)),
    ActionForm("resume", "resume", (_NOTE,)),
    ActionForm("merge", "merge", (Field("into", "tracking_number"), _NOTE), danger=True),
    ActionForm("mark_not_ours", "mark_not_ours", (Field("responsible", "text"), _NOTE), danger=True),
    ActionForm("archive", "archive", (Field("reason", "archive_reason"), _NOTE), danger=True),
)
BY_KEY = {form.key: form for form in FORMS}


def forms_for(allowed_actions: list[str]) -> list[ActionForm]:
    """The forms for what intake says this person may do now, in the console's order."""
    allowed = set(allowed_actions)
    return [form for form in FORMS if form.action in allowed]


class BadForm(ValueError):
    """A required field is empty, or the form is not one the console knows."""


def body_of(key: str, form: dict[str, str], opd_names: dict[str, str]) -> dict:
    """intake's action body from a submitted form: empty optional fields are left out, an
    assignment carries the OPD's name as the jurisdiction configures it."""
    spec = BY_KEY.get(key)
    if spec is None:
        raise BadForm(f"unknown action form {key!r}")
    body: dict = {"action": spec.action}
    for field in spec.fields:
        value = (form.get(field.name) or "").strip()
        if not value:
            if field.required:
                raise BadForm(field.name)
            continue
        body[field.name] = value
    if spec.action in ("assign", "reassign") and body["opd_id"] in opd_names:
        body["opd_name"] = opd_names[body["opd_id"]]
    return body

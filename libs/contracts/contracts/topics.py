"""Every Kafka topic the platform uses, with its partition count, declared once.

Each topic has one producing service (its owner). Test runs and parallel environments give a
prefix so they never see each other's records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A topic as declared by its owner; `name(prefix)` is what goes on the wire."""

    base: str
    partitions: int
    owner: str
    description: str

    def name(self, prefix: str = "") -> str:
        return f"{prefix}{self.base}"


INTAKE_EVENTS = Topic(
    "complaints.intake.events", 6, "intake",
    "Complaint lifecycle facts recorded by intake (no personal data).",
)
INTAKE_CONTACTS = Topic(
    "complaints.intake.contacts", 6, "intake",
    "Citizen contact details for notification; personal data, read by notify only.",
)
ROUTING_EVENTS = Topic(
    "complaints.routing.events", 6, "routing",
    "Routing decisions: assignments to an OPD and hand-offs to human triage.",
)
SLA_EVENTS = Topic(
    "complaints.sla.events", 6, "sla",
    "Deadline clocks started, paused, resumed and stopped, and auto-closes due.",
)
SLA_ALERTS = Topic(
    "complaints.sla.alerts", 6, "sla",
    "What operators watch: warnings before a breach, breaches and escalations (no personal data).",
)
NOTIFY_EVENTS = Topic(
    "complaints.notify.events", 6, "notify",
    "Delivery outcomes of citizen notifications (no addresses).",
)
NOTIFY_DEAD_LETTERS = Topic(
    "complaints.notify.deliveries.dlq", 3, "notify",
    "Messages notify gave up for good, with the reason and the channels tried (no addresses): "
    "what operators review and replay.",
)

CHANNELS_INBOUND = Topic(
    "complaints.channels.inbound", 6, "channels",
    "What citizens send through SMS, WhatsApp and social-media adapters outside the platform "
    "(ChannelMessageReceived.v1), keyed by the sender's address so one sender's messages keep "
    "their order; personal data: writable by adapters, read by intake only.",
)
CHANNELS_OUTBOUND = Topic(
    "complaints.channels.outbound", 6, "notify",
    "Messages for adapters to deliver to citizens (SendChannelMessage.v1), with the recipient's "
    "address in clear: readable by channel adapters only.",
)

OPD_ACTIONS = Topic(
    "complaints.opd.actions", 6, "opd-systems",
    "What OPD systems outside the platform ask intake to do (TakeOpdAction.v1: accept, respond, "
    "reject_not_authority, resolve), each with the OPD system's signed service-account token; "
    "writable by OPD systems, read by intake only. Keyed by complaint id.",
)
OPD_FEED_PARTITIONS = 3


def opd_topic(jurisdiction: str, opd_id: str) -> Topic:
    """One OPD's own feed (`complaints.opd.<jurisdiction>.<opd_id>`): every fact about the
    complaints assigned to it that it may see, privacy-filtered by routing, its owner. Per
    jurisdiction, because OPD ids (dinas-pupr, dlh, ...) repeat from city to city."""
    for part in (jurisdiction, opd_id):
        if not part or not all(c.isascii() and (c.isalnum() or c in "-_") for c in part):
            raise ValueError(f"not usable in a topic name: {part!r}")
    return Topic(f"complaints.opd.{jurisdiction}.{opd_id}", OPD_FEED_PARTITIONS, "routing",
                 f"Complaints assigned to {opd_id} of {jurisdiction}, as that OPD may see them.")


ALL_TOPICS: tuple[Topic, ...] = (
    INTAKE_EVENTS, INTAKE_CONTACTS, ROUTING_EVENTS, SLA_EVENTS, SLA_ALERTS, NOTIFY_EVENTS,
    NOTIFY_DEAD_LETTERS,
    CHANNELS_INBOUND, CHANNELS_OUTBOUND, OPD_ACTIONS,
)


def dead_letter_topic(service: str) -> Topic:
    """Each consuming service owns one dead-letter topic for what it could not process."""
    return Topic(f"complaints.{service}.dlq", 1, service,
                 f"Records {service} could not process, with the reason in headers.")

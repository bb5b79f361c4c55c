"""Addresses as notify shows them back (to the citizen, to operators): enough to recognise,
never enough to use."""

from __future__ import annotations


def mask(channel: str, address: str | None) -> str | None:
    if not address:
        return None
    if channel == "email":
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{address[:5]}****{address[-3:]}" if len(address) > 8 else "***"

"""With routing stopped, submissions are still accepted; once routing is back they all
complete: nothing lost, nothing sent twice."""

from __future__ import annotations

from devstack.stack import wait_until
from tests.e2e.journey import COMPLAINTS, mails_for, submit, view


def test_complaints_survive_a_routing_outage(platform, api, mail):
    platform.stop_service("routing")
    assert '"message": "service stopped"' in platform.log_tail("routing", 5), "graceful stop on SIGTERM"
    try:
        receipts = [submit(api, *COMPLAINTS[n % len(COMPLAINTS)]) for n in range(6)]
        assert all(view(api, r)["status"] == "submitted" for r in receipts)
    finally:
        platform.start_service("routing")
        platform.wait_service("routing")

    for receipt in receipts:
        wait_until(lambda: mails_for(mail, receipt), 90,
                   f"mail for {receipt['tracking_number']}")
    for receipt in receipts:  # the whole journey finished: notify's outcome reached intake
        wait_until(lambda: any(h["action"] == "citizen_notified" for h in view(api, receipt)["history"]),
                   30, "notification recorded")
        assert view(api, receipt)["status"] == "disposed"
        assert len(mails_for(mail, receipt)) == 1, "exactly one e-mail each"

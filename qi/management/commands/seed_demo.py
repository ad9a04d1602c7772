"""``manage.py seed_demo``: build the demo NHS trust (once) and print the demo logins.

The builder is ``qi.demo``; this command only reports. Running it again leaves the data alone
and prints the logins again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from qi.demo import DEMO_PASSWORD, DemoSeedError, SeedResult, seed_demo


class Command(BaseCommand):
    help = (
        "Build a demo NHS trust: departments, doctors on rotation, supervisors, QI leads and 60 projects "
        "with milestones, reviews, PDSA cycles and data. Safe to run twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = seed_demo()
        except DemoSeedError as exc:
            raise CommandError(str(exc)) from None
        self._report(result)

    def _report(self, result: SeedResult) -> None:
        counts = ", ".join(f"{number} {what}" for what, number in result.counts.items())
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(f"Seeded {result.organisation} ({result.organisation.code}): {counts}.")
            )
        else:
            self.stdout.write(f"{result.organisation} is already seeded ({counts}); nothing changed.")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (every demo user's password is {DEMO_PASSWORD}):")
        width = max(len(login.email) for login in result.logins)
        for login in result.logins:
            self.stdout.write(f"  {login.email:<{width}}  {login.who}")

"""``manage.py chart FILE.csv``: analyse a CSV of data points as a run chart or SPC chart, without a project.

The same parser as the import (``qi.csv_import``) and the same analysis as the API (``qi.charts``), so a
file charted here answers what the app will show once it is imported; nothing touches the database.
"""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qi import csv_import
from qi.charts import KIND_NAMES, KINDS, RULE_LENGTH_RANGE, ChartAnalysis, ChartError, analyse, format_date
from qi.errors import QIValidationError
from qi.measure_charts import parse_phase_starts


class Command(BaseCommand):
    help = (
        "Analyse a CSV file of data points (header date,value or date,numerator,denominator; dates YYYY-MM-DD "
        "or DD/MM/YYYY) as a run, XmR, P or C chart, and print the verdict, signals and points. Nothing is "
        "saved; no database is needed."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file, or - for standard input.")
        parser.add_argument(
            "--kind",
            choices=KINDS,
            help="run, xmr, p or c. Default: p for numerator/denominator data, xmr for values.",
        )
        parser.add_argument("--freeze", type=int, metavar="K", help="Freeze the baseline at the first K points.")
        parser.add_argument(
            "--phases", default="", metavar="DATES", help="Comma-separated dates (YYYY-MM-DD) where a phase starts."
        )
        parser.add_argument("--better", choices=("up", "down"), help="Which direction is better.")
        parser.add_argument(
            "--target",
            help="The target, in the unit of the values; for numerator/denominator data a percentage (90 means "
            "90%%), as the measure's target is in the app and the API.",
        )
        parser.add_argument("--run-length", type=int, default=7, help="SPC: points in a row that make a shift.")
        parser.add_argument("--trend-length", type=int, default=7, help="SPC: points in a row that make a trend.")
        parser.add_argument("--json", action="store_true", help="Print the whole analysis as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        parsed = self._parsed(options["file"])
        kind = options["kind"] or ("p" if parsed.fractions else "xmr")
        if options["freeze"] is not None and options["freeze"] < 2:
            raise CommandError("--freeze: give a number of points, 2 or more.")
        low, high = RULE_LENGTH_RANGE
        for name in ("run_length", "trend_length"):
            if not low <= options[name] <= high:
                raise CommandError(f"--{name.replace('_', '-')}: must be between {low} and {high} points.")
        observations = parsed.observations()
        try:
            analysis = analyse(
                observations,
                kind,
                better=options["better"],
                target=self._target(options["target"], parsed.fractions),
                freeze=options["freeze"],
                phase_starts=parse_phase_starts(options["phases"]),
                run_length=options["run_length"],
                trend_length=options["trend_length"],
            )
        except ChartError as exc:
            if exc.row is not None:
                row = exc.row
                raise CommandError(f"Line {parsed.lines[row]} ({observations[row].date}): {exc.message}.") from None
            raise CommandError(f"--{(exc.field or 'kind').replace('_', '-')}: {exc.message}.") from None
        if options["json"]:
            self.stdout.write(json.dumps(analysis.as_dict(), indent=2))
        else:
            self._report(analysis, percent=parsed.fractions)

    def _parsed(self, path: str) -> csv_import.ParsedFile:
        try:
            if path == "-":
                content = sys.stdin.buffer.read(csv_import.MAX_BYTES + 1)
            else:
                with open(path, "rb") as file:
                    content = file.read(csv_import.MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        try:
            return csv_import.parse_csv(content)
        except QIValidationError as exc:
            lines = [exc.message]
            if len(exc.field_errors) > 1:
                lines += [f"  {message}" for message in exc.field_errors.values()]
            raise CommandError("\n".join(lines)) from None

    def _target(self, text: str | None, fractions: bool) -> float | None:
        if text is None:
            return None
        try:
            target = float(Decimal(text.strip().removesuffix("%")))
        except InvalidOperation:
            raise CommandError(f"--target: {text} is not a number.") from None
        if not math.isfinite(target):
            raise CommandError(f"--target: {text} is not a number.")
        return target / 100 if fractions else target  # as measure_chart() treats a stored target

    def _report(self, analysis: ChartAnalysis, *, percent: bool) -> None:
        def shown(value: float | None) -> str:
            if value is None:
                return "-"
            return f"{value * 100:.1f}%" if percent else f"{value:.4g}"

        write = self.stdout.write
        points = analysis.points
        name = KIND_NAMES[analysis.kind]
        heading = f"{name[:1].upper()}{name[1:]} of {len(points)} point{'s' if len(points) != 1 else ''}"
        if points:
            heading += f", {format_date(points[0].date)} to {format_date(points[-1].date)}"
        facts = [f"better: {analysis.better}"] if analysis.better else []
        if analysis.target is not None:
            facts.append(f"target: {shown(analysis.target)}")
        write(heading + (f" ({', '.join(facts)})" if facts else ""))
        write(f"Verdict: {analysis.verdict}")
        if analysis.assurance_text:
            write(f"Assurance: {analysis.assurance_text}")
        for warning in analysis.warnings:
            write(self.style.WARNING(f"Warning: {warning}"))
        write("")
        write("Phases:")
        centre = "median" if analysis.kind == "run" else "centre"
        for phase in analysis.phases:
            write(
                f"  {phase.index + 1}. {format_date(phase.start_date)} to {format_date(phase.end_date)}: "
                f"{phase.end - phase.start + 1} points, {centre} {shown(phase.centre)}, "
                f"from its first {phase.baseline_points} points"
            )
        write("Signals:" if analysis.signals else "Signals: none")
        for signal in analysis.signals:
            write(f"  - {signal.rule} ({signal.meaning}): {signal.summary}")
        write("")
        write(f"  {'date':<10}  {'value':>9}  {centre:>9}  {'lower':>9}  {'upper':>9}  signals")
        for point in points:
            write(
                f"  {point.date.isoformat():<10}  {shown(point.value):>9}  {shown(point.centre):>9}  "
                f"{shown(point.lower_limit):>9}  {shown(point.upper_limit):>9}  {', '.join(point.rules)}".rstrip()
            )

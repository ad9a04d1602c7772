"""Milestone plans that new projects start with, one per category.

Each step is placed at a fraction of the project's window (its start to its end, which by
default is the end of the lead's current placement), so a four-month rotation and a six-month
one both get a plan that finishes when the doctor moves on, never after the project's end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qi.models import Milestone, Project

Kind = Milestone.Kind


@dataclass(frozen=True)
class PlanStep:
    kind: str
    title: str
    at: float  # fraction of the window, 0 < at <= 1
    required: bool = True


QI_PLAN = (
    PlanStep(Kind.PROPOSAL, "Problem defined and team agreed", 0.10),
    PlanStep(Kind.AIM_AND_MEASURES, "SMART aim and family of measures agreed with supervisor", 0.20),
    PlanStep(Kind.BASELINE, "Baseline data collected", 0.35),
    PlanStep(Kind.PDSA, "First PDSA cycle completed", 0.55),
    PlanStep(Kind.PDSA, "Second PDSA cycle completed", 0.75, required=False),
    PlanStep(Kind.ANALYSIS, "Results analysed on a run chart", 0.85),
    PlanStep(Kind.PRESENTATION, "Presented at departmental meeting", 0.93),
    PlanStep(Kind.HANDOVER, "Sustainability plan and handover written", 1.00),
)

AUDIT_PLAN = (
    PlanStep(Kind.PROPOSAL, "Standards identified and audit proposal agreed", 0.10),
    PlanStep(Kind.REGISTRATION, "Audit registered with the clinical audit team", 0.20),
    PlanStep(Kind.DATA_COLLECTION, "Data collected against the standards", 0.50),
    PlanStep(Kind.ANALYSIS, "Results compared with the standards", 0.70),
    PlanStep(Kind.PRESENTATION, "Presented with an action plan", 0.85),
    PlanStep(Kind.HANDOVER, "Re-audit planned and handed over", 1.00),
)

RE_AUDIT_PLAN = (
    PlanStep(Kind.PROPOSAL, "Previous audit and action plan reviewed", 0.10),
    PlanStep(Kind.REGISTRATION, "Re-audit registered with the clinical audit team", 0.20),
    PlanStep(Kind.DATA_COLLECTION, "Data collected against the same standards", 0.50),
    PlanStep(Kind.ANALYSIS, "Results compared with the first cycle", 0.70),
    PlanStep(Kind.PRESENTATION, "Presented, loop closed", 0.85),
    PlanStep(Kind.HANDOVER, "Next steps handed over", 1.00, required=False),
)

SERVICE_EVALUATION_PLAN = (
    PlanStep(Kind.PROPOSAL, "Evaluation questions agreed", 0.15),
    PlanStep(Kind.REGISTRATION, "Evaluation registered", 0.25),
    PlanStep(Kind.DATA_COLLECTION, "Data collected", 0.55),
    PlanStep(Kind.ANALYSIS, "Findings analysed", 0.75),
    PlanStep(Kind.WRITE_UP, "Report written and shared with the service", 1.00),
)

PLANS: dict[str, tuple[PlanStep, ...]] = {
    Project.Category.QI: QI_PLAN,
    Project.Category.CLINICAL_AUDIT: AUDIT_PLAN,
    Project.Category.RE_AUDIT: RE_AUDIT_PLAN,
    Project.Category.SERVICE_EVALUATION: SERVICE_EVALUATION_PLAN,
}


def dated_plan(category: str, starts_on: dt.date, ends_on: dt.date) -> list[tuple[PlanStep, dt.date]]:
    """Return the category's steps with due dates spread across starts_on..ends_on."""
    days = max((ends_on - starts_on).days, 0)
    return [(step, starts_on + dt.timedelta(days=round(step.at * days))) for step in PLANS[category]]

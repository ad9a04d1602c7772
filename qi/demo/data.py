"""The demo trust's constants and its 60 projects: one ``ProjectSpec`` per project (category, theme,
department, status, and for active projects what their latest milestone shows), plus the texts people write
along the way: supervisors' change requests and approval comments, reasons for abandoning, lessons learned
and milestone evidence. The people are in ``qi.demo.people`` and the clinical themes in ``qi.demo.themes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from qi.demo.people import ALICE
from qi.models import Milestone, Project

DEMO_PASSWORD = "demo-password-2026"
ORGANISATION_NAME = "Riverside University Hospitals NHS Foundation Trust"
ORGANISATION_CODE = "RVH"
DOMAIN = "riverside.example"
ADMIN_EMAIL = f"admin@{DOMAIN}"
RANDOM_SEED = 2026
BASELINE_WEEKS = 12  # weeks of retrospective baseline before a QI project starts

Category = Project.Category
Status = Project.Status


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    category: str
    theme: str
    department: str
    status: str
    lead: str | None = None  # first name of a doctor; otherwise picked in turn from the department
    scenario: str | None = None  # what the active project's latest milestone shows (SCENARIOS)
    handed_over: bool = False  # started by a doctor who has since rotated out, continued by a successor


QI, AUDIT, RE_AUDIT, EVALUATION = Category.QI, Category.CLINICAL_AUDIT, Category.RE_AUDIT, Category.SERVICE_EVALUATION
DRAFT, ACTIVE, COMPLETED, ABANDONED = Status.DRAFT, Status.ACTIVE, Status.COMPLETED, Status.ABANDONED

PROJECTS: tuple[ProjectSpec, ...] = (
    # Acute Medicine
    ProjectSpec(
        "Sepsis Six within one hour on the Acute Medical Unit",
        QI,
        "sepsis",
        "amu",
        ACTIVE,
        lead=ALICE,
        scenario="awaiting_review",
    ),
    ProjectSpec(
        "Audit of VTE risk assessment within 14 hours on AMU",
        AUDIT,
        "vte",
        "amu",
        ACTIVE,
        lead=ALICE,
        scenario="changes_requested",
    ),
    ProjectSpec("NEWS2 escalation to a doctor within 30 minutes on AMU", QI, "news2", "amu", DRAFT, lead=ALICE),
    ProjectSpec(
        "Discharge summaries to GPs within 24 hours from AMU", QI, "discharge", "amu", ACTIVE, scenario="resubmitted"
    ),
    ProjectSpec(
        "Re-audit of antibiotic indications and review dates on AMU", RE_AUDIT, "antimicrobial", "amu", COMPLETED
    ),
    ProjectSpec("Reducing insulin prescribing errors on AMU", QI, "insulin", "amu", COMPLETED),
    ProjectSpec(
        "Structured weekend handover on AMU", QI, "handover", "amu", ACTIVE, scenario="behind", handed_over=True
    ),
    ProjectSpec("Evaluation of the AMU nurse-led sepsis screening service", EVALUATION, "sepsis", "amu", ABANDONED),
    # Emergency Department
    ProjectSpec("Door-to-ECG within 10 minutes for chest pain in the ED", QI, "chest_pain", "ed", ACTIVE),
    ProjectSpec("Sepsis Six within one hour in ED majors", QI, "sepsis", "ed", COMPLETED),
    ProjectSpec("Audit of the ED chest pain pathway against RCEM standards", AUDIT, "chest_pain", "ed", COMPLETED),
    ProjectSpec("NEWS2 escalation in ED majors", QI, "news2", "ed", ACTIVE),
    ProjectSpec(
        "Evaluation of referrals from the ED to the rapid-access chest pain clinic",
        EVALUATION,
        "chest_pain",
        "ed",
        ACTIVE,
    ),
    ProjectSpec("Re-audit of the ED chest pain pathway", RE_AUDIT, "chest_pain", "ed", DRAFT),
    ProjectSpec("Antibiotic indication documentation in the ED", QI, "antimicrobial", "ed", ABANDONED),
    # General Surgery
    ProjectSpec("VTE risk assessment for emergency general surgery admissions", QI, "vte", "surgery", ACTIVE),
    ProjectSpec(
        "Audit of antibiotic prescribing on the surgical wards against Start Smart then Focus",
        AUDIT,
        "antimicrobial",
        "surgery",
        ACTIVE,
    ),
    ProjectSpec("Discharge summaries within 24 hours after emergency surgery", QI, "discharge", "surgery", COMPLETED),
    ProjectSpec("Re-audit of VTE risk assessment on the surgical wards", RE_AUDIT, "vte", "surgery", COMPLETED),
    ProjectSpec("SBAR handover for the surgical night team", QI, "handover", "surgery", ACTIVE),
    ProjectSpec("Sepsis screening on the surgical wards", QI, "sepsis", "surgery", DRAFT),
    ProjectSpec("Evaluation of the surgical electronic handover list", EVALUATION, "handover", "surgery", ABANDONED),
    ProjectSpec("Perioperative insulin prescribing for patients with diabetes", QI, "insulin", "surgery", ACTIVE),
    # Care of Older People
    ProjectSpec(
        "4AT delirium screening within 24 hours for patients over 65", QI, "delirium", "coop", COMPLETED, lead=ALICE
    ),
    ProjectSpec("Lying and standing blood pressure to prevent falls", QI, "falls", "coop", ACTIVE, handed_over=True),
    ProjectSpec("Audit of inpatient falls assessment against NICE CG161", AUDIT, "falls", "coop", COMPLETED),
    ProjectSpec("Re-audit of delirium screening on the elderly care wards", RE_AUDIT, "delirium", "coop", ACTIVE),
    ProjectSpec("Evaluation of the delirium prevention volunteer programme", EVALUATION, "delirium", "coop", COMPLETED),
    ProjectSpec("Falls safety huddles on the elderly care wards", QI, "falls", "coop", ABANDONED),
    ProjectSpec("Discharge summaries for patients going to care homes", QI, "discharge", "coop", DRAFT),
    ProjectSpec("Antibiotic reviews at 48 to 72 hours on the elderly care wards", QI, "antimicrobial", "coop", ACTIVE),
    # Cardiology
    ProjectSpec("Cardiology ward handover to the night team", QI, "handover", "cardiology", ACTIVE),
    ProjectSpec("Audit of VTE prophylaxis in cardiology admissions", AUDIT, "vte", "cardiology", ACTIVE),
    ProjectSpec(
        "Discharge summaries within 24 hours from the cardiology ward", QI, "discharge", "cardiology", COMPLETED
    ),
    ProjectSpec("NEWS2 escalation on the cardiology ward", QI, "news2", "cardiology", ACTIVE),
    ProjectSpec("Re-audit of insulin prescribing on the cardiology ward", RE_AUDIT, "insulin", "cardiology", ABANDONED),
    ProjectSpec("Evaluation of the rapid-access chest pain clinic", EVALUATION, "chest_pain", "cardiology", DRAFT),
    ProjectSpec("Antibiotic indications on the cardiology ward", QI, "antimicrobial", "cardiology", ACTIVE),
    # Obstetrics and Gynaecology
    ProjectSpec("Quantitative blood loss measurement after birth", QI, "pph", "obs", ACTIVE),
    ProjectSpec("Audit of postpartum haemorrhage escalation against RCOG guidance", AUDIT, "pph", "obs", COMPLETED),
    ProjectSpec("Maternal sepsis screening on the labour ward", QI, "sepsis", "obs", ACTIVE),
    ProjectSpec("Audit of VTE risk assessment after caesarean birth", AUDIT, "vte", "obs", ACTIVE),
    ProjectSpec("Re-audit of quantitative blood loss on the labour ward", RE_AUDIT, "pph", "obs", DRAFT),
    ProjectSpec("Evaluation of the maternity triage service", EVALUATION, "pph", "obs", ABANDONED),
    ProjectSpec("Structured handover on the labour ward", QI, "handover", "obs", ACTIVE),
    # Paediatrics
    ProjectSpec("Complete and timely PEWS on the children's ward", QI, "pews", "paeds", ACTIVE),
    ProjectSpec("Audit of PEWS escalation against the national standards", AUDIT, "pews", "paeds", COMPLETED),
    ProjectSpec("Antibiotic indications and review dates on the children's ward", QI, "antimicrobial", "paeds", ACTIVE),
    ProjectSpec("Re-audit of PEWS completion on the children's ward", RE_AUDIT, "pews", "paeds", ACTIVE),
    ProjectSpec(
        "Evaluation of the paediatric high-dependency outreach nurse role", EVALUATION, "pews", "paeds", ACTIVE
    ),
    ProjectSpec("Discharge letters within 24 hours from the children's ward", QI, "discharge", "paeds", DRAFT),
    ProjectSpec("Weekend handover on the children's ward", QI, "handover", "paeds", ABANDONED),
    # Trauma and Orthopaedics
    ProjectSpec(
        "Hip fracture surgery within 36 hours of arrival", QI, "hip_fracture", "tando", ACTIVE, handed_over=True
    ),
    ProjectSpec("Audit of hip fracture care against NHFD standards", AUDIT, "hip_fracture", "tando", COMPLETED),
    ProjectSpec("Falls prevention on the trauma ward", QI, "falls", "tando", ACTIVE),
    ProjectSpec("Audit of VTE prophylaxis after lower-limb immobilisation in plaster", AUDIT, "vte", "tando", DRAFT),
    ProjectSpec("Re-audit of time to theatre for hip fractures", RE_AUDIT, "hip_fracture", "tando", COMPLETED),
    ProjectSpec("Delirium screening for patients with a hip fracture", QI, "delirium", "tando", ACTIVE),
    ProjectSpec("Evaluation of the orthogeriatric liaison service", EVALUATION, "hip_fracture", "tando", COMPLETED),
    ProjectSpec("Insulin prescribing on the trauma ward", QI, "insulin", "tando", DRAFT),
)

# What an active project's latest past-due milestone shows, in turn.
SCENARIOS = (
    "on_track",  # everything due so far is approved
    "awaiting_review",  # the latest is submitted and waits for the supervisor
    "overdue",  # the latest was never submitted
    "changes_requested",  # the latest was sent back with a comment (and is now overdue)
    "on_track",
    "resubmitted",  # sent back once, resubmitted, waiting again
    "behind",  # one waits for review, the one after it is overdue
)

CHANGE_REQUESTS = (
    "The aim needs a number and a date: how many, by when? Please add the baseline figure as well.",
    "Please attach the run chart rather than a table, and annotate the week each change started.",
    "Thirty consecutive cases is the minimum for this standard; please extend the sample before we sign it off.",
    "The operational definition changed halfway through. Please state which patients are counted and re-plot.",
    "Good start, but the evidence does not say who was involved. Please add the team and the ward manager's view.",
)
APPROVAL_COMMENTS = ("", "Good, clear and well evidenced.", "", "Well done. Keep the run chart updated weekly.", "")
ABANDON_REASONS = (
    "The lead rotated to another trust and no successor could be found before the data collection window closed.",
    "A trust-wide programme started the same change; this work was merged into it so the wards were not asked twice.",
    "Data could not be extracted from the new electronic patient record without a bespoke report, which "
    "informatics could not build this year.",
    "The ward closed for refurbishment for three months, so the baseline would no longer be comparable.",
    "The supervisor left the trust and the team could not agree a new scope before the rotation ended.",
)
LESSONS = (
    "Involve the nurse in charge from the first week: the changes the ward team owned outlasted our rotation.",
    "Testing on one bay first found problems we would otherwise have rolled out to the whole ward.",
    "Weekly data on a run chart kept the team interested; a monthly audit would have hidden the shift.",
    "Register early: access to the data through the audit team took three weeks.",
    "Agree the standard, the sample and the operational definition with the supervisor before collecting data.",
    "Plan the handover from the start: rotations come round faster than the data.",
)
EVIDENCE = {
    Milestone.Kind.PROPOSAL: "Proposal agreed with {supervisor} at supervision; team: {team}.",
    Milestone.Kind.AIM_AND_MEASURES: "Aim and family of measures (outcome, process, balancing) agreed, with "
    "operational definitions in the project folder.",
    Milestone.Kind.REGISTRATION: "Registered with the clinical audit and effectiveness team, reference {reference}.",
    Milestone.Kind.BASELINE: "Baseline collected and plotted on a run chart with its median.",
    Milestone.Kind.DATA_COLLECTION: "Data collected on the audit proforma for consecutive cases; anonymised "
    "spreadsheet in the project folder.",
    Milestone.Kind.PDSA: "PDSA cycle written up (plan, do, study, act) with the run chart annotated.",
    Milestone.Kind.ANALYSIS: "Results analysed: run chart with median and annotations, interpretation agreed.",
    Milestone.Kind.PRESENTATION: "Presented at the {department} clinical governance meeting; slides in the folder.",
    Milestone.Kind.HANDOVER: "Sustainability plan agreed with the ward manager; handover note written for the "
    "next rotation.",
    Milestone.Kind.WRITE_UP: "Report written and sent to the service lead and the {division} governance group.",
    Milestone.Kind.OTHER: "Done; notes in the project folder.",
}

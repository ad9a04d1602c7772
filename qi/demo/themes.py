"""Clinical themes: what the demo projects are about. Each ``Theme`` gives the texts of a QI project, an
audit and a service evaluation on one subject, the two change ideas its PDSA cycles test, and a family of
measures (outcome, process, balancing) whose weekly level moves from ``before`` to ``after`` once the changes
work. ``ProjectSpec.theme`` names a key of ``THEMES``; ``TOPICS`` are the topic tags, by slug.
"""

from __future__ import annotations

from dataclasses import dataclass

from qi.models import Measure, Project


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    definition: str
    before: float  # level at baseline: a proportion (0 to 1) when unit is "%", else a value
    after: float  # level once the changes work
    unit: str = "%"
    better: str = Measure.Direction.UP
    cases: tuple[int, int] = (15, 30)  # weekly denominator range, for a proportion
    spread: float = 0.0  # week-to-week noise, for a plain value
    target: float | None = None  # in display units (percent, or the value's unit)

    @property
    def is_proportion(self) -> bool:
        return self.unit == "%"


@dataclass(frozen=True)
class Theme:
    topics: tuple[str, ...]
    problem: str  # for a QI project; "{ward}" is filled in
    aim: str  # SMART aim of a QI project; "{ward}" and "{by}" are filled in
    population: str  # who an audit counts
    standard: str  # what an audit measures against
    service: str  # what a service evaluation looks at
    outcome: MeasureSpec
    process: MeasureSpec
    balancing: MeasureSpec
    changes: tuple[str, str]  # the change ideas of PDSA cycles 1 and 2
    method: str = Project.Method.MODEL_FOR_IMPROVEMENT

    @property
    def audited(self) -> MeasureSpec:
        """The percentage an audit of this theme measures compliance with."""
        return self.outcome if self.outcome.is_proportion else self.process


TOPICS = {
    "sepsis": "Sepsis",
    "vte": "Venous thromboembolism",
    "discharge": "Discharge",
    "deteriorating-patient": "Deteriorating patient",
    "falls": "Falls",
    "diabetes": "Diabetes and insulin",
    "prescribing": "Prescribing safety",
    "handover": "Handover",
    "antimicrobial-stewardship": "Antimicrobial stewardship",
    "delirium": "Delirium",
    "hip-fracture": "Hip fracture",
    "chest-pain": "Chest pain",
    "maternity": "Maternity",
    "paediatrics": "Paediatrics",
    "documentation": "Documentation",
}

THEMES: dict[str, Theme] = {
    "sepsis": Theme(
        topics=("sepsis", "deteriorating-patient"),
        problem="Only about half of adults with red-flag sepsis on {ward} receive all of the Sepsis Six within one "
        "hour of being recognised; antibiotics and lactate are the elements most often late.",
        aim="90% of adults with red-flag sepsis on {ward} receive the complete Sepsis Six within one hour of "
        "recognition by {by}.",
        population="adults with red-flag sepsis",
        standard="the trust sepsis pathway and NICE NG51",
        service="the nurse-led sepsis screening service",
        outcome=MeasureSpec(
            "Sepsis Six completed within 1 hour",
            "Weekly, from the electronic sepsis screening tool: patients with red-flag sepsis who received all six "
            "elements within 60 minutes of recognition / all patients with red-flag sepsis.",
            0.55, 0.87, cases=(16, 28), target=90,
        ),
        process=MeasureSpec(
            "Sepsis screening tool completed when NEWS2 is 5 or more",
            "Weekly: observation sets with NEWS2 of 5 or more followed by a completed screening tool within "
            "30 minutes / all observation sets with NEWS2 of 5 or more.",
            0.62, 0.88, cases=(25, 40),
        ),
        balancing=MeasureSpec(
            "Broad-spectrum antibiotic starts per 100 admissions",
            "Weekly: new intravenous broad-spectrum antibiotic courses / admissions, times 100, from pharmacy data.",
            18.0, 18.5, unit="per 100 admissions", better=Measure.Direction.DOWN, spread=1.6,
        ),
        changes=(
            "A sepsis grab bag in every bay: blood culture bottles, lactate syringe, fluids and the antibiotic "
            "quick guide",
            "A Sepsis Six sticker on the clerking proforma recording the time of each element",
        ),
    ),
    "vte": Theme(
        topics=("vte", "prescribing"),
        problem="Only 60% of admissions to {ward} have a VTE risk assessment recorded within 14 hours, against a "
        "national standard of 95%.",
        aim="95% of admissions to {ward} have a VTE risk assessment within 14 hours of admission by {by}.",
        population="admissions",
        standard="NICE NG89 (VTE risk assessment within 14 hours of admission)",
        service="the pharmacist-led VTE prophylaxis review",
        outcome=MeasureSpec(
            "VTE risk assessment within 14 hours",
            "Weekly, from the electronic prescribing system: admissions with a completed VTE risk assessment "
            "within 14 hours / all admissions.",
            0.60, 0.92, cases=(25, 45), target=95,
        ),
        process=MeasureSpec(
            "VTE assessment completed on the post-take ward round",
            "Weekly: assessments signed during the post-take ward round / all assessments completed.",
            0.50, 0.84, cases=(25, 45),
        ),
        balancing=MeasureSpec(
            "Bleeding events on prophylactic anticoagulation",
            "Weekly count of bleeding incidents reported in patients on prophylactic-dose anticoagulation.",
            0.8, 0.9, unit="events", better=Measure.Direction.DOWN, spread=0.5,
        ),
        changes=(
            "VTE assessment added to the post-take ward round checklist",
            "A 10 am list of unassessed patients sent to the ward doctor each day",
        ),
    ),
    "discharge": Theme(
        topics=("discharge", "documentation"),
        problem="Discharge summaries from {ward} reach GPs a median of three days after discharge; only 55% are "
        "sent within 24 hours, so medication changes are missed in primary care.",
        aim="85% of discharge summaries from {ward} are sent to the GP within 24 hours of discharge by {by}.",
        population="discharges",
        standard="the NHS Standard Contract (discharge summaries within 24 hours)",
        service="the weekend discharge summary pre-writing scheme",
        outcome=MeasureSpec(
            "Discharge summaries sent within 24 hours",
            "Weekly, from the electronic patient record: summaries sent to the GP within 24 hours of discharge "
            "/ all discharges.",
            0.55, 0.86, cases=(30, 55), target=85,
        ),
        process=MeasureSpec(
            "Discharge summaries started the day before discharge",
            "Weekly: summaries with a draft saved before the day of discharge / all discharges.",
            0.30, 0.68, cases=(30, 55),
        ),
        balancing=MeasureSpec(
            "Summaries returned by GPs as incomplete",
            "Weekly count of discharge summaries returned by GP practices as missing information.",
            2.2, 2.4, unit="summaries", better=Measure.Direction.DOWN, spread=0.9,
        ),
        changes=(
            "Protected 30 minutes after the board round to pre-write summaries of expected discharges",
            "Discharge summary status shown on the electronic ward whiteboard",
        ),
        method=Project.Method.LEAN,
    ),
    "news2": Theme(
        topics=("deteriorating-patient",),
        problem="When NEWS2 reaches 5 or more on {ward}, a doctor reviews the patient within 30 minutes only "
        "about half the time.",
        aim="90% of patients on {ward} with NEWS2 of 5 or more are reviewed by a doctor within 30 minutes by {by}.",
        population="patients with NEWS2 of 5 or more",
        standard="the Royal College of Physicians NEWS2 escalation standards",
        service="the critical care outreach team's overnight cover",
        outcome=MeasureSpec(
            "Medical review within 30 minutes of NEWS2 of 5 or more",
            "Weekly: escalations with a documented medical review within 30 minutes / all observation sets with "
            "NEWS2 of 5 or more.",
            0.52, 0.84, cases=(12, 22), target=90,
        ),
        process=MeasureSpec(
            "Escalations documented with SBAR",
            "Weekly: escalation calls documented in SBAR format in the nursing notes / all escalation calls.",
            0.40, 0.80, cases=(12, 22),
        ),
        balancing=MeasureSpec(
            "Bleeps to the ward doctor per night shift",
            "Mean number of bleeps per night shift to the ward doctor, from the switchboard log.",
            24.0, 25.0, unit="bleeps", better=Measure.Direction.DOWN, spread=2.5,
        ),
        changes=(
            "An escalation flowchart on every observation machine",
            "A 10 pm nurse-in-charge huddle reviewing every patient with NEWS2 of 5 or more",
        ),
    ),
    "falls": Theme(
        topics=("falls",),
        problem="{ward} reports 8.5 inpatient falls per 1,000 bed days, above the national average, and lying and "
        "standing blood pressure is rarely recorded.",
        aim="Reduce inpatient falls on {ward} to 5 per 1,000 bed days by {by}.",
        population="patients aged 65 and over",
        standard="NICE CG161 and the National Audit of Inpatient Falls",
        service="the enhanced supervision (bay nursing) scheme",
        outcome=MeasureSpec(
            "Inpatient falls per 1,000 bed days",
            "Weekly: falls reported on the incident system / occupied bed days, times 1,000.",
            8.5, 5.1, unit="per 1,000 bed days", better=Measure.Direction.DOWN, spread=1.2, target=5,
        ),
        process=MeasureSpec(
            "Lying and standing blood pressure within 72 hours",
            "Weekly: patients aged 65 and over with lying and standing blood pressure recorded within 72 hours of "
            "admission / all patients aged 65 and over admitted.",
            0.30, 0.74, cases=(18, 30),
        ),
        balancing=MeasureSpec(
            "Requests for one-to-one enhanced supervision",
            "Weekly count of requests for one-to-one enhanced supervision.",
            6.0, 6.5, unit="requests", better=Measure.Direction.DOWN, spread=1.5,
        ),
        changes=(
            "A lying and standing blood pressure prompt on the admission observation chart",
            "A falls safety huddle at each handover for patients flagged at risk",
        ),
    ),
    "insulin": Theme(
        topics=("diabetes", "prescribing"),
        problem="On {ward}, one insulin prescription in three has an error: 'units' abbreviated, the wrong device, "
        "or no time of administration.",
        aim="95% of insulin prescriptions on {ward} are free of errors by {by}.",
        population="insulin prescriptions",
        standard="the JBDS inpatient insulin prescribing standards",
        service="the diabetes inpatient specialist nurse referral pathway",
        outcome=MeasureSpec(
            "Insulin prescriptions without error",
            "Weekly pharmacist check: insulin prescriptions meeting all five JBDS criteria / all insulin "
            "prescriptions checked.",
            0.66, 0.93, cases=(15, 25), target=95,
        ),
        process=MeasureSpec(
            "Insulin prescriptions reviewed by a pharmacist within 24 hours",
            "Weekly: insulin prescriptions with a pharmacist review within 24 hours / all new insulin prescriptions.",
            0.50, 0.80, cases=(15, 25),
        ),
        balancing=MeasureSpec(
            "Hypoglycaemia episodes (glucose below 4 mmol/L)",
            "Weekly count of capillary glucose readings below 4 mmol/L, from the glucose meter network.",
            7.0, 6.0, unit="episodes", better=Measure.Direction.DOWN, spread=1.8,
        ),
        changes=(
            "Insulin prescribing teaching at FY1 induction, run with the diabetes nurses",
            "An insulin chart with 'units' pre-printed and the device to tick",
        ),
    ),
    "handover": Theme(
        topics=("handover", "documentation"),
        problem="Weekend handover on {ward} is verbal and unstructured: jobs are missed and the weekend team "
        "re-clerks patients to find the plan.",
        aim="90% of patients handed over for the weekend on {ward} have a structured SBAR entry with a clear plan "
        "by {by}.",
        population="weekend handovers",
        standard="the RCP and BMA safe handover guidance",
        service="the electronic handover list",
        outcome=MeasureSpec(
            "Weekend handovers with a complete SBAR entry",
            "Weekly: patients on the Friday handover list with all four SBAR fields and a plan / all patients on the "
            "list.",
            0.45, 0.88, cases=(15, 30), target=90,
        ),
        process=MeasureSpec(
            "Handover entries stating the ceiling of care",
            "Weekly: handover entries recording the ceiling of care and resuscitation status / all entries.",
            0.50, 0.86, cases=(15, 30),
        ),
        balancing=MeasureSpec(
            "Length of Friday handover (minutes)",
            "Minutes from the start to the end of the Friday afternoon handover meeting.",
            35.0, 37.0, unit="minutes", better=Measure.Direction.DOWN, spread=4.0,
        ),
        changes=(
            "A structured SBAR template in the electronic handover list",
            "A 4 pm consultant-led Friday handover huddle",
        ),
    ),
    "antimicrobial": Theme(
        topics=("antimicrobial-stewardship", "prescribing"),
        problem="Only 58% of antibiotic prescriptions on {ward} state an indication and a review date, so "
        "courses run on without review.",
        aim="90% of antibiotic prescriptions on {ward} document an indication and a 48 to 72 hour review by {by}.",
        population="antibiotic prescriptions",
        standard="UKHSA Start Smart then Focus",
        service="the weekly antimicrobial stewardship ward round",
        outcome=MeasureSpec(
            "Antibiotic prescriptions with indication and review date",
            "Weekly point prevalence: antibiotic prescriptions with an indication and a review date / all "
            "antibiotic prescriptions.",
            0.58, 0.89, cases=(20, 35), target=90,
        ),
        process=MeasureSpec(
            "Antibiotic reviews documented at 48 to 72 hours",
            "Weekly: courses with a documented review decision at 48 to 72 hours / courses running for 72 hours.",
            0.40, 0.77, cases=(15, 25),
        ),
        balancing=MeasureSpec(
            "Days of antibiotic therapy per 100 bed days",
            "Weekly: days of antibiotic therapy / occupied bed days, times 100, from pharmacy data.",
            80.0, 76.0, unit="days per 100 bed days", better=Measure.Direction.DOWN, spread=5.0,
        ),
        changes=(
            "An indication field that must be filled in on every electronic antibiotic prescription",
            "An antibiotic time-out sticker on the drug chart at 48 hours",
        ),
    ),
    "delirium": Theme(
        topics=("delirium",),
        problem="Only 35% of patients aged 65 and over admitted to {ward} are screened for delirium with the 4AT.",
        aim="80% of patients aged 65 and over admitted to {ward} have a 4AT within 24 hours by {by}.",
        population="patients aged 65 and over",
        standard="NICE CG103 (delirium: prevention, diagnosis and management)",
        service="the delirium prevention volunteer programme",
        outcome=MeasureSpec(
            "4AT delirium screen within 24 hours of admission",
            "Weekly: patients aged 65 and over with a 4AT recorded within 24 hours / all patients aged 65 and over "
            "admitted.",
            0.35, 0.79, cases=(15, 30), target=80,
        ),
        process=MeasureSpec(
            "Delirium care plan started when the 4AT is 4 or more",
            "Weekly: patients with a 4AT of 4 or more who have a delirium care plan within 24 hours / all patients "
            "with a 4AT of 4 or more.",
            0.40, 0.76, cases=(5, 12),
        ),
        balancing=MeasureSpec(
            "Clerking time per patient (minutes)",
            "Median minutes from the start to the end of the admission clerking, from a weekly sample.",
            45.0, 46.0, unit="minutes", better=Measure.Direction.DOWN, spread=3.0,
        ),
        changes=("The 4AT added to the admission clerking proforma", "A delirium champion named on each shift"),
    ),
    "hip_fracture": Theme(
        topics=("hip-fracture",),
        problem="Only 62% of patients with a hip fracture reach theatre within 36 hours of arrival, behind the "
        "national average.",
        aim="85% of patients with a hip fracture have surgery within 36 hours of arrival by {by}.",
        population="patients with a hip fracture",
        standard="the National Hip Fracture Database key performance indicators",
        service="the orthogeriatric liaison service",
        outcome=MeasureSpec(
            "Surgery within 36 hours of arrival",
            "Weekly, from the National Hip Fracture Database extract: patients operated on within 36 hours of "
            "arrival / all patients operated on for a hip fracture.",
            0.62, 0.85, cases=(6, 12), target=85,
        ),
        process=MeasureSpec(
            "Fascia iliaca block within 4 hours of arrival",
            "Weekly: patients with a hip fracture given a fascia iliaca block within 4 hours / all patients with a "
            "hip fracture.",
            0.45, 0.80, cases=(6, 12),
        ),
        balancing=MeasureSpec(
            "Cancellations on the trauma list",
            "Weekly count of patients cancelled from the trauma list on the day.",
            2.0, 2.2, unit="cancellations", better=Measure.Direction.DOWN, spread=0.8,
        ),
        changes=(
            "Hip fracture patients placed first on the next trauma list by default",
            "Anaesthetic pre-assessment in the Emergency Department for suspected hip fractures",
        ),
    ),
    "chest_pain": Theme(
        topics=("chest-pain",),
        problem="Door-to-ECG time for adults with chest pain in {ward} averages 22 minutes; the standard is 10.",
        aim="90% of adults with chest pain have an ECG within 10 minutes of arrival by {by}.",
        population="adults presenting with chest pain",
        standard="the Royal College of Emergency Medicine chest pain standards",
        service="the rapid-access chest pain clinic",
        outcome=MeasureSpec(
            "ECG within 10 minutes of arrival",
            "Weekly: adults with chest pain whose first ECG was recorded within 10 minutes of arrival / all adults "
            "presenting with chest pain.",
            0.48, 0.86, cases=(40, 70), target=90,
        ),
        process=MeasureSpec(
            "ECGs signed by a clinician within 10 minutes",
            "Weekly: first ECGs signed by a clinician within 10 minutes of being recorded / all first ECGs.",
            0.40, 0.80, cases=(40, 70),
        ),
        balancing=MeasureSpec(
            "Median wait for triage (minutes)",
            "Weekly median minutes from arrival to triage for all adult attendances.",
            15.0, 16.0, unit="minutes", better=Measure.Direction.DOWN, spread=2.0,
        ),
        changes=(
            "An ECG machine and a healthcare assistant at the front door from 8 am to midnight",
            "A chest pain card handed out at the reception desk",
        ),
    ),
    "pews": Theme(
        topics=("paediatrics", "deteriorating-patient"),
        problem="Paediatric early warning scores on {ward} are complete and on time for only 60% of observation "
        "sets.",
        aim="95% of observation sets on {ward} have a complete, on-time PEWS by {by}.",
        population="observation sets",
        standard="the national Paediatric Early Warning System (PEWS) standards",
        service="the paediatric high-dependency outreach nurse role",
        outcome=MeasureSpec(
            "Complete PEWS on time",
            "Weekly sample of observation sets: sets with every PEWS parameter recorded at the frequency the score "
            "requires / all sets sampled.",
            0.60, 0.90, cases=(30, 40), target=95,
        ),
        process=MeasureSpec(
            "High PEWS escalated within the set time",
            "Weekly: scores needing escalation that were escalated within the time the chart sets / all scores "
            "needing escalation.",
            0.55, 0.85, cases=(8, 15),
        ),
        balancing=MeasureSpec(
            "Observation sets per patient per day",
            "Weekly mean number of observation sets per patient per day.",
            8.0, 8.3, unit="sets", better=Measure.Direction.DOWN, spread=0.6,
        ),
        changes=(
            "PEWS due times written on the ward whiteboard for each child",
            "Parents invited to tell the nurse if they are worried (a 'call for concern' leaflet)",
        ),
    ),
    "pph": Theme(
        topics=("maternity",),
        problem="Blood loss after birth on {ward} is estimated by eye, so postpartum haemorrhage is under-recognised "
        "and escalated late.",
        aim="90% of births on {ward} have blood loss measured quantitatively by {by}.",
        population="births",
        standard="RCOG Green-top Guideline 52 (postpartum haemorrhage)",
        service="the maternity triage service",
        outcome=MeasureSpec(
            "Births with quantified blood loss",
            "Weekly: births with blood loss measured by weighing swabs and collection drapes / all births.",
            0.40, 0.86, cases=(45, 70), target=90,
        ),
        process=MeasureSpec(
            "Blood loss of 1,000 ml or more escalated within 15 minutes",
            "Weekly: haemorrhages of 1,000 ml or more escalated to the registrar within 15 minutes / all "
            "haemorrhages of 1,000 ml or more.",
            0.60, 0.86, cases=(4, 9),
        ),
        balancing=MeasureSpec(
            "Hours from birth to transfer to the postnatal ward",
            "Weekly median hours from birth to transfer to the postnatal ward.",
            4.0, 4.2, unit="hours", better=Measure.Direction.DOWN, spread=0.4,
        ),
        changes=(
            "Calibrated collection drapes and a swab-weighing chart in every delivery room",
            "A PPH escalation card at every delivery bed",
        ),
    ),
}  # fmt: skip

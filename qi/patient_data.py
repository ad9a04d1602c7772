"""Guard against patient-identifiable information in free text.

QI data is aggregated; the product must never hold an NHS number or a trust's own
patient identifiers. An NHS number is 10 digits whose last is a Modulus 11 check digit
(weights 10..2 on the first nine; 11 minus the remainder; 11 means 0, 10 means the
number is invalid). Digits may be grouped 3-3-4 with spaces or dashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings

# Ten digits, optionally grouped 3-3-4 by white space, a dash or a dot, not part of a longer number
# (no digit, or digit and separator, on either side: "MRN-943 476 5919" is caught, a phone
# number "0161-943-476-5919" is not).
_NHS_CANDIDATE = re.compile(r"(?<!\d)(?<!\d[.-])(\d{3})(?:\s+|[.-])?(\d{3})(?:\s+|[.-])?(\d{4})(?![.-]?\d)")


def is_valid_nhs_number(digits: str) -> bool:
    """Return True if ten digits carry a correct Modulus 11 check digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def find_nhs_numbers(text: str) -> list[str]:
    """Return every valid NHS number in the text, as ten bare digits."""
    found = []
    for match in _NHS_CANDIDATE.finditer(text or ""):
        digits = "".join(match.groups())
        if is_valid_nhs_number(digits):
            found.append(digits)
    return found


def _mask(value: str) -> str:
    return "•" * max(len(value) - 3, 0) + value[-3:]


def patient_identifier_problem(text: str) -> str | None:
    """Return why this text may not be stored, or None if it holds no patient identifier."""
    if not text:
        return None
    numbers = find_nhs_numbers(text)
    if numbers:
        return (
            f"contains what is a valid NHS number ({_mask(numbers[0])}). QI data must not identify "
            "patients: remove it and use aggregated figures."
        )
    patterns: dict[str, str] = getattr(settings, "QI_PATIENT_IDENTIFIER_PATTERNS", {})
    for name, pattern in patterns.items():
        match = re.search(pattern, text)
        if match:
            return (
                f"contains what looks like a {name} ({_mask(match.group(0))}). QI data must not identify "
                "patients: remove it."
            )
    return None


def free_text_errors(values: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Check (field name, label, text) triples; return {field: message naming the field}."""
    errors = {}
    for field, label, text in values:
        problem = patient_identifier_problem(text)
        if problem:
            errors[field] = f"{label} {problem}"
    return errors

"""Data points from a CSV file, as a spreadsheet exports them, checked line by line.

Two layouts, one row per date, under a header row (case and surrounding spaces ignored):

    date,value              date,numerator,denominator
    2026-01-05,22.5         05/01/2026,14,20

Either may add a ``note`` column; a header with both ``value`` and ``numerator,denominator`` lets each
row choose, as long as every row chooses the same. Dates are ISO (2026-01-05) or UK (05/01/2026).
Every problem names the line of the file (the header is line 1); whole-file problems (encoding, size,
no rows) are named ``file``. Plain Python and ``qi.errors`` only: ``manage.py chart`` reads files
without a database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from qi.charts import Observation
from qi.errors import QIValidationError

MAX_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = MAX_BYTES + 64 * 1024  # the file and a multipart form's headers around it
TOO_LARGE = f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into smaller files."
MAX_ROWS = 5000
MAX_PROBLEMS = 20  # lines reported at once: enough to fix a spreadsheet in one go, not a wall of text
MAX_NOTE_LENGTH = 500  # DataPoint.note
MAX_WHOLE_NUMBER = 2_147_483_647  # a PositiveIntegerField on every database
VALUE_DECIMAL_PLACES, VALUE_INTEGER_DIGITS = 4, 10  # DataPoint.value: max_digits 14, decimal_places 4

COLUMNS = ("date", "value", "numerator", "denominator", "note")
LAYOUTS = "date,value or date,numerator,denominator, with an optional note column"

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_WHOLE = re.compile(r"\+?\d+")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}([, ]\d{3})+(\.\d*)?")


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The rows for ``services.data_points_add`` sorted by date, and the line of the file each came from."""

    rows: list[dict[str, Any]]
    lines: list[int]
    fractions: bool  # numerator/denominator rows, not values

    def observations(self) -> list[Observation]:
        """The rows as chart input (already in date order)."""
        return [
            Observation(
                date=row["date"],
                value=float(row["value"]) if "value" in row else None,
                numerator=row.get("numerator"),
                denominator=row.get("denominator"),
            )
            for row in self.rows
        ]


class _LineProblem(ValueError):
    """What is wrong with one line; the caller adds "Line N: "."""


def _file_error(message: str) -> NoReturn:
    raise QIValidationError(message, field_errors={"file": message})


def line_errors(problems: dict[int, str], *, stopped: bool = False) -> QIValidationError:
    """One error for problems on numbered lines: ``detail`` has the first, ``fields`` the first 20 as ``line.N``.

    ``stopped``: reading stopped at the last of these lines, so later ones were not checked.
    """
    listed = sorted(problems.items())[:MAX_PROBLEMS]
    messages = {f"line.{line}": f"Line {line}: {problem}" for line, problem in listed}
    detail, more = next(iter(messages.values())), len(problems) - 1
    if more:
        detail += f" {more:,} more line{'s' if more > 1 else ''} {'have' if more > 1 else 'has'} problems too"
        if stopped:
            detail += f" (reading stopped at line {max(problems)})"
        elif len(problems) > MAX_PROBLEMS:
            detail += f" (the first {MAX_PROBLEMS} are listed)"
        detail += "."
    return QIValidationError(detail, field_errors=messages)


def _decoded(content: str | bytes) -> str:
    """The file's text: UTF-8 (a byte order mark is fine), at most MAX_BYTES."""
    size = len(content) if isinstance(content, bytes) else len(content.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        _file_error(TOO_LARGE)
    if isinstance(content, bytes):
        if content.startswith(b"PK\x03\x04"):
            _file_error("This is a spreadsheet workbook, not a CSV file: save it as CSV UTF-8 and upload that.")
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            _file_error(
                "The file is not UTF-8 text: in your spreadsheet, save it as CSV UTF-8 (comma delimited) and "
                "upload that."
            )
    content = content.removeprefix("\ufeff")
    if "\x00" in content:
        _file_error("The file is not text: save it as CSV UTF-8 (comma delimited) and upload that.")
    return content


def parse_date(text: str) -> dt.date:
    """``2026-01-05`` or ``05/01/2026`` (day first, as UK spreadsheets write it)."""
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = _UK_DATE.fullmatch(text)
        if not match:
            raise _LineProblem(f"{text[:40]} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
        day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _LineProblem(f"{text} is not a date (use YYYY-MM-DD or DD/MM/YYYY)") from None


def _number_problem(name: str, text: str, kind: str) -> _LineProblem:
    if _THOUSANDS.fullmatch(text):
        plain = re.sub(r"[, ]", "", text)
        return _LineProblem(f"the {name} {text} has a thousands separator: write it as {plain}")
    if kind == "a number" and re.fullmatch(r"[+-]?\d+,\d+", text):
        return _LineProblem(f"the {name} {text} is not {kind}: use a point, not a comma, for decimals")
    if text.endswith("%"):
        return _LineProblem(f"the {name} {text} is not {kind}: leave out the % sign")
    return _LineProblem(f"the {name} {text[:40]} is not {kind}")


def _decimal(name: str, text: str) -> Decimal:
    if not _DECIMAL.fullmatch(text):
        raise _number_problem(name, text, "a number")
    whole, _, fraction = text.lstrip("+-").partition(".")
    if len(fraction) > VALUE_DECIMAL_PLACES:
        raise _LineProblem(f"the {name} {text} has more than {VALUE_DECIMAL_PLACES} decimal places")
    if len(whole.lstrip("0")) > VALUE_INTEGER_DIGITS:
        raise _LineProblem(f"the {name} {text} is too large")
    return Decimal(text)


def _whole(name: str, text: str) -> int:
    if not _WHOLE.fullmatch(text):
        raise _number_problem(name, text, "a whole number of 0 or more")
    number = int(text)
    if number > MAX_WHOLE_NUMBER:
        raise _LineProblem(f"the {name} {text} is too large")
    return number


def _columns(header: list[str]) -> list[str]:
    """The header's column names; trailing unnamed columns (spreadsheets add them) are dropped."""
    names = [cell.strip().lower() for cell in header]
    while names and not names[-1]:
        names.pop()
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        raise _LineProblem("separate the columns with commas (this file seems to use semicolons or tabs)")
    if "" in names:
        raise _LineProblem(f"column {names.index('') + 1} has no name; use {LAYOUTS}")
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        listed = ", ".join(f'"{name[:30]}"' for name in unknown)
        raise _LineProblem(f"unknown column{'s' if len(unknown) > 1 else ''} {listed}; use {LAYOUTS}")
    for name in names:
        if names.count(name) > 1:
            raise _LineProblem(f"the column {name} appears twice")
    if "date" not in names:
        raise _LineProblem(f"there is no date column; use {LAYOUTS}")
    fraction = [name for name in ("numerator", "denominator") if name in names]
    if len(fraction) == 1:
        missing = "denominator" if fraction == ["numerator"] else "numerator"
        raise _LineProblem(f"there is a {fraction[0]} column but no {missing} column")
    if "value" not in names and not fraction:
        raise _LineProblem(f"there is no value column, nor numerator and denominator columns; use {LAYOUTS}")
    return names


def _row(cells: dict[str, str]) -> dict[str, Any]:
    """One data row (every column of the header present) as a dict for ``data_points_add``."""
    if not cells["date"]:
        raise _LineProblem("the date is missing")
    row: dict[str, Any] = {"date": parse_date(cells["date"])}
    value, numerator, denominator = (cells.get(name, "") for name in ("value", "numerator", "denominator"))
    if value and (numerator or denominator):
        raise _LineProblem("give a value or a numerator and denominator, not both")
    if value:
        row["value"] = _decimal("value", value)
    elif numerator and denominator:
        row["numerator"], row["denominator"] = _whole("numerator", numerator), _whole("denominator", denominator)
        if row["denominator"] == 0:
            raise _LineProblem("the denominator must be more than 0")
        if row["numerator"] > row["denominator"]:
            raise _LineProblem(f"the numerator ({numerator}) is larger than the denominator ({denominator})")
    elif numerator or denominator:
        raise _LineProblem(f"the {'denominator' if numerator else 'numerator'} is missing")
    elif "numerator" not in cells:
        raise _LineProblem("the value is missing")
    elif "value" not in cells:
        raise _LineProblem("the numerator and denominator are missing")
    else:
        raise _LineProblem("give a value, or a numerator and a denominator")
    if "note" in cells:
        if len(cells["note"]) > MAX_NOTE_LENGTH:
            raise _LineProblem(f"the note is longer than {MAX_NOTE_LENGTH} characters")
        row["note"] = cells["note"]
    return row


def parse_csv(content: str | bytes) -> ParsedFile:
    """Read a CSV file of data points; raise QIValidationError naming the file or every bad line (up to 20)."""
    text = _decoded(content)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: list[str] | None = None
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    line_of: dict[dt.date, int] = {}
    problems: dict[int, str] = {}
    count = end = 0
    stopped = False
    try:
        for record in reader:
            line, end = end + 1, reader.line_num  # a quoted cell may span lines: name its first
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue
            if columns is None:
                try:
                    columns = _columns(cells)
                except _LineProblem as problem:
                    raise line_errors({line: f"{problem}."}) from None
                continue
            count += 1
            if count > MAX_ROWS:
                _file_error(f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.")
            try:
                row = _checked_row(cells, columns, line_of, rows, lines)
            except _LineProblem as problem:
                problems[line] = f"{problem}."
                if len(problems) >= MAX_PROBLEMS:
                    stopped = True
                    break
                continue
            line_of[row["date"]] = line
            rows.append(row)
            lines.append(line)
    except csv.Error as exc:
        problems[end + 1] = f"the file cannot be read as CSV ({exc}): check the double quotes from this line on."
    if problems:
        raise line_errors(problems, stopped=stopped)
    if columns is None:
        _file_error(f"The file is empty: it needs a header row ({LAYOUTS}) and a row per date.")
    if not rows:
        _file_error("The file has a header but no data rows.")
    order = sorted(range(len(rows)), key=lambda i: rows[i]["date"])
    return ParsedFile([rows[i] for i in order], [lines[i] for i in order], fractions="value" not in rows[0])


def _checked_row(
    cells: list[str], columns: list[str], line_of: dict[dt.date, int], rows: list[dict], lines: list[int]
) -> dict[str, Any]:
    """A data row, checked against the header and against the rows before it."""
    if any(cells[len(columns) :]):
        raise _LineProblem(
            f"{len(cells)} cells but the header names {len(columns)} columns (write numbers without thousands "
            "separators, and put a note that has commas in double quotes)"
        )
    row = _row(dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=False)))
    if row["date"] in line_of:
        raise _LineProblem(f"{row['date'].isoformat()} is also on line {line_of[row['date']]}: one row per date")
    if rows and ("value" in row) != ("value" in rows[0]):
        given = {True: "a value", False: "a numerator and denominator"}
        raise _LineProblem(
            f"{given['value' in row]}, but line {lines[0]} gives {given['value' in rows[0]]}; use one layout for "
            "the whole file"
        )
    return row

"""Bulk-import CSV: parse, validate every row on its own, and render the error report. No I/O.

The header is exactly `firstName,lastName,email,tags` (case-insensitive, a UTF-8 BOM tolerated); tags
are separated by `;`. A row's problems are stable codes (`invalid_email`, `duplicate_in_file`, …) so the
error report and the tests can name them. The platform's input rules hold per row: a cell with a NUL
fails its row (`nul_character`; the NUL is dropped from what is kept for the report), and a name that
starts like a spreadsheet formula fails it too (`first_name_formula`, `last_name_formula`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shared.platform.validation import NUL, safe_cell, starts_like_formula

HEADER = ("firstname", "lastname", "email", "tags")
REPORT_HEADER = ("firstName", "lastName", "email", "tags", "error")
MAX_ROWS = 50_000
MAX_NAME = 100
MAX_EMAIL = 254
MAX_TAG = 60
MAX_TAGS_PER_ROW = 20
MAX_STORED_FIELD = 1000
"""Cells of a broken row are kept for the error report, cut to this length."""

# Deliberately stricter than RFC 5322: a dot-atom local part and a DNS host name with an alphabetic TLD,
# the shape every mail provider accepts. Quoted local parts and IP literals are refused.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?P<local>{_LOCAL})@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})")


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported (encoding, header, size); `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One data row: its 1-based number among the data rows, its cells, and what is wrong with it."""

    row_number: int
    first_name: str
    last_name: str
    email: str
    tags: str
    tag_names: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """The email as rows are compared and accounts looked up."""
        return normalize_email(self.email)

    @property
    def is_valid(self) -> bool:
        """Whether the row may be imported."""
        return not self.errors

    @property
    def error(self) -> str | None:
        """The row's problems as the error report shows them, or None."""
        return "; ".join(self.errors) if self.errors else None


def is_valid_email(value: str) -> bool:
    """Whether `value` is an email address of the plain shape we accept."""
    if len(value) > MAX_EMAIL:
        return False
    found = _EMAIL.fullmatch(value)  # not match(): "$" would let a trailing newline through
    return found is not None and len(found.group("local")) <= 64


def normalize_email(value: str) -> str:
    """The form emails are compared and stored in."""
    return value.strip().lower()


def split_tags(value: str) -> tuple[str, ...]:
    """Tag names of a `tags` cell: `;`-separated, trimmed, empty ones dropped, duplicates (any case) once."""
    names: list[str] = []
    seen: set[str] = set()
    for part in value.split(";"):
        name = part.strip()
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return tuple(names)


def decode(data: bytes) -> str:
    """The file as text: UTF-8, with or without a BOM."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFormatError("csv_encoding", "The file must be UTF-8 encoded.") from None


def parse(text: str) -> list[ParsedRow]:
    """Parse and validate the whole file; raise CsvFormatError when it cannot be imported at all."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or tuple(cell.strip().lower() for cell in header) != HEADER:
            raise CsvFormatError(
                "csv_header", "The first line must be exactly: firstName,lastName,email,tags"
            )
        records = [record for record in reader if any(cell.strip() for cell in record)]
    except csv.Error as exc:
        raise CsvFormatError("csv_malformed", f"The file is not valid CSV ({exc}).") from None
    if not records:
        raise CsvFormatError("csv_empty", "The file has a header but no rows.")
    if len(records) > MAX_ROWS:
        raise CsvFormatError("csv_too_many_rows", f"A file may have at most {MAX_ROWS} rows.")
    return validate(records)


def validate(records: Iterable[Sequence[str]]) -> list[ParsedRow]:
    """Validate each record on its own; a later row repeating an earlier valid row's email fails."""
    rows: list[ParsedRow] = []
    claimed: set[str] = set()
    for number, record in enumerate(records, start=1):
        row = _validate_one(number, record)
        if row.is_valid:
            if row.key in claimed:
                row = _with_errors(row, ("duplicate_in_file",))
            else:
                claimed.add(row.key)
        rows.append(row)
    return rows


def _validate_one(number: int, record: Sequence[str]) -> ParsedRow:
    has_nul = any(NUL in cell for cell in record)
    # Postgres stores no NUL: the cells kept for the report lose theirs, the row fails.
    cells = [cell.replace(NUL, "").strip() for cell in record]
    if len(cells) != len(HEADER):
        first, last, email, tags = (c[:MAX_STORED_FIELD] for c in [*cells, "", "", "", ""][:4])
        return ParsedRow(number, first, last, email, tags, errors=("wrong_column_count",))
    first_name, last_name, email, tags = cells
    errors: list[str] = ["nul_character"] if has_nul else []
    if len(first_name) > MAX_NAME:
        errors.append("first_name_too_long")
    if starts_like_formula(first_name):
        errors.append("first_name_formula")
    if len(last_name) > MAX_NAME:
        errors.append("last_name_too_long")
    if starts_like_formula(last_name):
        errors.append("last_name_formula")
    if not email:
        errors.append("email_missing")
    elif not is_valid_email(normalize_email(email)):
        errors.append("invalid_email")
    tag_names = split_tags(tags)
    if any(len(name) > MAX_TAG for name in tag_names):
        errors.append("tag_too_long")
    if len(tag_names) > MAX_TAGS_PER_ROW:
        errors.append("too_many_tags")
    cut = MAX_STORED_FIELD
    return ParsedRow(
        number, first_name[:cut], last_name[:cut], email[:cut], tags[:cut], tag_names, tuple(errors)
    )


def _with_errors(row: ParsedRow, errors: tuple[str, ...]) -> ParsedRow:
    return ParsedRow(
        row.row_number, row.first_name, row.last_name, row.email, row.tags, row.tag_names, row.errors + errors
    )


def unknown_tag_errors(tag_names: Iterable[str], known_lower: set[str]) -> tuple[str, ...]:
    """`unknown_tag:<name>` for each of a row's tags the community does not have (names compared in any case)."""
    return tuple(f"unknown_tag:{name}" for name in tag_names if name.lower() not in known_lower)


def with_unknown_tags(rows: Sequence[ParsedRow], known_lower: set[str]) -> list[ParsedRow]:
    """The rows, each valid one failing when it names a tag the community does not have."""
    checked = []
    for row in rows:
        errors = unknown_tag_errors(row.tag_names, known_lower) if row.is_valid else ()
        checked.append(_with_errors(row, errors) if errors else row)
    return checked


def render_report(rows: Iterable[Sequence[str]]) -> str:
    """The error report: the original columns plus `error`, every cell formula-safe, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_filename(original: str, job_id: str) -> str:
    """A safe download name for a job's error report, from the uploaded file's name where possible."""
    stem = original.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem[:-4] if stem.lower().endswith(".csv") else stem
    stem = _FILENAME_UNSAFE.sub("_", stem).strip("._-")[:80]
    return f"{stem or 'import-' + job_id[:8]}-errors.csv"

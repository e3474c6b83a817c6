"""Bulk-import CSV parsing and validation, and the error report: pure functions, no I/O."""

from __future__ import annotations

import pytest

from shared.identity.onboarding.csv_rows import (
    MAX_ROWS,
    CsvFormatError,
    decode,
    is_valid_email,
    parse,
    render_report,
    report_filename,
    safe_cell,
    split_tags,
    with_unknown_tags,
)

HEADER = "firstName,lastName,email,tags\n"


def errors_of(text: str) -> list[str | None]:
    return [row.error for row in parse(text)]


def test_valid_rows_keep_their_cells_and_tag_names() -> None:
    (row,) = parse(HEADER + "Ada, Lovelace ,Ada@Example.com,Sales; ops ;;Sales\n")
    assert (row.row_number, row.first_name, row.last_name, row.email, row.tags) == (
        1,
        "Ada",
        "Lovelace",
        "Ada@Example.com",
        "Sales; ops ;;Sales",
    )
    assert row.key == "ada@example.com"
    assert row.tag_names == ("Sales", "ops")
    assert row.is_valid and row.error is None


@pytest.mark.parametrize(
    "header",
    ["firstName,lastName,email,tags", "FIRSTNAME,lastname,Email,TAGS", "\ufefffirstName,lastName,email,tags"],
    ids=["exact", "any-case", "bom"],
)
def test_header_is_accepted_in_any_case_and_with_a_bom(header: str) -> None:
    assert errors_of(header + "\nA,B,a@example.com,\n") == [None]


def test_bom_in_the_raw_bytes_is_tolerated() -> None:
    assert errors_of(decode(b"\xef\xbb\xbf" + HEADER.encode() + b"A,B,a@example.com,\n")) == [None]


@pytest.mark.parametrize(
    "header",
    [
        "email,firstName,lastName,tags",
        "firstName,lastName,email",
        "firstName,lastName,email,tags,extra",
        "name,email",
    ],
)
def test_any_other_header_refuses_the_whole_file(header: str) -> None:
    with pytest.raises(CsvFormatError) as raised:
        parse(header + "\nA,B,a@example.com,\n")
    assert raised.value.code == "csv_header"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "csv_header"),
        (HEADER, "csv_empty"),
        (HEADER + "\n\n , , , \n", "csv_empty"),
        (HEADER + 'A,"B,a@example.com,\n', "csv_malformed"),
    ],
    ids=["nothing", "header-only", "blank-rows-only", "open-quote"],
)
def test_unusable_files_are_refused_with_their_code(text: str, code: str) -> None:
    with pytest.raises(CsvFormatError) as raised:
        parse(text)
    assert raised.value.code == code


def test_non_utf8_file_is_refused() -> None:
    with pytest.raises(CsvFormatError) as raised:
        decode(HEADER.encode() + "Zoë,B,z@example.com,\n".encode("latin-1"))
    assert raised.value.code == "csv_encoding"


def test_too_many_rows_refuse_the_whole_file() -> None:
    text = HEADER + "".join(f"A,B,u{i}@example.com,\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(CsvFormatError) as raised:
        parse(text)
    assert raised.value.code == "csv_too_many_rows"


def test_each_row_is_validated_on_its_own() -> None:
    text = HEADER + "\n".join(
        [
            "Ada,Lovelace,ada@example.com,",
            "Bad,Email,not-an-email,",
            "No,Email,,",
            "X" * 101 + ",Y,long@example.com,",
            "Few,Columns,few@example.com",
            "Too,Many,many@example.com,t,extra",
            "Tag,Long,tag@example.com," + "t" * 61,
            "Tags,Many,many-tags@example.com," + ";".join(f"t{i}" for i in range(21)),
            "Grace,Hopper,grace@example.com,Sales",
        ]
    )
    assert errors_of(text) == [
        None,
        "invalid_email",
        "email_missing",
        "first_name_too_long",
        "wrong_column_count",
        "wrong_column_count",
        "tag_too_long",
        "too_many_tags",
        None,
    ]


def test_a_row_can_have_several_problems() -> None:
    assert errors_of(HEADER + "X" * 101 + "," + "Y" * 101 + ",nope,\n") == [
        "first_name_too_long; last_name_too_long; invalid_email"
    ]


def test_later_rows_repeating_an_email_fail_as_duplicates_in_any_case() -> None:
    text = (
        HEADER
        + "A,One,dup@example.com,\nB,Two,DUP@example.com,\nC,Three,other@example.com,\nD,Four,dup@example.com,\n"
    )
    assert errors_of(text) == [None, "duplicate_in_file", None, "duplicate_in_file"]


def test_an_invalid_row_does_not_claim_its_email() -> None:
    text = HEADER + "X" * 101 + ",One,dup@example.com,\nB,Two,dup@example.com,\n"
    assert errors_of(text) == ["first_name_too_long", None]


@pytest.mark.parametrize(
    "email",
    ["ada@example.com", "a.b+tag@sub.example.co.uk", "o'brien@example.ie", "x_y-z@ex-ample.io"],
)
def test_plain_addresses_are_valid(email: str) -> None:
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "plain",
        "@example.com",
        "a@",
        "a@example",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@-example.com",
        "a@example.c",
        "a b@example.com",
        '"quoted"@example.com',
        "a@[127.0.0.1]",
        "a@example.com\n",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_odd_addresses_are_invalid(email: str) -> None:
    assert not is_valid_email(email)


def test_tags_split_on_semicolons_trimmed_and_deduplicated() -> None:
    assert split_tags(" Sales ;sales; ;Ops;") == ("Sales", "Ops")
    assert split_tags("") == ()


def test_tags_the_community_lacks_fail_the_row_naming_each() -> None:
    rows = parse(HEADER + "A,B,a@example.com,Sales;Ghost;Phantom\nC,D,c@example.com,sales\nE,F,bad,Ghost\n")
    checked = with_unknown_tags(rows, {"sales"})
    assert [r.error for r in checked] == ["unknown_tag:Ghost; unknown_tag:Phantom", None, "invalid_email"]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Ada", "Ada"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_cells_that_start_like_formulas_are_prefixed_with_a_quote(cell: str, safe: str) -> None:
    assert safe_cell(cell) == safe


def test_report_repeats_original_columns_with_error_and_quotes_as_csv() -> None:
    report = render_report([("=cmd", "O'Brien, Jr", "bad", "a;b", "invalid_email")])
    assert report == (
        "firstName,lastName,email,tags,error\r\n'=cmd,\"O'Brien, Jr\",bad,a;b,invalid_email\r\n"
    )


@pytest.mark.parametrize(
    ("original", "name"),
    [
        ("people.csv", "people-errors.csv"),
        ("../../etc/passwd", "passwd-errors.csv"),
        ('we"ird name;.CSV', "we_ird_name-errors.csv"),
        ("...", "import-12345678-errors.csv"),
        ("C:\\Users\\ada\\Q3 staff.csv", "Q3_staff-errors.csv"),
    ],
)
def test_report_filename_is_safe(original: str, name: str) -> None:
    assert report_filename(original, "12345678-aaaa") == name


@pytest.mark.parametrize("first", ['=HYPERLINK("http://evil.example/x","click")', "+1", "-x", "@SUM(A1)"])
def test_row_whose_first_name_starts_like_a_formula_fails(first: str) -> None:
    (row,) = parse(HEADER + f'"{first.replace(chr(34), chr(34) * 2)}",Lovelace,ada@example.com,\n')
    assert row.errors == ("first_name_formula",)
    assert row.first_name == first  # kept as sent for the report, which neutralises it


def test_row_whose_last_name_starts_like_a_formula_fails_and_others_pass() -> None:
    rows = parse(HEADER + "Ada,=1+1,ada@example.com,\nGrace,Hopper,grace@example.com,\n")
    assert [row.errors for row in rows] == [("last_name_formula",), ()]


def test_row_with_a_nul_character_fails_and_keeps_no_nul() -> None:
    rows = parse(HEADER + "Ada\x00,Lovelace,ada@example.com,\nGrace,Hopper,grace@example.com,x\x00y\n")
    assert [row.errors for row in rows] == [("nul_character",), ("nul_character",)]
    assert rows[0].first_name == "Ada" and rows[1].tags == "xy"
    assert not any("\x00" in cell for row in rows for cell in (row.first_name, row.tags))

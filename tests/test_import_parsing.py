"""The follower import's row parser as pure Python: no database, only a byte stream in and
rows or line-numbered problems out (what an operator reads when a file is refused)."""

import io
from datetime import UTC, datetime

import pytest

from accounts.imports import FIELD_LIMITS, ImportHeaderInvalid, Limits, RowProblem, parse_rows
from accounts.imports.parsing import Problems

HEADER = "openid,nickname,tags,subscribed_at\n"


def parse(body: str | bytes, *, limits: Limits = FIELD_LIMITS, keep: int = 20, progress=None):
    """(rows as (line, openid, nickname, tags, subscribed_at, subscribed), the problems as printed, how many)."""
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    problems = Problems(keep)
    rows = list(parse_rows(io.BytesIO(data), problems=problems, limits=limits, name="followers.csv", progress=progress))
    return rows, [str(p) for p in problems.first], problems.count


def test_a_good_file_parses_to_rows_with_their_line_numbers():
    rows, problems, count = parse(
        "\ufeff"  # the byte-order mark spreadsheet programs write
        + " OpenID , Nickname,TAGS,subscribed_at\n"  # the header ignores case and spaces
        + "oA1,Alice,vip|beijing,2024-03-01\n"
        + "oB2, Bob 小明 ,,2024-03-01T09:30:00+00:00\n"
        + "\n"  # a blank line is no row
        + 'oC3,"Carol, Jr.", vip | new |vip|,2024-03-01 09:30\n'  # a quoted field holding a comma
        + "oD4,Dan,,"  # a last line without its line end
    )

    assert (problems, count) == ([], 0)
    assert rows == [
        (2, "oA1", "Alice", "vip|beijing", datetime(2024, 3, 1), True),  # naive: the platform zone's wall clock
        (3, "oB2", "Bob 小明", "", datetime(2024, 3, 1, 9, 30, tzinfo=UTC), True),
        (5, "oC3", "Carol, Jr.", "vip|new", datetime(2024, 3, 1, 9, 30), True),  # tags cleaned
        (6, "oD4", "Dan", "", None, True),  # empty: the writer uses now; no subscribed column: following
    ]


def test_the_optional_subscribed_column_reads_1_0_true_false_yes_no_and_empty_as_1():
    rows, problems, count = parse(
        "openid,nickname,tags,subscribed_at,Subscribed\n"
        "a,,,,1\nb,,,,0\nc,,,, True \nd,,,,false\ne,,,,YES\nf,,,,no\ng,,,,\nh,,,,2\ni,,,\n"
    )
    assert [(r[1], r[5]) for r in rows] == [
        ("a", True), ("b", False), ("c", True), ("d", False), ("e", True), ("f", False), ("g", True)]
    assert (problems, count) == ([
        "line 9: subscribed '2' is not one of 1/0, true/false, yes/no (empty means 1)",
        "line 10: has 4 columns; expected 5 (openid,nickname,tags,subscribed_at,subscribed)",
    ], 2)


def test_a_header_only_file_has_no_rows_and_progress_reaches_its_end():
    seen = []
    rows, problems, count = parse(HEADER, progress=seen.append)

    assert (rows, problems, count) == ([], [], 0)
    assert seen == [len(HEADER)]


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "open_id,name\no1,A\n",
            "Line 1 of followers.csv must be the header openid,nickname,tags,subscribed_at "
            "(optionally followed by ,subscribed); found 'open_id,name'.",
        ),
        ("", "followers.csv is empty: its first line must be the header openid,nickname,tags,subscribed_at "
             "(optionally followed by ,subscribed)."),
        (b"openid,nickn\xe4me,tags,subscribed_at\n", "Line 1 of followers.csv is not valid UTF-8; save the file as UTF-8."),
    ],
    ids=["wrong", "empty", "not-utf8"],
)
def test_a_bad_header_refuses_the_file(body, message):
    with pytest.raises(ImportHeaderInvalid) as exc:
        parse(body)

    assert exc.value.code == "import_header_invalid"
    assert exc.value.message == message


def test_bad_rows_are_named_by_line_and_the_good_ones_still_parse():
    body = (
        HEADER.encode()
        + b"o1,Alice,,\n"  # line 2: good
        + b",Nobody,,\n"  # 3
        + b"o 3,Spaced,,\n"  # 4
        + b"x" * 65 + b",Long,,\n"  # 5
        + b"o5," + b"n" * 101 + b",,\n"  # 6
        + b"o6,Bad date,,2024-13-01\n"  # 7
        + b"o7,Old,,1969-12-31\n"  # 8
        + b"o8,Later,,2999-01-01T00:00:00+00:00\n"  # 9
        + b"o9,Few columns\n"  # 10
        + b"o10,Tagged," + b"t" * 31 + b",\n"  # 11
        + b"o11,Caf\xe9,,\n"  # 12: Latin-1, not UTF-8
        + b"o12,Nul\x00,,\n"  # 13
        + b"o13,Fine,,\n"  # 14: good
    )

    rows, problems, count = parse(body)

    assert [row[:2] for row in rows] == [(2, "o1"), (14, "o13")]
    assert count == 11
    assert problems == [
        "line 3: openid is missing",
        "line 4: openid 'o 3' contains a space (U+0020)",
        "line 5: openid is 65 characters long; at most 64 are allowed",
        "line 6: nickname is 101 characters long; at most 100 are allowed",
        "line 7: subscribed_at '2024-13-01' is not an ISO-8601 time",
        "line 8: subscribed_at '1969-12-31' is before 1970",
        "line 9: subscribed_at '2999-01-01T00:00:00+00:00' is in the future",
        "line 10: has 2 columns; expected 4 (openid,nickname,tags,subscribed_at)",
        f"line 11: tag '{'t' * 31}' is longer than 30 characters",
        "line 12: nickname is not valid UTF-8 (byte 0xe9); save the file as UTF-8",
        "line 13: nickname contains a NUL character (U+0000), which text columns cannot hold",
    ]


def test_the_limits_are_the_callers():
    rows, problems, _ = parse(HEADER + "o12345,Al,,\no1,Alice,,\no2,Al,long,\n", limits=Limits(openid=5, nickname=3, tag=3))

    assert rows == []
    assert problems == [
        "line 2: openid is 6 characters long; at most 5 are allowed",
        "line 3: nickname is 5 characters long; at most 3 are allowed",
        "line 4: tag 'long' is longer than 3 characters",
    ]


def test_a_repeated_openid_is_left_to_the_writer():
    """The parser sees one row at a time; the database step names the repeated line."""
    rows, problems, _ = parse(HEADER + "o1,Alice,,\no1,Again,,\n")

    assert [row[:3] for row in rows] == [(2, "o1", "Alice"), (3, "o1", "Again")]
    assert problems == []


def test_only_the_first_problems_are_kept_with_a_count_of_all():
    rows, problems, count = parse(HEADER + "".join(f"o{i},n,,yesterday\n" for i in range(25)))

    assert rows == []
    assert count == 25
    assert len(problems) == 20
    assert problems[0] == "line 2: subscribed_at 'yesterday' is not an ISO-8601 time"
    assert problems[-1].startswith("line 21: ")


def test_problems_found_later_are_merged_in_line_order_within_the_cap():
    problems = Problems(keep=3)
    for line in (4, 9):
        problems.add(line, "openid is missing")

    problems.merge([RowProblem(7, "openid 'o1' repeats line 2"), RowProblem(3, "openid 'o2' repeats line 2")], total=5)

    assert [str(p) for p in problems.first] == [
        "line 3: openid 'o2' repeats line 2",
        "line 4: openid is missing",
        "line 7: openid 'o1' repeats line 2",
    ]
    assert problems.count == 7


def test_a_quote_left_open_is_named_and_every_line_it_swallowed_is_counted():
    rows, problems, count = parse(
        HEADER
        + "o1,Alice,,\n"  # 2
        + 'o2,"Bob,,\n'  # 3: the quote is never closed
        + "o3,Carol,,\n"  # 4
        + "o4,Dan,,\n"  # 5
    )

    assert [row[1] for row in rows] == ["o1"]
    assert problems == [
        "line 3: has a quote that is not closed on its line: lines 3 to 5 read as one field "
        "(a field cannot hold a line break)"
    ]
    assert count == 3


def test_a_quote_closed_on_a_later_line_is_one_problem_over_those_lines():
    rows, problems, count = parse(HEADER + 'o1,"Carol\nJr.",,\no2,Dan,,\n')

    assert [row[1] for row in rows] == ["o2"]
    assert problems[0].startswith("line 2: has a quote that is not closed on its line: lines 2 to 3")
    assert count == 2


@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:59", "+14:30", "-12:30"])
def test_an_offset_no_time_zone_uses_is_a_bad_row(offset):
    rows, problems, _ = parse(HEADER + f"o1,Alice,,2024-03-01T09:30:00{offset}\no2,Bob,,2024-03-01T09:30:00+14:00\n")

    assert [row[1] for row in rows] == ["o2"]
    assert problems == [
        f"line 2: subscribed_at '2024-03-01T09:30:00{offset}' has an offset outside -12:00 to +14:00, "
        "the range of the world's time zones"
    ]


BROKEN_FILES = {
    "open quote mid-file": 'o1,A,,\n\no2,"B,,\no3,C,,\no4,D,,\n',
    "open quote on the last line": 'o1,A,,\no2,B,,\no3,"C,,\n',
    "open quote without a last line end": 'o1,A,,\no2,B,,"2024-03-01',
    "quoted line break": 'o1,"A\nB",,\no2,C,,\n',
    "blank lines and a short row": "\no1,A,,\n\n\no2\no3,C,,\n",
    "bad offset and bad text": "o1,A,,2024-03-01T00:00+16:00\no2,B\x1b[2J,,\no3,C,,\n",
    "a field too long": 'o1,A,,\no2,"' + "x" * 70_000 + '",,\no3,C,,\n',
}


@pytest.mark.parametrize("body", BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_every_data_line_is_a_row_or_a_problem(body):
    """Data lines: the lines after the header but blank ones between rows (a blank line a
    quote swallowed is one of the bad lines it names)."""
    problems = Problems()
    rows = list(parse_rows(io.BytesIO((HEADER + body).encode()), problems=problems, limits=FIELD_LIMITS))

    data_lines = sum(1 for line in body.splitlines() if line.strip())
    assert len(rows) + problems.count == problems.lines == data_lines

"""Shared machinery for the source parsers.

Every parser returns `Parsed`: the typed tables, the rows it could not parse (quarantine:
file, line, raw text, reason) and a line account that proves nothing was dropped:
rows kept + lines quarantined + blank lines == data lines in the file.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

# `rule` is NULL for a parser's rejects (stored as 'parse') and names the schema rule for a
# row that parsed but broke a row-level rule of its table's model (schemas.validate_rows).
QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line", pa.int64()),
        ("raw", pa.string()),
        ("reason", pa.string()),
        ("rule", pa.string()),
    ]
)

# A rating's Unix time must be a rating time: neither before 1995 (before MovieLens and
# MovieTweetings existed; a line cut off mid-number gives `9703`) nor after 2100 (an overflow
# that would not even fit a timestamp). Checked in SQL on the column `ts`.
RATING_TIME_PROBLEM_SQL = """CASE
    WHEN ts < 788918400 THEN 'timestamp ' || ts || ' is before 1995: not a rating time (a line cut off mid-number?)'
    WHEN ts > 4102444800 THEN 'timestamp ' || ts || ' is after 2100: not a rating time (an overflow)'
END"""


def empty_fields_sql(*columns: str, names: dict[str, str] | None = None) -> str:
    """SQL that names the first required column left empty on a line (NULL once typed), for
    `quarantine_where`: an empty required field quarantines its line with the line number."""
    names = names or {}
    whens = " ".join(f"WHEN {c} IS NULL THEN 'empty {names.get(c, c)}'" for c in columns)
    return f"CASE {whens} END"


# MovieLens and MovieTweetings ratings share their layout (user, movie, rating, Unix time in
# `ts`) and so these checks and output columns; only the movie id and the rating scale differ.
RATING_EMPTY_FIELDS_SQL = empty_fields_sql(
    "user_id", "movie_id", "rating", "ts", names={"ts": "timestamp"}
)
RATED_AT_COLUMNS_SQL = "ts AS rated_at_epoch, make_timestamp(ts * 1000000) AS rated_at"

# Quoting as in RFC 4180 (CSV): a field may be wrapped in '"', and a '"' inside it is doubled.
# Spread into `read_checked`/`read_delimited`: `**RFC4180_QUOTING`.
RFC4180_QUOTING = {"quote": '"', "escape": '"'}
# A CSV file with a header row (links.csv, movies_with_mentions.csv, the GoEmotions CSVs).
CSV_WITH_HEADER = {"delim": ",", "header": True, **RFC4180_QUOTING}


# Above this share of unparseable lines a file is structurally broken, not slightly dirty.
STRUCTURAL_FAILURE_FRACTION = 0.5


class SourceFormatError(ValueError):
    """A file that cannot be read as its format at all (names the file and the problem)."""


@dataclass
class LineAccount:
    file: str
    data_lines: int  # lines that should hold one record each (header excluded)
    blank_lines: int
    kept: int = 0
    quarantined: int = 0

    @property
    def balanced(self) -> bool:
        return self.kept + self.quarantined + self.blank_lines == self.data_lines


@dataclass
class Parsed:
    tables: dict[str, pa.Table]
    quarantine: dict[str, list[dict]] = field(default_factory=dict)  # table -> rows
    accounts: list[LineAccount] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)  # handled quirks, for metadata

    @classmethod
    def one_table(
        cls,
        name: str,
        table: pa.Table,
        quarantine: list[dict],
        accounts: list[LineAccount],
        notes: dict[str, object] | None = None,
    ) -> Parsed:
        """The usual result: one table, its rejects filed under the same name (named once, so
        the two cannot drift apart)."""
        return cls({name: table}, {name: quarantine}, accounts, notes if notes is not None else {})

    def quarantine_table(self, table: str) -> pa.Table:
        return pa.Table.from_pylist(self.quarantine.get(table, []), schema=QUARANTINE_SCHEMA)


def count_lines(path: Path, *, header: bool = False) -> tuple[int, int]:
    """(data lines, blank lines) of a text file, read in chunks (bounded memory)."""
    newlines = blank = 0
    carry = b"\n"  # a virtual newline before the file: an empty first line is blank too
    last = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
            buf = carry + chunk
            # A blank line starts after a newline and is empty or just "\r". Only positions
            # whose look-ahead is fully inside the buffer are judged; the rest carry over.
            blank += sum(1 for m in _BLANK.finditer(buf) if m.start() < len(buf) - 2)
            carry = buf[-2:]
    blank += sum(1 for _ in _BLANK.finditer(carry))
    if not last:
        return 0, 0
    lines = newlines + (0 if last == b"\n" else 1)
    return lines - (1 if header else 0), blank


_BLANK = re.compile(rb"\n(?=\r?\n)")


# The longest line any parser holds in memory; DuckDB's readers use the same limit. A longer
# line (a corrupt or hostile file) is quarantined without ever being read whole.
MAX_LINE_BYTES = 16 << 20


def bounded_lines(f, limit: int = MAX_LINE_BYTES):
    """(line number, bytes or None, length) for each line of a binary file; a line over
    `limit` bytes yields None and its length, read and dropped in chunks (bounded memory)."""
    line_no = 0
    while True:
        raw = f.readline(limit + 1)
        if not raw:
            return
        line_no += 1
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield line_no, raw, len(raw)
            continue
        length = len(raw)
        while raw and not raw.endswith(b"\n"):
            raw = f.readline(1 << 20)
            length += len(raw)
        yield line_no, None, length


def overlong_lines(path: Path, limit: int = MAX_LINE_BYTES) -> dict[int, int]:
    """{line number: length} of the lines longer than `limit` bytes, in one streaming pass
    (numpy finds the newlines, so a 1M-line file costs milliseconds)."""
    found: dict[int, int] = {}
    line_no, current = 1, 0  # 1-based line being read, its length so far
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if not len(ends):
                current += len(chunk)
                continue
            # content bytes of each line ending in this chunk (its "\n" not counted)
            lengths = np.diff(ends, prepend=-1) - 1
            lengths[0] += current
            for i in np.flatnonzero(lengths > limit):
                found[line_no + int(i)] = int(lengths[i])
            line_no += len(ends)
            current = len(chunk) - int(ends[-1]) - 1
    if current > limit:
        found[line_no] = current
    return found


def header_line(path: Path, label: str) -> str:
    """A file's first line, decoded, read in bounded memory: a header over the line limit is
    a wrong file, said clearly (not a MemoryError, not a column-count puzzle later)."""
    with open(path, "rb") as f:
        first = f.readline(MAX_LINE_BYTES + 1)
    if len(first) > MAX_LINE_BYTES:
        raise SourceFormatError(
            f"{label}: its header (line 1) is over the {MAX_LINE_BYTES:,}-byte line limit, "
            "so this is not the expected file. Check it (a truncated or wrong download, or "
            "another file under this name)."
        )
    return first.decode("utf-8", errors="replace").rstrip("\r\n")


def without_lines(path: Path, lines: set[int], dest: Path) -> Path:
    """A copy of `path` with the given lines emptied (numbering kept), streamed in chunks."""
    with open(path, "rb") as src, open(dest, "wb") as out:
        for line_no, raw, _ in bounded_lines(src):
            if line_no in lines:
                out.write(b"\n")
            else:
                out.write(raw)
    return dest


def quarantine_row(file: str, line: int | None, raw: str, reason: str) -> dict:
    return {"file": file, "line": line, "raw": raw[:4000], "reason": reason}


def overlong_reason(length: int) -> str:
    """Quarantine reason of a line over MAX_LINE_BYTES (its raw text is "": never read whole)."""
    return f"line of {length:,} bytes exceeds the {MAX_LINE_BYTES:,}-byte limit"


def reject(
    quarantine: list[dict],
    account: LineAccount,
    line: int | None,
    raw: str,
    reason: str,
    *,
    lines: int = 1,
) -> None:
    """Quarantine a record read by hand (JSON parsers) and count the `lines` it stood for, so
    the line account stays balanced."""
    quarantine.append(quarantine_row(account.file, line, raw, reason))
    account.quarantined += lines


def read_delimited(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    columns: dict[str, str],
    delim: str,
    header: bool = False,
    encoding: str = "utf-8",
    quote: str = "",
    escape: str = "",
    file_label: str | None = None,
) -> tuple[str, list[dict], LineAccount]:
    """Parse a delimited file with DuckDB into a temp table; rejected lines come back as
    quarantine rows with their line number and DuckDB's reason.

    Returns (temp table name, quarantine rows, line account).
    """
    label = file_label or path.name
    tag = uuid.uuid4().hex[:10]
    table, rej_table, rej_scan = f"parsed_{tag}", f"rejects_{tag}", f"scans_{tag}"
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    # DuckDB drops a line far over max_line_size without a reject row, after buffering it:
    # such lines are found first, quarantined here, and blanked in a streamed copy.
    overlong = overlong_lines(path)
    if header and 1 in overlong:  # no header, no columns: the whole file is unreadable
        raise SourceFormatError(
            f"{label}: its header (line 1) is {overlong[1]:,} bytes, over the "
            f"{MAX_LINE_BYTES:,}-byte line limit, so this is not the expected {delim!r}-"
            "separated file with a header. Check the file (a truncated or wrong download, or "
            "another file under this name)."
        )
    source, scratch = path, None
    if overlong:
        scratch = Path(tempfile.mkdtemp(prefix="reelreason-parse-"))
        source = without_lines(path, set(overlong), scratch / path.name)
    try:
        con.execute(
            f"""CREATE TEMP TABLE {table} AS SELECT * FROM read_csv(?, delim = ?, header = ?,
                    encoding = ?, quote = ?, escape = ?, columns = {cols}, auto_detect = false,
                    strict_mode = true, null_padding = false, ignore_errors = true,
                    store_rejects = true, rejects_table = '{rej_table}',
                    rejects_scan = '{rej_scan}', max_line_size = {MAX_LINE_BYTES})""",
            [str(source), delim, header, encoding, quote, escape],
        )
    except duckdb.Error as exc:
        raise SourceFormatError(
            f"{label}: cannot be read as {delim!r}-separated text: {exc}"
        ) from None
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    rejects = con.execute(
        f"""SELECT line, any_value(csv_line) AS raw,
                   -- DuckDB may report several errors per line; the first column's is the cause
                   arg_min(error_type || ': ' || error_message, coalesce(column_idx, 0)) AS reason
            FROM {rej_table} GROUP BY line ORDER BY line"""
    ).fetchall()
    kept = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    data_lines, blank = count_lines(path, header=header)
    quarantine = [
        quarantine_row(label, int(line), raw or "", reason) for line, raw, reason in rejects
    ]
    quarantine += [
        # physical line number, as DuckDB reports its rejects
        quarantine_row(label, line, "", overlong_reason(length))
        for line, length in sorted(overlong.items())
    ]
    account = LineAccount(label, data_lines, blank, kept, len(quarantine))
    check_structure(account, quarantine, encoding=encoding)
    return table, quarantine, account


def check_structure(
    account: LineAccount, quarantine: list[dict], *, encoding: str = "utf-8"
) -> None:
    """Fail loudly when most of a file is unreadable: that is a wrong file, not dirty rows."""
    bad = account.quarantined
    total = account.data_lines - account.blank_lines
    if total <= 0 or bad <= total * STRUCTURAL_FAILURE_FRACTION:
        return
    first = quarantine[0] if quarantine else {"line": "?", "reason": "?"}
    hint = "wrong delimiter or column count"
    reasons = " ".join(q["reason"] for q in quarantine[:50])
    if "INVALID ENCODING" in reasons or "unicode" in reasons.lower():
        hint = f"the file is not valid {encoding} (wrong encoding)"
    elif "MISSING COLUMNS" in reasons or "TOO MANY COLUMNS" in reasons:
        hint = "wrong column count throughout"
    raise SourceFormatError(
        f"{account.file}: {bad} of {total} lines could not be parsed ({hint}). "
        f"First bad line {first['line']}: {first['reason']}. Check that this is the right file "
        "and that it is complete."
    )


def read_lines_at(path: Path, wanted: set[int], encoding: str = "utf-8") -> dict[int, str]:
    """Text of the given 1-based line numbers (used only on the rare quarantine path)."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    last = max(wanted)
    with open(path, "rb") as f:
        for number, raw, _ in bounded_lines(f):
            if number in wanted and raw is not None:
                found[number] = raw.rstrip(b"\r\n").decode(encoding, errors="replace")
            if number >= last:
                break
    return found


def _ends_without_newline(path: Path) -> bool:
    """Whether a non-empty file lacks its final newline (a download or copy cut off mid-line)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return False
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def quarantine_where(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    reason_sql: str,
    path: Path,
    account: LineAccount,
    quarantine: list[dict],
    header: bool = False,
    encoding: str = "utf-8",
) -> int:
    """Move rows of a parsed temp table whose `reason_sql` is not NULL into quarantine.

    The temp table keeps file order, so a row's line number is recovered by counting the
    lines the reader kept (skipping header, blank and already-rejected lines).
    """
    bad = con.execute(
        f"""SELECT rid, reason FROM (SELECT rowid AS rid, {reason_sql} AS reason FROM {table})
            WHERE reason IS NOT NULL ORDER BY rid"""
    ).fetchall()
    if not bad:
        return 0
    skipped = {q["line"] for q in quarantine if q["file"] == account.file}
    ordinals = {int(rowid): reason for rowid, reason in bad}
    line_of: dict[int, int] = {}
    with open(path, "rb") as f:
        kept_index = -1
        for number, raw, _ in bounded_lines(f):  # an overlong line is in `skipped` anyway
            if (header and number == 1) or number in skipped or not (raw or b"").strip(b"\r\n"):
                continue
            kept_index += 1
            if kept_index in ordinals:
                line_of[kept_index] = number
                if len(line_of) == len(ordinals):
                    break
    texts = read_lines_at(path, set(line_of.values()), encoding)
    # the last physical line: the account counts data lines, the header comes on top
    last = account.data_lines + int(header) if _ends_without_newline(path) else None
    for rowid, reason in ordinals.items():
        line = line_of.get(rowid)
        if line is not None and line == last:  # the file was probably cut off mid-line
            reason = f"truncated final line (no newline at the end of the file): {reason}"
        quarantine.append(quarantine_row(account.file, line, texts.get(line, ""), reason))
    con.execute(f"DELETE FROM {table} WHERE rowid IN ({', '.join(str(r) for r in ordinals)})")
    account.kept -= len(ordinals)
    account.quarantined += len(ordinals)
    quarantine.sort(key=lambda q: (q["file"], q["line"] or 0))
    return len(ordinals)


def read_checked(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    label: str,
    *,
    columns: dict[str, str],
    delim: str,
    reason_sql: str | None,
    header: bool = False,
    encoding: str = "utf-8",
    quote: str = "",
    escape: str = "",
) -> tuple[str, list[dict], LineAccount]:
    """`read_delimited`, then `quarantine_where(reason_sql)` on what it kept: the way every
    delimited file is parsed. One call, so the line numbering of rule-rejected rows always
    uses the same file, header and label as the reader. `reason_sql` None: no row rules.

    A rule-rejected row's raw text is decoded with the file's own encoding. Returns (temp table name, quarantine rows, line account), as `read_delimited`.
    """
    table, quarantine, account = read_delimited(
        con,
        path,
        columns=columns,
        delim=delim,
        header=header,
        encoding=encoding,
        quote=quote,
        escape=escape,
        file_label=label,
    )
    if reason_sql is not None:
        quarantine_where(
            con,
            table,
            reason_sql=reason_sql,
            path=path,
            account=account,
            quarantine=quarantine,
            header=header,
            encoding=encoding,
        )
    return table, quarantine, account


def detect_text_encoding(path: Path, declared: str) -> tuple[str, str | None]:
    """MovieLens is latin-1, but re-encoded UTF-8 copies circulate; read those as UTF-8
    rather than turning 'é' into 'Ã©'. Returns (encoding, note or None)."""
    data = path.read_bytes()
    if declared.lower() in {"latin-1", "latin1", "iso-8859-1"} and any(b > 0x7F for b in data):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return declared, None
        return "utf-8", f"{path.name} is UTF-8, not the upstream latin-1: read as UTF-8"
    return declared, None

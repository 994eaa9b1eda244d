"""Numeric CSV files with a header row, for the released layout (``datasets/``).

Reading checks the header (non-empty, unique names) and parses the body with numpy;
only after a failure is the file scanned again in Python, so every error names the
file and line (and column, or byte for text that is not UTF-8). Writing formats
whole chunks of rows at once.
"""

from __future__ import annotations

import codecs
import warnings

import numpy as np


# -- reading -----------------------------------------------------------------------
def _read_csv(path, root, dtype=np.float64, *, features=False):
    """Header names and data of one CSV file, or ValueError naming the line.

    ``features=True`` also rejects values that are infinite or beyond float32's
    range (features are stored as float32, where they would silently become inf).
    """
    shown = path.relative_to(root) if path.is_relative_to(root) else path
    if not path.is_file():
        raise ValueError(f"{shown}: file not found under {root}")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
            if not header.strip():
                raise ValueError(f"{shown}, line 1: empty file, expected a header row")
            names = [n.strip().strip('"') for n in header.rstrip("\r\n").split(",")]
            seen = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{shown}, line 1: duplicate column name {name!r}")
                seen.add(name)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "no data"
                    data = np.loadtxt(handle, delimiter=",", dtype=dtype, ndmin=2,
                                      comments=None)
            except UnicodeDecodeError:
                raise
            except ValueError:
                data = None
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, shown) from exc
    if data is None or (data.shape[0] and data.shape[1] != len(names)):
        _raise_bad_line(path, shown, len(names))
    if data.shape[0] == 0:
        raise ValueError(f"{shown}, line 2: header only, no data rows")
    if features:
        _check_csv_features_fit_float32(data, shown)
    return names, data


def _check_csv_features_fit_float32(data, shown):
    """ValueError naming the first infinite or float32-overflowing value."""
    limit = np.finfo(np.float32).max
    for start in range(0, data.shape[0], 65536):  # no full-size temporary
        part = data[start:start + 65536]
        bad = np.abs(part) > limit  # inf included; NaN compares False
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"{shown}, line {start + row + 2}, column {col + 1}: value "
                f"{float(part[row, col])!r} is infinite or beyond float32's range "
                f"(|x| <= {limit:.4g}); features are stored as float32"
            )


def _not_utf8(path, shown):
    """ValueError naming the first byte of ``path`` that is not UTF-8, and its line.

    The file is decoded again in binary chunks, so the offset counts from the start
    of the file (a text reader's error counts from its current buffer).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, newlines = 0, 0  # bytes and line breaks before the current chunk
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            pending = decoder.getstate()[0]  # incomplete sequence from the last chunk
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                position = offset - len(pending) + exc.start
                line = newlines - pending.count(b"\n") + data.count(
                    b"\n", 0, exc.start) + 1
                return ValueError(
                    f"{shown}, line {line}: not UTF-8 text ({exc.reason} at byte "
                    f"{position})"
                )
            if not chunk:
                break
            offset += len(chunk)
            newlines += chunk.count(b"\n")
    return ValueError(f"{shown}: not UTF-8 text")


def _raise_bad_line(path, shown, n_columns):
    """Find the first malformed line in Python (slow path, only after a failure)."""
    try:
        _find_bad_line(path, shown, n_columns)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, shown) from exc
    raise ValueError(f"{shown}: could not be parsed as numeric CSV")


def _find_bad_line(path, shown, n_columns):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        handle.readline()
        for line_no, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            cells = line.split(",")
            if len(cells) != n_columns:
                raise ValueError(
                    f"{shown}, line {line_no}: {len(cells)} values, the header has "
                    f"{n_columns} (ragged or truncated row)"
                )
            for col, cell in enumerate(cells, start=1):
                try:
                    float(cell)
                except ValueError:
                    hint = (
                        " (is the file comma-separated?)"
                        if ";" in cell or "\t" in cell
                        else ""
                    )
                    raise ValueError(
                        f"{shown}, line {line_no}, column {col}: non-numeric value "
                        f"{cell!r}{hint}"
                    ) from None


def _read_text_table(path, root):
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = [line.rstrip("\r\n").split(",") for line in handle
                     if line.strip()]
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, path.relative_to(root)) from exc
    if len(lines) < 2 or any(len(row) != 3 for row in lines):
        raise ValueError(f"{path.relative_to(root)}: expected a header and rows "
                         "'stimulus,start_row,n_rows'")
    return lines[0], lines[1:]


# -- writing -----------------------------------------------------------------------
def _write_rows(handle, array, float_format, index=None, chunk=4096):
    """Fast CSV body: one ``%`` format per chunk instead of one per row."""
    fields = [float_format] * array.shape[1] + (["%d"] if index is not None else [])
    row = ",".join(fields) + "\n"
    for start in range(0, array.shape[0], chunk):
        part = np.asarray(array[start:start + chunk], dtype=np.float64)
        if index is not None:
            part = np.column_stack([part, index[start:start + chunk]])
        handle.write((row * part.shape[0]) % tuple(part.ravel().tolist()))


def _as_id(text):
    """A receiver or stimulus id from text: an int when all digits."""
    return int(text) if text.isdigit() else text

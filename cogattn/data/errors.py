"""The one exception type raised for bad human data."""

from __future__ import annotations

import sys
import warnings
from os import PathLike
from pathlib import Path

__all__ = ["DataError", "DataWarning", "warn_data"]


class DataError(ValueError):
    """Malformed or inconsistent human data.

    The message always names where the problem is (file and record when known), the field
    and what was expected, e.g. ``"coco.json: record 12, field 'X': expected a list of
    numbers, got str"``.

    Parameters
    ----------
    message : str
        What was wrong and what was expected.
    path : str or path-like, optional
        The file the data came from.
    record : int or str, optional
        The record (trial, row, key) inside the file.
    field : str, optional
        The field or variable that is wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike | None = None,
        record: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.record = record
        self.field = field
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if record is not None:
            where.append(f"record {record!r}" if isinstance(record, str) else f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class DataWarning(UserWarning):
    """Human data were changed on load (e.g. fixations outside the image clipped).

    Filter it precisely with ``warnings.filterwarnings("ignore", category=DataWarning)`` or
    turn it into an error with ``"error"``.
    """


_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


def warn_data(message: str) -> None:
    """Emit a :class:`DataWarning` attributed to the first caller outside cogattn.

    The warning is about the user's data, so it points at the line of user code that asked
    for the data rather than at cogattn internals.
    """
    level = 1
    frame = sys._getframe(0)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, DataWarning, stacklevel=level)

"""Months of the simulated calendar.

A month is held as an integer index ``year * 12 + (month - 1)`` so that month arithmetic is
integer arithmetic; :func:`month_range` turns a span into ``numpy.datetime64`` labels.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")


def parse_month(value) -> int:
    """``'2024-12'``, ``'2024-12-08'`` or a date -> month index. Raises ``ValueError``."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.year * 12 + value.month - 1
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a month (expected YYYY-MM)")
    m = _MONTH.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a month (expected YYYY-MM)")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{value!r} has no month {month} (expected YYYY-MM)")
    if m.group(3) is not None:
        try:
            _dt.date(year, month, int(m.group(3)))
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date") from None
    return year * 12 + month - 1


def format_month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(start: int, end: int) -> np.ndarray:
    """Month labels from ``start`` to ``end`` inclusive, as ``datetime64[ns]`` (first of month)."""
    return np.array([f"{format_month(i)}-01" for i in range(start, end + 1)], dtype="datetime64[ns]")

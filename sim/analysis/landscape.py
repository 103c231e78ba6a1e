"""Axelrod–Bennett landscape theory on files of sizes and propensities (``geosim-landscape``).

The theory itself, and its use on simulated relations, lives in :mod:`sim.alignment`; this
module re-exports its public names.

``geosim-landscape --actors A.csv --propensity P.csv`` reads the format of
``shared/data/landscape_syria_2016`` and prints the local minima, lowest energy first.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np

from ..alignment import (  # noqa: F401  (the theory, used here and re-exported)
    EXACT_STATES,
    MAX_ACTORS,
    Alignment,
    affinity_matrix,
    alignment,
    alignment_rows,
    balance_index,
    configurations,
    energies,
    local_minima,
)
from ..errors import ConfigError, read_text

# --------------------------------------------------------------------------------------------
# Files and the command line
# --------------------------------------------------------------------------------------------

def _rows(path: Path) -> list[list[str]]:
    text = read_text(path, "CSV file", "a UTF-8 CSV file with a header row (docs/analysis.md)")
    rows = [[cell.strip() for cell in row] for row in csv.reader(text.splitlines())]
    return [r for r in rows if any(r)]


def _number(text: str, path: Path, where: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ConfigError(f"{path}: {where}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise ConfigError(f"{path}: {where}: {text!r} is not a finite number")
    return x


def read_actors(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Actor names and sizes from a CSV with the header ``id,actor,strength`` (``id`` optional)."""
    path = Path(path)
    rows = _rows(path)
    if not rows:
        raise ConfigError(f"{path}: empty file; expected a header id,actor,strength and one row per actor")
    header = [h.lower() for h in rows[0]]
    if "actor" not in header or "strength" not in header:
        raise ConfigError(f"{path}: header {','.join(rows[0])!r} lacks 'actor' and 'strength'; expected id,actor,strength")
    ia, js = header.index("actor"), header.index("strength")
    names, sizes = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ConfigError(f"{path}: line {line} has {len(row)} fields; the header has {len(header)}")
        name = row[ia]
        if not name:
            raise ConfigError(f"{path}: line {line}: empty actor name")
        if name in names:
            raise ConfigError(f"{path}: line {line}: actor {name!r} appears twice")
        size = _number(row[js], path, f"line {line}, strength")
        if size < 0:
            raise ConfigError(f"{path}: line {line}: strength {size:g} is negative; allowed: a number >= 0")
        names.append(name)
        sizes.append(size)
    if len(names) < 2:
        raise ConfigError(f"{path}: {len(names)} actor(s); at least 2 are needed")
    if len(names) > MAX_ACTORS:
        raise ConfigError(f"{path}: {len(names)} actors; allowed: at most {MAX_ACTORS}")
    return names, np.array(sizes)


def read_propensity(path: str | Path, n: int) -> tuple[list[str], np.ndarray]:
    """An n x n propensity matrix with row and column labels; the diagonal may be empty.

    Labels are matched to the actors by position (they may be abbreviations), but the row
    labels must repeat the column labels in the same order.
    """
    path = Path(path)
    rows = _rows(path)
    if not rows:
        raise ConfigError(f"{path}: empty file; expected a labelled {n} x {n} propensity matrix")
    labels = rows[0][1:]
    if len(labels) != n:
        raise ConfigError(f"{path}: header has {len(labels)} column labels; the actors file lists {n} actors")
    if len(rows) - 1 != n:
        raise ConfigError(f"{path}: {len(rows) - 1} matrix rows; expected {n} (one per actor)")
    p = np.zeros((n, n))
    for i, row in enumerate(rows[1:]):
        line = i + 2
        if len(row) != n + 1:
            raise ConfigError(f"{path}: line {line} has {len(row)} fields; expected a label and {n} values")
        if row[0] != labels[i]:
            raise ConfigError(f"{path}: line {line}: row label {row[0]!r} differs from column label {labels[i]!r}; "
                              "rows and columns must list the actors in the same order")
        for j, cell in enumerate(row[1:]):
            if i == j:
                if cell:
                    _number(cell, path, f"line {line}, diagonal")
                continue
            if not cell:
                raise ConfigError(f"{path}: line {line}, column {labels[j]!r}: empty; only the diagonal may be empty")
            p[i, j] = _number(cell, path, f"line {line}, column {labels[j]!r}")
    return labels, p


def format_minima(names: list[str], minima: list[Alignment]) -> str:
    w = max(len(f"{m.energy:,.1f}") for m in minima) if minima else 6
    lines = [f"{'rank':>4}  {'energy':>{w}}  bloc A | bloc B"]
    for k, m in enumerate(minima, start=1):
        a = ", ".join(m.members(names, 0))
        b = ", ".join(m.members(names, 1)) or "(empty)"
        lines.append(f"{k:>4}  {m.energy:>{w},.1f}  {a} | {b}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``geosim-landscape --actors A.csv --propensity P.csv``: local minima, lowest energy first."""
    parser = argparse.ArgumentParser(
        prog="geosim-landscape",
        description="Axelrod–Bennett landscape theory: the two-bloc configurations that are local minima of the "
                    "energy, lowest first (the first is the global minimum, the predicted alignment).")
    parser.add_argument("--actors", required=True, help="CSV with header id,actor,strength")
    parser.add_argument("--propensity", required=True,
                        help="CSV: labelled square matrix of pairwise propensities, diagonal empty")
    parser.add_argument("--neutral", type=float, default=3.0,
                        help="propensity meaning indifference (default 3 on the 1–5 scale)")
    args = parser.parse_args(argv)
    try:
        names, size = read_actors(args.actors)
        _labels, p = read_propensity(args.propensity, len(names))
        if not math.isfinite(args.neutral):
            raise ConfigError(f"--neutral {args.neutral}: not a finite number")
        minima = local_minima(size, p - args.neutral)
    except ConfigError as exc:
        print(f"geosim-landscape: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"{len(names)} actors, {2 ** (len(names) - 1)} configurations, {len(minima)} local minima "
          f"(energy = sum over ordered pairs of s_i s_j (p_ij - {args.neutral:g}) d_ij)")
    print(format_minima(names, minima))

"""Proper scores of ensemble forecasts against observations (CRPS from scoringrules).

For an observation with a value (a point), the forecast is the ensemble of the quantity:

- **CRPS** (continuous ranked probability score, ``scoringrules.crps_ensemble``): the CRPS of
  the ensemble's empirical distribution, ``E|X − y| − ½ E|X − X'|``, in the quantity's unit;
  0 for a perfect sharp forecast, lower is better (an ensemble of equal members scores |x − y|,
  as a point forecast does);
- **PIT** (probability integral transform): the share of the ensemble below the observation
  (ties count half); over many observations a calibrated forecast gives uniform PIT values;
- whether the value lies in the central **50%** and **90%** intervals of the ensemble.

For a binary fact (a direction, or a range with no value, e.g. ">11,000"), the forecast is the
probability that it holds (the share of replicates that agree) and its **Brier score**
``(1 − p)²`` (the fact happened): 0 is perfect, 0.25 is what a coin toss scores.

**Skill** against a reference forecast ``ref``: ``1 − Σ CRPS_i / s_i  /  Σ CRPS_ref,i / s_i``
over the observations both forecast, each divided by its scale ``s_i`` (its stated range, or
10% of the figure) so that drones and soldiers count alike. 1 is perfect, 0 is no better
than the reference, negative is worse. A point forecast (persistence) has CRPS = |x − y|.
"""

from __future__ import annotations

import numpy as np

from ..errors import require


def crps(observed: float, ensemble: np.ndarray) -> float:
    """CRPS of the ensemble's empirical distribution (scoringrules)."""
    sr = require("scoringrules", "analysis", "the CRPS")

    x = np.asarray(ensemble, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan")
    return float(sr.crps_ensemble(float(observed), x))


def crps_point(observed: float, forecast: float) -> float:
    """CRPS of a point forecast: the absolute error."""
    return abs(float(forecast) - float(observed))


def pit(observed: float, ensemble: np.ndarray) -> float:
    x = np.asarray(ensemble, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan")
    return float((np.count_nonzero(x < observed) + 0.5 * np.count_nonzero(x == observed)) / len(x))


def covered(observed: float, ensemble: np.ndarray, level: float) -> bool:
    """Is the observation inside the central ``level`` interval of the ensemble?"""
    x = np.asarray(ensemble, dtype=float)
    x = x[np.isfinite(x)]
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return bool(lo <= observed <= hi)


def brier(probability: float, outcome: bool = True) -> float:
    return float((probability - float(outcome)) ** 2)


def skill(scores: np.ndarray, reference: np.ndarray, scales: np.ndarray) -> float | None:
    """``1 − Σ s/scale / Σ ref/scale`` over the entries where both are finite; None if none are."""
    scores, reference, scales = (np.asarray(a, dtype=float) for a in (scores, reference, scales))
    ok = np.isfinite(scores) & np.isfinite(reference) & (scales > 0)
    if not ok.any():
        return None
    den = float(np.sum(reference[ok] / scales[ok]))
    if den == 0:
        return None
    return 1.0 - float(np.sum(scores[ok] / scales[ok])) / den

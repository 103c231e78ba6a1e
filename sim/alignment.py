"""Axelrod–Bennett landscape theory of aggregation: the blocs it predicts and structural balance.

Axelrod & Bennett (1993), "A landscape theory of aggregation", BJPS 23:211–233. Actors of
size ``s_i`` with pairwise propensities ``p_ij`` split into two blocs; ``d_ij = 1`` when ``i``
and ``j`` are in different blocs. With the affinity ``a_ij = p_ij - neutral`` (positive =
affinity, negative = antagonism) the frustration of actor ``i`` is
``F_i = sum_{j != i} s_j a_ij d_ij`` and the energy of a configuration is
``E = sum_i s_i F_i`` (every unordered pair counted from both sides). Predicted alignments are
the local minima of ``E`` (no single actor lowers ``E`` by switching blocs); the global minimum
is the prediction. Configurations are enumerated exhaustively (2^n, so n is limited to
:data:`MAX_ACTORS`).

Applied to the simulation (:func:`alignment`), each month and replicate: sizes are the states'
capability shares (``actors.<a>.cinc`` as the model holds them that month) and the affinity of
a pair is its composite alliance strength (−1…1; the 1–5 propensity scale with 3 neutral maps
to it as ``p = 3 + 2 x composite``, a scaling that leaves every minimum unchanged). The
predicted blocs are the global minimum; the structural-balance index is the share of triads of
states whose three composite relations multiply to a positive sign (Heider/Cartwright–Harary:
a friend of a friend is a friend, an enemy of an enemy is a friend).

The results layer records these per month (:mod:`sim.results`); ``geosim-landscape``
(:mod:`sim.analysis.landscape`) applies the theory to files of sizes and propensities.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

MAX_ACTORS = 16
"""Configurations are enumerated exhaustively: 2^16 of them still take well under a second."""


# --------------------------------------------------------------------------------------------
# The theory
# --------------------------------------------------------------------------------------------

def configurations(n: int, canonical: bool = True) -> np.ndarray:
    """Every assignment of ``n`` actors to bloc 0 or 1, shape (K, n), as 0/1 integers.

    Row ``c`` holds the bits of ``c`` (actor ``k`` is bit ``k``), so flipping actor ``k`` of
    configuration ``c`` gives configuration ``c ^ (1 << k)``. With ``canonical`` only the
    2^(n-1) rows with actor 0 in bloc 0 are returned: a configuration and its mirror image
    (blocs swapped) are the same alignment.
    """
    if not 1 <= n <= MAX_ACTORS:
        raise ConfigError(f"landscape: {n} actors; allowed: 1 to {MAX_ACTORS} (configurations are enumerated)")
    k = np.arange(2 ** (n - 1) if canonical else 2**n)
    return ((k[:, None] << 1 if canonical else k[:, None]) >> np.arange(n)) & 1


def energies(configs: np.ndarray, size: np.ndarray, affinity: np.ndarray) -> np.ndarray:
    """Energy of each configuration (rows of 0/1 bloc labels), ``E = sum_{i != j} s_i s_j a_ij d_ij``.

    ``size`` has shape (..., n) and ``affinity`` (..., n, n) with leading batch axes (e.g.
    replicates); the result has shape (..., K). The diagonal of ``affinity`` is ignored.
    """
    size = np.asarray(size, dtype=float)
    a = np.asarray(affinity, dtype=float)
    n = a.shape[-1]
    w = size[..., :, None] * size[..., None, :] * a  # (..., n, n); the diagonal meets d_ii = 0
    b = np.asarray(configs)
    apart = (b[:, :, None] != b[:, None, :]).reshape(len(b), n * n).astype(float)  # d_ij per configuration
    return w.reshape(*w.shape[:-2], n * n) @ apart.T


@dataclass(frozen=True)
class Alignment:
    """One configuration: the blocs (0/1 per actor, actor 0 in bloc 0) and its energy."""

    blocs: tuple[int, ...]
    energy: float

    def members(self, names: list[str], bloc: int) -> list[str]:
        return [n for n, b in zip(names, self.blocs, strict=True) if b == bloc]


def local_minima(size, affinity) -> list[Alignment]:
    """Every configuration that no single actor can improve by switching blocs, lowest first.

    A configuration and its mirror image count once (actor 0 is put in bloc 0). Ties between
    energies are broken by the configuration's bit pattern, so the order is deterministic.
    """
    size = np.asarray(size, dtype=float)
    n = size.shape[0]
    configs = configurations(n, canonical=False)
    e = energies(configs, size, affinity)
    scale = max(1.0, float(np.abs(e).max()))
    index = np.arange(len(configs))
    is_min = np.ones(len(configs), dtype=bool)
    for k in range(n):
        is_min &= e[index ^ (1 << k)] >= e - 1e-9 * scale
    found = [c for c in index[is_min] if configs[c, 0] == 0]
    found.sort(key=lambda c: (round(float(e[c]), 9), c))
    return [Alignment(tuple(int(x) for x in configs[c]), float(e[c])) for c in found]


# --------------------------------------------------------------------------------------------
# Applied to the simulation
# --------------------------------------------------------------------------------------------

def affinity_matrix(composite: np.ndarray, pairs: list[tuple[int, int]], n: int) -> np.ndarray:
    """Symmetric (..., n, n) matrix from per-dyad values (..., D) over ``pairs`` (i, j)."""
    composite = np.asarray(composite, dtype=float)
    out = np.zeros((*composite.shape[:-1], n, n))
    i = np.array([p[0] for p in pairs])
    j = np.array([p[1] for p in pairs])
    out[..., i, j] = composite
    out[..., j, i] = composite
    return out


EXACT_STATES = 12
"""Up to this many states the simulation's blocs are the exact global minimum (2^(n-1) configurations)."""


def alignment(composite: np.ndarray, capability: np.ndarray, pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Predicted blocs and structural balance of the states, per replicate.

    composite : (R, D) composite alliance strength of each dyad (−1…1)
    capability : (R, A) size of each state (its capability share)
    pairs : the dyads as index pairs (i, j) into the A states

    Returns ``blocs`` (R, A) with 0 = the first state's bloc, 1 = the other (the landscape's
    global minimum; with more than :data:`EXACT_STATES` states, the local minimum reached by
    single-state moves from the split of the leading eigenvector), and ``balance`` (R,), the
    share of balanced triads (1 when there are fewer than three states).
    """
    composite = np.asarray(composite, dtype=float)
    capability = np.asarray(capability, dtype=float)
    n = capability.shape[-1]
    if n > EXACT_STATES:
        aff = affinity_matrix(composite, pairs, n)
        return _descend(capability[..., :, None] * capability[..., None, :] * aff), balance_index(aff)
    lead = np.broadcast_shapes(composite.shape[:-1], capability.shape[:-1])
    composite = np.broadcast_to(composite, (*lead, composite.shape[-1]))
    capability = np.broadcast_to(capability, (*lead, n))
    blocs, balance = alignment_rows(composite.reshape(-1, composite.shape[-1]).T,
                                    capability.reshape(-1, n).T, pairs)
    return blocs.T.reshape(*lead, n), balance.reshape(lead)


@functools.lru_cache(maxsize=32)
def _layout(n: int, pairs: tuple[tuple[int, int], ...]):
    """What :func:`alignment_rows` needs of the actors and dyads alone (cached per model layout):
    the configurations, the dyads' states, which dyads each configuration splits (per dyad, a
    (K, 1) mask over the configurations) and the dyads of each triad of states."""
    configs = configurations(n)  # (K, n)
    i = np.array([a for a, _ in pairs], dtype=np.intp)
    j = np.array([b for _, b in pairs], dtype=np.intp)
    splits = (configs[:, i] != configs[:, j]).T[:, :, None]  # (D, K, 1)
    dyad = {frozenset(p): d for d, p in enumerate(pairs)}
    triads = [[dyad[frozenset(e)] for e in ((a, b), (b, c), (a, c)) if frozenset(e) in dyad]
              for a, b, c in itertools.combinations(range(n), 3)]
    # each triad's dyads, padded with D (a row of no relation, positive): (triads, 3)
    triad_dyads = np.array([t + [len(pairs)] * (3 - len(t)) for t in triads], dtype=np.intp).reshape(-1, 3)
    return configs, i, j, splits, triad_dyads


def alignment_rows(composite: np.ndarray, capability: np.ndarray,
                   pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`alignment` for arrays with the replicates last, as the model holds them.

    composite (D, R), capability (A, R), in their own float type; returns blocs (A, R) and
    balance (R,). Up to :data:`EXACT_STATES` states it works per dyad: the energy of a configuration
    is the sum of ``s_i s_j a_ij`` over the dyads it splits (half of ``E``, the same minima),
    added dyad by dyad (the same sums for any number of replicates).
    """
    if capability.shape[0] > EXACT_STATES:
        blocs, balance = alignment(composite.T, capability.T, pairs)
        return blocs.T, balance
    configs, i, j, splits, triads = _layout(capability.shape[0], tuple(map(tuple, pairs)))
    w = capability[i] * capability[j] * composite  # (D, R)
    energy = np.zeros((len(configs), *w.shape[1:]), dtype=w.dtype)  # configuration 0 splits nothing
    for d, split in enumerate(splits):  # element by element, in dyad order, whatever R is
        np.add(energy, w[d], out=energy, where=split)
    best = np.argmin(energy, axis=0)  # ties keep the first configuration
    blocs = np.take(configs.T, best, axis=1)  # (n, R)
    if not len(triads):
        return blocs, np.ones(w.shape[1:])
    negative = np.zeros((len(composite) + 1, *composite.shape[1:]), dtype=np.uint8)
    np.less(composite, 0, out=negative[:-1])  # a pair that is not a dyad has no relation: counts as positive
    odd = np.add.reduce(negative[triads], axis=1) & np.uint8(1)  # (triads, R)
    return blocs, (len(triads) - odd.sum(axis=0, dtype=np.int16)) / len(triads)


def _descend(w: np.ndarray) -> np.ndarray:
    """A local minimum of E for each (n, n) weight matrix in ``w`` (R, n, n), actor 0 in bloc 0."""
    n = w.shape[-1]
    w = 0.5 * (w + np.swapaxes(w, -1, -2))
    w = w * (1.0 - np.eye(n))
    _, vectors = np.linalg.eigh(w)
    b = (vectors[..., -1] < 0).astype(int)  # friends share the sign of the leading eigenvector
    rows = np.arange(w.shape[0])
    for _ in range(n * n):
        apart = b[:, :, None] != b[:, None, :]
        gain = 2.0 * (w * np.where(apart, -1.0, 1.0)).sum(axis=-1)  # change of E when actor k switches
        k = np.argmin(gain, axis=-1)
        move = gain[rows, k] < -1e-12
        if not move.any():
            break
        b[rows[move], k[move]] ^= 1
    return b ^ b[:, :1]


def balance_index(affinity: np.ndarray) -> np.ndarray:
    """Share of triads (i < j < k) with a_ij x a_jk x a_ik > 0 (zero counts as positive)."""
    n = affinity.shape[-1]
    triads = list(itertools.combinations(range(n), 3))
    if not triads:
        return np.ones(affinity.shape[:-2])
    sign = np.where(affinity >= 0, 1, -1)
    t = np.array(triads)
    product = sign[..., t[:, 0], t[:, 1]] * sign[..., t[:, 1], t[:, 2]] * sign[..., t[:, 0], t[:, 2]]
    return (product > 0).mean(axis=-1)

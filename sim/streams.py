"""Random streams that do not depend on how replicates are grouped into models.

Replicates are numbered ``0 .. N-1`` and grouped into fixed **blocks** of ``ensemble.block``
replicates (block ``b`` holds replicates ``b*block .. (b+1)*block - 1``). Every random number
comes from a stream keyed by the run's seed, a purpose and the block::

    SeedSequence(seed, spawn_key=(purpose, key, block))   # == SeedSequence(seed).spawn(...)

``purpose`` is the month for the model's monthly noise, a parameter for sampled parameters and
an event for uncertain events. Inside a stream, replicate ``j`` of the block reads row ``j`` of
the draw; numpy fills arrays row by row, so row ``j`` is the same whether the draw has ``j + 1``
rows or a full block. Hence:

- a model holding any range of replicates gets the same numbers for each of them, so chunk
  size, worker count and "one model per replicate" do not change the results (chunks are cut
  on block boundaries so that nothing is drawn twice);
- the first ``N`` replicates of a larger ensemble are an ensemble of ``N``;
- two scenarios run with the same seed share their random numbers (common random numbers).

Changing ``ensemble.block`` changes which numbers each replicate gets (not their distribution).
"""

from __future__ import annotations

import zlib

import numpy as np

MONTH, PARAMETER, EVENT = 0, 1, 2
"""Purposes of the streams (first element of the spawn key)."""


def seed_sequence(rng) -> np.random.SeedSequence:
    """The root of all streams: from an int, a SeedSequence, a Generator (its seed) or None."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        seq = getattr(rng.bit_generator, "seed_seq", None)
        if isinstance(seq, np.random.SeedSequence):
            return seq
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.SeedSequence(rng)
    raise TypeError(f"rng must be a seed (int), a numpy SeedSequence or Generator, not {type(rng).__name__}")


def name_key(name: str) -> int:
    """A stable 32-bit key for a parameter path or an event id."""
    return zlib.crc32(name.encode("utf-8"))


class ReplicateStreams:
    """The random numbers of replicates ``first .. first + count - 1`` of an ensemble.

    Parameters
    ----------
    seed : the root ``SeedSequence`` of the ensemble
    first, count : the replicates this model holds
    block : replicates per block (``ensemble.block``)
    """

    def __init__(self, seed: np.random.SeedSequence, first: int, count: int, block: int):
        if first < 0 or count < 1 or block < 1:
            raise ValueError(f"replicates {first}..{first + count - 1} with block {block}")
        self.seed, self.first, self.count, self.block = seed, int(first), int(count), int(block)
        self._entropy = seed.entropy
        self._prefix = tuple(seed.spawn_key)
        self._pool = seed.pool_size
        # (block index, first row inside the block, end row inside the block, where the rows go)
        self.pieces: list[tuple[int, int, int, int]] = []
        r, end = self.first, self.first + self.count
        while r < end:
            b = r // block
            lo, hi = r - b * block, min(end - b * block, block)
            self.pieces.append((b, lo, hi, r - self.first))
            r += hi - lo

    def generator(self, purpose: int, key: int, block: int) -> np.random.Generator:
        seq = np.random.SeedSequence(self._entropy, spawn_key=(*self._prefix, purpose, key, block),
                                     pool_size=self._pool)
        return np.random.Generator(np.random.PCG64(seq))

    def draw(self, purpose: int, key: int, width: int, sample) -> np.ndarray:
        """Rows of ``sample(generator, rows, width)`` for this model's replicates, shape (count, width)."""
        out = None
        for b, lo, hi, at in self.pieces:
            rows = sample(self.generator(purpose, key, b), hi, width)[lo:hi]
            if out is None:
                out = np.empty((self.count, *rows.shape[1:]), dtype=rows.dtype)
            out[at:at + hi - lo] = rows
        return out

    def uniform(self, purpose: int, key: int, width: int, dtype=np.float64) -> np.ndarray:
        """Uniform numbers in [0, 1), shape (count, width)."""
        return self.draw(purpose, key, width, lambda g, n, w: g.random((n, w), dtype=dtype))

    def normal(self, month: int, width: int) -> np.ndarray:
        """The month's standard normal noise, shape (width, count): replicates last, as the model
        holds its arrays; float32 (Box–Muller).

        Replicate ``j`` gets column ``j``, made from row ``j`` of the block's draw of raw 64-bit
        words (each word gives two 32-bit uniforms; their top 23 bits become a float in
        [1, 2) by setting the exponent, no division). Box–Muller on these does the same work
        for every number (no rejection step) in whole-array numpy operations; its tails stop at 5.6 standard deviations,
        which the model's noise never needs.
        """
        half = (width + 1) // 2
        bits = np.empty((2 * half, self.count), dtype=np.uint32)
        for b, lo, hi, at in self.pieces:  # each block's rows, written transposed (one copy)
            words = self.generator(MONTH, month, b).bit_generator.random_raw(hi * half).reshape(hi, half)
            bits[:, at:at + hi - lo] = words[lo:hi].view(np.uint32).T
        bits >>= np.uint32(9)
        bits |= np.uint32(0x3F800000)  # exponent of 1.0: floats in [1, 2)
        u = bits.view(np.float32)
        radius = np.subtract(np.float32(2.0), u[:half], out=u[:half])  # 1 - uniform, in (0, 1]
        np.log(radius, out=radius)
        radius *= np.float32(-2.0)
        np.sqrt(radius, out=radius)
        angle = u[half:]
        angle -= np.float32(1.0)
        angle *= np.float32(2.0 * np.pi)
        out = np.empty((2 * half, self.count), dtype=np.float32)
        np.cos(angle, out=out[:half])
        np.sin(angle, out=out[half:])
        out[:half] *= radius
        out[half:] *= radius
        return out[:width]

"""Storage benchmark: size, write and read time of one run's results in several formats.

    .venv/bin/python benchmarks/storage.py [--replicates 200] [--repeat 3] [--zarr]

Runs the default scenario once (``ensemble.replicates``, full mode), then writes the Dataset
in each format to a temporary folder and reads it back (``xarray.load_dataset``): netCDF3
(scipy, uncompressed), netCDF4/HDF5 through h5netcdf with zlib and the byte shuffle, lossless
and at the documented precision that ``sim.results.save`` uses (bounded variables as 16-bit
integers of 0.0001, the others rounded to 12 mantissa bits), and, with ``--zarr`` (needs
``pip install zarr``), a zarr v3 directory store with zstd, the same two ways. Prints a table (medians of ``--repeat`` runs) and, last, one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import xarray as xr  # noqa: E402

import sim  # noqa: E402
from sim import results  # noqa: E402


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _zarr_write(ds: xr.Dataset, path: Path, lossless: bool) -> None:
    from zarr.codecs import BloscCodec

    ds, enc = results.prepare(ds, lossless)
    encoding = {}
    for name, e in enc.items():
        e = {k: v for k, v in e.items() if k in ("dtype", "scale_factor", "add_offset", "_FillValue")}
        encoding[name] = {**e, "compressors": [BloscCodec(cname="zstd", clevel=5, shuffle="shuffle")]}
    ds.to_zarr(path, mode="w", encoding=encoding, consolidated=False, zarr_format=3)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--zarr", action="store_true", help="also measure zarr (pip install zarr)")
    args = ap.parse_args(argv)
    ds = sim.simulate("baseline", [f"ensemble.replicates={args.replicates}"])
    formats = {
        "netcdf3 (scipy, uncompressed)": (".nc", lambda d, p: d.to_netcdf(p, engine="scipy"), "scipy"),
        "netcdf4 deflate4+shuffle, lossless": (".nc", lambda d, p: results.save(d, p, lossless=True), "h5netcdf"),
        "netcdf4 deflate4+shuffle, default precision": (".nc", lambda d, p: results.save(d, p), "h5netcdf"),
    }
    if args.zarr:
        formats["zarr v3 zstd5+shuffle, lossless"] = (".zarr", lambda d, p: _zarr_write(d, p, True), "zarr")
        formats["zarr v3 zstd5+shuffle, default precision"] = (".zarr", lambda d, p: _zarr_write(d, p, False), "zarr")
    rows = {}
    tmp = Path(tempfile.mkdtemp(prefix="geosim-storage-"))
    try:
        for label, (suffix, write, engine) in formats.items():
            w, r, size = [], [], 0
            for k in range(args.repeat):
                path = tmp / f"f{k}{suffix}"
                tic = time.perf_counter()
                write(ds, path)
                w.append(time.perf_counter() - tic)
                size = _size(path)
                tic = time.perf_counter()
                xr.load_dataset(path, engine=engine)
                r.append(time.perf_counter() - tic)
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            rows[label] = {"MB": round(size / 1e6, 2), "write_s": round(statistics.median(w), 3),
                           "read_s": round(statistics.median(r), 3)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.replicates} replicates, default scenario, medians of {args.repeat}")
    print(f"{'format':45s} {'MB':>8s} {'write s':>8s} {'read s':>8s}")
    for label, row in rows.items():
        print(f"{label:45s} {row['MB']:8.2f} {row['write_s']:8.3f} {row['read_s']:8.3f}")
    print(json.dumps({"replicates": args.replicates, "formats": rows}))


if __name__ == "__main__":
    main()

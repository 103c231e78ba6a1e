"""The analysts' toolkit: sweeps, calibration, sensitivity, scenario discovery, alignment.

Modules (each a thin layer over :func:`sim.run`; none is imported by the model's rules):

``sweep``        aggregation of a Hydra multirun folder into one tidy table and comparison plots
                 (``geosim-aggregate``, and the Hydra callback that runs it at the end of a sweep)
``calibrate``    the calibration loss: distance of a run from the numeric targets of patterns.md
``sensitivity``  global sensitivity analysis with SALib, Sobol or Morris (``geosim-sensitivity``)
``ema``          the EMA Workbench adapter and a PRIM scenario-discovery example (extra ``analysis``)
``landscape``    Axelrod–Bennett landscape theory on files of sizes and propensities (``geosim-landscape``)

They compare the scalar outcomes of :mod:`sim.outcomes`; the blocs and structural balance that
runs record come from :mod:`sim.alignment` (both sit in the results layer, below this package).

Only ``sensitivity`` (SALib) and ``ema`` (ema-workbench) need the optional extra ``analysis``;
the rest runs on the core dependencies (Parquet output needs pyarrow, else CSV only).
"""

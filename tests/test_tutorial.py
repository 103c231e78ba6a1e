"""docs/tutorial.ipynb runs from top to bottom without an error (a hindcast with its scores included), and git
holds it without outputs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


def test_tutorial_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_tutorial_runs_without_error(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # the kernel draws as Jupyter does
    try:
        start = time.monotonic()
        # raises CellExecutionError (with the cell and the traceback) on any error
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
        took = time.monotonic() - start
    finally:
        if env_backend is None:
            os.environ.pop("MPLBACKEND")
        else:
            os.environ["MPLBACKEND"] = env_backend
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # the channels, the fan chart, the crossing curve, the comparison, the hindcast's fan
    text = "".join(o.get("text", "") for o in outputs)
    assert "P(Russia–Iran military strength below -0.2 by 2028-12)" in text
    assert "known at 2023-12: ['A2-buildup-2023']; forecast: 15 facts" in text  # the hindcast section
    assert "crps_skill_vs_prior" in text and "brier" in text
    tables = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "A4-2024" in tables and "prior_crps" in tables  # the scores table, one row per scored fact
    assert took < 60, f"the tutorial took {took:.0f} s; keep it under a minute"
    print(f"tutorial executed in {took:.1f} s")

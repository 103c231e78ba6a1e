"""The layers run one way (the contract itself is checked by `lint-imports`, see pyproject.toml)."""

import os
import subprocess
import sys


def python(code: str, **env) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_the_model_imports_neither_hydra_nor_matplotlib():
    out = python("import sys, sim.model, sim.scenario, sim.settings\n"
                 "print(sorted(m for m in ('hydra', 'omegaconf', 'matplotlib') if m in sys.modules))")
    assert out == "[]"


def test_library_code_leaves_the_matplotlib_backend_to_its_user():
    """A notebook's inline backend survives importing the plotting modules and drawing."""
    out = python("import matplotlib\n"
                 "import sim, sim.plots, sim.analysis.plots, sim.analysis.abc, sim.analysis.hindcast\n"
                 "import sim.analysis.sweep, sim.analysis.sensitivity\n"
                 "print(matplotlib.get_backend())", MPLBACKEND="svg")
    assert out == "svg"

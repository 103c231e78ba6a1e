"""A missing optional extra is one line naming the extra and the command that installs it."""

import os
import subprocess
import sys

import pytest

from sim.errors import ConfigError, MissingExtra, require


def test_require_names_the_extra_and_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "SALib", None)  # import SALib now raises ImportError
    with pytest.raises(MissingExtra) as info:
        require("SALib", "analysis", "Sobol sensitivity analysis")
    message = str(info.value)
    assert isinstance(info.value, ConfigError) and "\n" not in message
    assert "'SALib'" in message and "'analysis'" in message and "pip install -e '.[analysis]'" in message
    assert require("numpy", "analysis", "x").__name__ == "numpy"


def test_a_sweep_on_a_launcher_that_is_not_installed_exits_2_with_one_line(tmp_path):
    code = ("import sys; sys.modules['hydra_plugins.hydra_joblib_launcher'] = None\n"
            "sys.argv = ['geosim', '-m', 'seed=0,1', 'hydra/launcher=joblib', 'hydra.sweep.dir=" + str(tmp_path / "s") + "']\n"
            "from sim.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if k != "GEOSIM_SKIP_PRECHECK"})
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "hydra-joblib-launcher" in lines[0] and "pip install -e '.[analysis]'" in lines[0]
    assert not (tmp_path / "s").exists()

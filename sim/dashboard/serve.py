"""``geosim-dashboard``: serve the dashboard on 127.0.0.1 and print its address.

    geosim-dashboard               # port 8765, or a free one if 8765 is taken
    geosim-dashboard --port 9000

It runs ``solara run sim/dashboard/app.py --production`` on the loopback interface only; the
page needs no internet (its scripts come from the ``solara-assets`` package).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8765
HOST = "127.0.0.1"


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there on the loopback interface, else any free port."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def command(port: int) -> list[str]:
    """The server command line (solara's own CLI, run by this Python)."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", HOST, "--port", str(port),
            "--production", "--no-open", "--log-level", "warning"]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # nothing leaves the machine
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")  # it covers the corner of the charts
    return env


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="geosim-dashboard", description=__doc__.split("\n")[0].split(": ", 1)[1])
    parser.add_argument("--port", type=int, default=None,
                        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}, or a free one if that is taken)")
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else free_port(DEFAULT_PORT)
    print(f"geosim dashboard: open http://{HOST}:{port}/ in a browser (Ctrl+C stops the server)", flush=True)
    server = subprocess.Popen(command(port), env=environment())
    signal.signal(signal.SIGTERM, _interrupt)  # stopping this command stops the server too
    try:
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    sys.exit(code)


if __name__ == "__main__":
    main()

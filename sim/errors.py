"""The one exception type of the public API, and the one reader of user text files.

This module imports nothing from sim: every layer may use it."""

from pathlib import Path


class ConfigError(ValueError):
    """Bad input: a configuration value, a scenario file, a path or a results file.

    The message is one line that names the file or key, the offending value and what is
    allowed. The command-line tools print it and exit with status 2.
    """


class MissingExtra(ConfigError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require(module: str, extra: str, what: str, package: str | None = None):
    """Import the optional dependency ``module`` that the extra ``extra`` installs, for ``what``.

    Missing, it raises :class:`MissingExtra` with one line naming the extra and the command that
    installs it (``make run`` installs every extra). ``package``: its name on PyPI, if that differs."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{what} needs the Python package {package or module.split('.')[0]!r}, which is in the optional extra "
                           f"'{extra}'; install it with: pip install -e '.[{extra}]' (or make run, which installs "
                           "every extra)") from None


def read_text(path: str | Path, what: str, allowed: str, *, name: str | None = None, max_bytes: int | None = None) -> str:
    """The text of the user file ``path`` (UTF-8; a leading byte-order mark is dropped).

    Every refusal is a :class:`ConfigError` of one line that starts with ``name`` (default: the
    path) and ends with ``allowed: <allowed>``: the file is missing, is not a file, cannot be
    read, is larger than ``max_bytes``, holds NUL bytes (a binary file) or is not UTF-8. ``what``
    names the kind of file in those messages (``"scenario file"``, ``"observation file"``)."""
    path = Path(path)
    name = str(path) if name is None else name
    tail = f"allowed: {allowed}"
    try:
        if max_bytes is not None and (size := path.stat().st_size) > max_bytes:
            raise ConfigError(f"{name}: the {what} is {size:,} bytes, more than the {max_bytes:,} allowed; {tail}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found; {tail}") from None
    except IsADirectoryError:
        raise ConfigError(f"{name}: a directory, not a {what}; {tail}") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the {what} ({exc.strerror or type(exc).__name__}); {tail}") from None
    if b"\x00" in data:
        raise ConfigError(f"{name}: not a text file (binary content: NUL bytes); {tail}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not a text file (not UTF-8 at byte {exc.start}); {tail}") from None

"""The one exception type of the public API."""


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

"""The one exception type of the public API."""


class ConfigError(ValueError):
    """Bad input: a configuration value, a scenario file, a path or a results file.

    The message is one line that names the file or key, the offending value and what is
    allowed. The command-line tools print it and exit with status 2.
    """

"""User-facing errors: the CLI prints them as one line and exits non-zero, never a traceback."""


class ScarError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class InputFileError(ScarError):
    """A file that cannot be read at all; the message names the file (and the record if known)."""

    def __init__(self, path: object, message: str, record: str | None = None) -> None:
        where = f"{path}" + (f" [{record}]" if record else "")
        super().__init__(f"{where}: {message}")
        self.path = path
        self.record = record


class BudgetExhausted(ScarError):
    """A cost or request budget was reached; the build stops cleanly and a rerun continues."""

"""The exceptions floodseg raises.

Every failure floodseg reports is a :class:`Error`; the message is the command line's.
Bad parameters and bad input are also :class:`ValueError` (a wrong dtype also
:class:`TypeError`), so code written against NumPy's conventions catches them too.
"""

from __future__ import annotations

__all__ = [
    "Error",
    "ParameterError",
    "InputError",
    "DtypeError",
    "LimitError",
    "BackendError",
    "FileError",
    "InterruptedError",
    "CheckError",
]


class Error(Exception):
    """Base class of every floodseg error."""


class ParameterError(Error, ValueError):
    """A parameter is unknown, out of range or inconsistent (exit code 2 on the CLI)."""


class InputError(Error, ValueError):
    """The image or labels cannot be processed: wrong shape, NaN in a float image, …"""


class DtypeError(InputError, TypeError):
    """The array's element type is not one floodseg reads."""


class LimitError(Error):
    """The image exceeds a limit (of the device, of the label type, of memory)."""


class BackendError(Error):
    """The backend asked for cannot run here (no GPU adapter, …)."""


class FileError(Error, OSError):
    """A file could not be read or written."""


class InterruptedError(Error):  # noqa: A001 - floodseg's own, a subclass of floodseg.Error
    """The work was stopped before it was done."""


class CheckError(Error):
    """A check found a likely wrong answer (the CLI's --strict)."""

"""The exceptions of geo_p4gn: one small hierarchy, each a ValueError.

Messages name the row, the field and the reason, so that a field team can fix the input.
"""


class P4gnError(ValueError):
    """Base class of every error geo_p4gn raises on purpose."""


class BoundaryDataError(P4gnError):
    """The boundary files are missing, corrupted or do not match the official code list."""


class LocationError(P4gnError):
    """A coordinate cannot be placed in a DKI Jakarta kelurahan."""


class OutsideJakartaError(LocationError):
    """A point lies outside DKI Jakarta (including Kepulauan Seribu)."""


class SwappedCoordinatesError(LocationError):
    """Latitude and longitude were given the wrong way round."""


class ValidationError(P4gnError):
    """A record or a row of an import failed validation."""


class ConflictError(P4gnError):
    """The same id was written twice with different content."""


class NotFoundError(P4gnError):
    """No record with that id. Not a ``KeyError`` (which would print its message in quotes, and be caught by
    code that looks a key up in a dict)."""


class PermissionDenied(P4gnError):
    """The current user's role does not allow this action. Not an ``OSError`` (``PermissionError``): an
    ``except OSError`` around a file write must never swallow a refusal."""


class FaultError(P4gnError):
    """The disk, the file system or a store file failed: a full disk, a read-only file or mount, a damaged
    store or backup. The message names the file and what to do; the CLI exits with status 1 (``exit_status``)
    instead of 2, the status of input that geo_p4gn refused."""

    exit_status = 1


def os_fault(exc: OSError, *, doing: str = "") -> FaultError:
    """A :class:`FaultError` for an operating-system error, naming the file and what to do about it.

    >>> import errno
    >>> str(os_fault(OSError(errno.ENOSPC, "No space left on device", "/mnt/out.csv"), doing="writing"))
    'the disk holding /mnt/out.csv is full (writing: No space left on device): free space on that disk, or choose a file on another disk, and run the command again'
    """
    import errno

    name = exc.filename if exc.filename is not None else "a file"
    what = f"{doing}: {exc.strerror or exc}" if doing else str(exc.strerror or exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        msg = (f"the disk holding {name} is full ({what}): free space on that disk, or choose a file on another "
               "disk, and run the command again")
    elif exc.errno == errno.EROFS:
        msg = f"{name} is on a read-only file system ({what}): choose a writable place, or remount it read-write"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        msg = f"{name} cannot be used by this user ({what}): fix its permissions or choose another file"
    elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
        msg = f"{name} does not exist ({what}): check the path"
    elif exc.errno == errno.EIO:
        msg = f"the disk failed while {doing or 'using'} {name} ({exc.strerror}): check the disk, then run the command again"
    else:
        msg = f"{name}: {what}"
    return FaultError(msg)

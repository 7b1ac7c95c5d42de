# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that hold tokens: read without following links, written atomically, kept in private directories (internal to the collection).

Whoever can plant a symbolic link where a token is kept could otherwise make
the collection read a token of theirs, or write a token into a file they read;
with a FIFO, they could make it wait for ever.

A writer killed at any moment leaves the old file or the new one, whole, and
at most a private temporary copy beside it, which the next write removes
(``remove_stale_temporaries``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import tempfile
import time

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError


# What a path holds when it is not a regular file, as messages say it.
_KINDS = ((stat.S_ISDIR, 'a directory'), (stat.S_ISFIFO, 'a FIFO'), (stat.S_ISSOCK, 'a socket'),
          (stat.S_ISCHR, 'a device'), (stat.S_ISBLK, 'a device'))


def _not_a_regular_file(path, option, mode):
    """The error for ``path``, whose ``st_mode`` is ``mode`` (None when unknown), when it is not a regular file."""
    kind = next((name for is_kind, name in _KINDS if mode is not None and is_kind(mode)), 'a special file')
    return UnicoreError('%s: %s is %s, not a regular file; remove it (only a regular file is kept as a token file)'
                        % (option, path, kind))


def open_private(path, option, owner=None):
    """A read-only descriptor of the regular file at ``path``, never through a symbolic link; None when there is no file.

    With ``owner``, the uid the file must belong to: in a directory other users
    can write to, a file of theirs could hold a token of their choosing.
    """
    try:
        # O_NOFOLLOW on the descriptor itself: a check before open() could be raced.
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer, for ever.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_NOFOLLOW', 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnicoreError('%s: %s is a symbolic link; remove it (token files are never read through links)' % (option, path))
        if exc.errno == errno.ENXIO:
            # What open() says of a socket: there is no descriptor to ask what it is.
            raise _not_a_regular_file(path, option, _lstat_mode(path))
        raise UnicoreError('%s: cannot read %s: %s' % (option, path, exc.strerror))
    try:
        _check_opened(descriptor, path, option, owner)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _check_opened(descriptor, path, option, owner):
    # Asked of the descriptor, so whatever is at the path by now cannot pass for what was opened.
    try:
        status = os.fstat(descriptor)
    except OSError as exc:
        raise UnicoreError('%s: cannot read %s: %s' % (option, path, exc.strerror))
    if not stat.S_ISREG(status.st_mode):
        raise _not_a_regular_file(path, option, status.st_mode)
    if owner is not None and status.st_uid != owner:
        raise UnicoreError('%s: %s belongs to uid %d; in a directory other users can write to, only a file of your own '
                           '(uid %d) is kept, since its owner could put a token of their choosing in it'
                           % (option, path, status.st_uid, owner))


def _lstat_mode(path):
    try:
        return os.lstat(path).st_mode
    except OSError:
        return None


def read_private(path, option, max_bytes=None, owner=None):
    """The bytes of the regular file at ``path`` (see ``open_private``); None when there is no file.

    With ``max_bytes``, at most ``max_bytes + 1`` bytes are read: enough for the
    caller to tell a file that is too long, without reading all of it.
    """
    descriptor = open_private(path, option, owner)
    if descriptor is None:
        return None
    try:
        with os.fdopen(descriptor, 'rb') as handle:
            return handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnicoreError('%s: cannot read %s: %s' % (option, path, exc.strerror))


class FileWriteError(UnicoreError):
    """A private file could not be written; ``errno`` says why (``no_room``: the file system is full, or the quota used up)."""

    def __init__(self, message, error_number=None):
        super().__init__(message)
        self.errno = error_number

    @property
    def no_room(self):
        return self.errno in NO_ROOM


# What a full file system or a used-up quota says.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)
# How old an empty, unlocked temporary file must be before it counts as left
# behind: its writer creates it, then locks it at once, before any byte.
EMPTY_TEMPORARY_GRACE = 60
# mkstemp's names: the prefix, eight characters of its alphabet, the suffix.
_TEMPORARY_NAME = re.compile(r'^\.(?P<name>.+)\.[a-z0-9_]{8}\.(?:tmp|probe)$')


class StagedFile:
    """A complete, synced temporary copy of ``data`` beside ``path``, with ``mode``, until ``commit`` renames it into place.

    The copy is locked (flock) from before its first byte until it is renamed
    or discarded, so that ``remove_stale_temporaries`` can tell the copy of a
    live writer from one that a killed writer left behind: the lock dies with
    its process. The mode is set on the descriptor before any byte is written,
    whatever the umask, so the data is never readable by more than ``mode``
    allows. OSError on failure, and then nothing is left behind.
    """

    def __init__(self, path, data, mode, suffix='.tmp'):
        self.path = path
        directory, name = os.path.split(path)
        self._descriptor, self.temporary = tempfile.mkstemp(dir=directory, prefix='.%s.' % name, suffix=suffix)
        try:
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
            os.fchmod(self._descriptor, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(self._descriptor, view):]
            # On disk before the rename: after a crash the name holds the old data or the new, never a hole.
            os.fsync(self._descriptor)
        except BaseException:
            self.discard()
            raise

    def commit(self):
        """Rename the copy to ``path``: rename() replaces the name itself, never the target of a link at ``path``."""
        os.replace(self.temporary, self.path)
        self._close()

    def discard(self):
        """Remove the copy (when it was not renamed) and let go of it."""
        try:
            if self._descriptor is not None:
                os.unlink(self.temporary)
        except FileNotFoundError:
            pass
        finally:
            self._close()

    def _close(self):
        if self._descriptor is not None:
            os.close(self._descriptor)  # and with it the lock
            self._descriptor = None


def stage_private(path, data, mode):
    """A ``StagedFile`` of ``data`` for ``path``, with ``mode``: the caller commits or discards it."""
    return StagedFile(path, data, mode)


def sync_directory(directory):
    """Put the renames in ``directory`` on disk, so that a power cut after a write cannot bring the old name back.

    Best effort: the rename is done by now and cannot be undone, and some file
    systems do not sync directories (EINVAL); a reader sees the new file anyway.
    """
    try:
        descriptor = os.open(directory, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_private(path, data, mode, option, remove_stale=True):
    """Replace the file at ``path`` with ``data`` and ``mode`` atomically: a reader sees the old file or the new one.

    Copies a killed writer left beside ``path`` are removed first, unless
    ``remove_stale`` is False: for a caller that has just swept the whole
    directory itself (the token cache does when it is opened), since the sweep
    lists the directory, which costs in proportion to its entries. FileWriteError,
    naming ``option``, the path and the cause, when it cannot be written.
    """
    if remove_stale:
        remove_stale_temporaries(os.path.dirname(path), os.path.basename(path))
    staged = None
    try:
        staged = stage_private(path, data, mode)
        staged.commit()
    except OSError as exc:
        if staged is not None:
            staged.discard()
        raise FileWriteError('%s: cannot write %s: %s' % (option, path, exc.strerror), exc.errno)
    sync_directory(os.path.dirname(path))


def remove_stale_temporaries(directory, name=None):
    """Remove the temporary copies that killed writers left in ``directory``; how many were removed.

    Only the copies of ``name`` (its ``.tmp`` and ``.probe`` files, and those of
    names that begin with it, such as its ``.site`` record), or every one with
    ``name`` None; only regular files of this user's; only those no live
    writer holds (see ``StagedFile``), and an empty one only after
    ``EMPTY_TEMPORARY_GRACE`` seconds, since its writer may not have locked it yet.
    Whatever cannot be checked or removed is left as it is.
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    removed = 0
    for entry in names:
        match = _TEMPORARY_NAME.match(entry)
        if match and (name is None or (match.group('name') + '.').startswith(name + '.')):
            removed += _remove_if_stale(os.path.join(directory, entry))
    return removed


def _remove_if_stale(path):
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_NOFOLLOW', 0))
    except OSError:
        return False  # gone, a link (never followed nor removed), or unreadable
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live writer holds it
        status = os.fstat(descriptor)
        if status.st_size == 0 and time.time() - status.st_mtime < EMPTY_TEMPORARY_GRACE:
            return False
        # Still the file that was checked: its writer may have renamed it into place and let go of it since.
        current = os.lstat(path)
        if (current.st_dev, current.st_ino) != (status.st_dev, status.st_ino):
            return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)


def ensure_private_directory(path, option, create=True, mode=0o700):
    """Make sure ``path`` is a directory that only this user can change, creating it with ``mode`` when ``create``."""
    if os.path.islink(path):
        # Whoever can change the link chooses where the files go.
        raise UnicoreError('%s: %s is a symbolic link; give the directory itself (private directories are never reached through links)'
                           % (option, path))
    if os.path.lexists(path) and not os.path.isdir(path):
        raise UnicoreError('%s: %s is not a directory' % (option, path))
    try:
        if create:
            os.makedirs(path, mode=mode, exist_ok=True)
        status = os.lstat(path)
    except OSError as exc:
        if not create and exc.errno == errno.ENOENT:
            raise UnicoreError('%s: directory %s does not exist' % (option, path))
        if create:
            raise FileWriteError('%s: cannot create %s: %s' % (option, path, exc.strerror), exc.errno)
        raise UnicoreError('%s: cannot reach %s: %s' % (option, path, exc.strerror))
    # Checked again on what lstat saw: the path may have changed since the first checks.
    if not stat.S_ISDIR(status.st_mode):
        raise UnicoreError('%s: %s is not a directory' % (option, path))
    if status.st_uid != os.getuid():
        raise UnicoreError('%s: %s belongs to another user; a private directory must be your own' % (option, path))
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnicoreError('%s: %s is writable by other users (mode %o); make it %04o'
                           % (option, path, stat.S_IMODE(status.st_mode), mode))


class FileLock:
    """An exclusive flock on the lock file ``path``, held for a ``with`` block (or from ``acquire`` to ``release``); errors name ``option``.

    A lock dies with its process: a run that was killed while holding it never
    keeps the next one waiting. The lock file itself stays, empty.
    """

    def __init__(self, path, option):
        self.path = path
        self.option = option
        self._descriptor = None

    def acquire(self):
        try:
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        except OSError as exc:
            raise FileWriteError('%s: cannot lock %s: %s' % (self.option, self.path, exc.strerror), exc.errno)
        fcntl.flock(self._descriptor, fcntl.LOCK_EX)

    def release(self):
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)
        self._descriptor = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()
        return False

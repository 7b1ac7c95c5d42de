# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that hold tokens: read without following links, written atomically, kept in private directories (internal to the collection).

Whoever can plant a symbolic link where a token is kept could otherwise make
the collection read a token of theirs, or write a token into a file they read;
with a FIFO, they could make it wait for ever.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile

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


def stage_private(path, data, mode):
    """A complete, synced temporary copy of ``data`` beside ``path``, with ``mode``; returns its path.

    The mode is set on the descriptor before any byte is written, whatever the
    umask, so the data is never readable by more than ``mode`` allows. OSError
    on failure, and then nothing is left behind.
    """
    directory, name = os.path.split(path)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix='.%s.' % name, suffix='.tmp')
    try:
        with os.fdopen(descriptor, 'wb') as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        os.unlink(temporary)
        raise
    return temporary


def write_private(path, data, mode, option):
    """Replace the file at ``path`` with ``data`` and ``mode`` atomically: a reader sees the old file or the new one.

    rename() replaces the name itself, never the target of a link at ``path``.
    """
    temporary = None
    try:
        temporary = stage_private(path, data, mode)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None and os.path.lexists(temporary):
            os.unlink(temporary)
        raise UnicoreError('%s: cannot write %s: %s' % (option, path, exc.strerror))


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
        raise UnicoreError('%s: cannot %s %s: %s' % (option, 'create' if create else 'reach', path, exc.strerror))
    # Checked again on what lstat saw: the path may have changed since the first checks.
    if not stat.S_ISDIR(status.st_mode):
        raise UnicoreError('%s: %s is not a directory' % (option, path))
    if status.st_uid != os.getuid():
        raise UnicoreError('%s: %s belongs to another user; a private directory must be your own' % (option, path))
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnicoreError('%s: %s is writable by other users (mode %o); make it %04o'
                           % (option, path, stat.S_IMODE(status.st_mode), mode))


class FileLock:
    """An exclusive flock on the lock file ``path``, held for a ``with`` block; errors name ``option``."""

    def __init__(self, path, option):
        self.path = path
        self.option = option
        self._descriptor = None

    def __enter__(self):
        try:
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        except OSError as exc:
            raise UnicoreError('%s: cannot lock %s: %s' % (self.option, self.path, exc.strerror))
        fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)
        return False

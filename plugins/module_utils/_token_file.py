# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A token kept in a file, written atomically (internal to the collection).

The file holds the bare token, so that any program can use it. What the module
learnt when it issued the token (the site URL and the issuing DN) is kept beside
it in ``<dest>.site``, so that a later run can tell, without a request, whether
the kept token comes from the site it is asked about.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._private_files import (
    FileWriteError,
    StagedFile,
    open_private,
    read_private,
    remove_stale_temporaries,
    stage_private,
    sync_directory,
)
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import check_token

SITE_SUFFIX = '.site'
# A token is a few KiB; anything much larger is not one.
MAX_TOKEN_BYTES = 64 * 1024
# Room enough for a new token and its record, tried before a token is issued.
ROOM_FOR_A_TOKEN = 16 * 1024


def parse_mode(mode):
    """``mode`` as given in a playbook (``'0600'``, ``0o600`` or 384) as an int."""
    if isinstance(mode, int) and not isinstance(mode, bool):
        number = mode
    else:
        try:
            number = int(str(mode), 8)
        except ValueError:
            raise UnicoreError('mode must be an octal number such as "0600", got %r' % (mode,))
    if not 0 <= number <= 0o7777:
        raise UnicoreError('mode must be an octal number such as "0600", got %r' % (mode,))
    return number


class TokenFile:
    """The token file at ``path`` and its ``.site`` record, never kept in a directory other users could change."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(str(path)))
        self.site_path = self.path + SITE_SUFFIX

    def check_destination(self):
        """Fail, naming ``dest``, when the token could not be kept at this path."""
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise UnicoreError('dest: directory %s does not exist' % directory)
        owner = self._required_owner()
        if os.path.islink(self.path):
            raise UnicoreError('dest: %s is a symbolic link; give the path of the file itself '
                               '(token files are never written through links)' % self.path)
        if os.path.isdir(self.path):
            raise UnicoreError('dest: %s is a directory; give the path of a file' % self.path)
        # Only what is there now: reading and ensure_mode check again, on their own descriptors. The record is
        # checked when it is read (beside a kept token); beside a new token, the rename replaces whatever it is.
        descriptor = open_private(self.path, 'dest', owner)
        if descriptor is not None:
            os.close(descriptor)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UnicoreError('dest: cannot write to directory %s (permission denied)' % directory)
        # os.access says yes to root, and to file systems that refuse files
        # anyway (/proc, read-only mounts): try, before a token is issued for nothing.
        try:
            descriptor, probe = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(self.path), suffix='.probe')
            os.close(descriptor)
            os.unlink(probe)
        except OSError as exc:
            raise UnicoreError('dest: cannot write to directory %s (%s)' % (directory, (exc.strerror or str(exc)).lower()))

    def _required_owner(self):
        """The uid the token file and its record must belong to, or None for any; fails for a directory others could change.

        Whoever else can write to the directory could replace the token file, or
        swap it for a link, between the checks and its use. In a sticky directory
        (such as /tmp) only a file's owner, the directory's owner and root can
        rename or remove the file, so there a file of the caller's own is safe,
        when the directory is the caller's or root's.
        """
        directory = os.path.dirname(self.path)
        try:
            status = os.stat(directory)
        except OSError as exc:
            raise UnicoreError('dest: cannot reach directory %s: %s' % (directory, exc.strerror))
        uid = os.geteuid()
        trusted_owner = status.st_uid in (uid, 0)
        reasons = []
        if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            reasons.append('mode %04o' % stat.S_IMODE(status.st_mode))
        if not trusted_owner:
            reasons.append('it belongs to uid %d' % status.st_uid)
        if not reasons:
            return None
        if trusted_owner and status.st_mode & stat.S_ISVTX:
            return uid
        raise UnicoreError('dest: directory %s can be written to by other users (%s): another user could replace the token file, '
                           'or swap it for a link, between the checks and its use; keep the token in a directory that only you '
                           'or root can write to, or in a sticky directory of yours or root\'s, such as /tmp'
                           % (directory, ', '.join(reasons)))

    def exists(self):
        return os.path.lexists(self.path)

    def read(self):
        """The kept token text, or None when there is no file."""
        text = self._read(self.path)
        return None if text is None else text.strip()

    def site_record(self):
        """``{'url': ..., 'issuer': ..., 'clock_offset': ...}`` as written with the token, or None.

        ``clock_offset``, the seconds the site's clock was ahead of this
        machine's when the token was issued, is missing from records that the
        workflow_token role or earlier versions wrote.
        """
        text = self._read(self.site_path)
        try:
            record = json.loads(text) if text else None
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def check_room(self):
        """Fail, naming ``dest`` and the cause, when the directory has no room for a new token: before one is issued for nothing.

        Tried by writing (and syncing) as much as a token and its record take,
        beside ``dest``, then removing it: a file system's free-space figures
        say nothing of quotas, reserved blocks or compression.
        """
        try:
            StagedFile(self.path, b'\0' * ROOM_FOR_A_TOKEN, 0o600, suffix='.probe').discard()
        except OSError as exc:
            raise FileWriteError('dest: cannot write %s: %s (no token was issued, and the kept files are unchanged)'
                                 % (self.path, exc.strerror), exc.errno)

    def write(self, token, url, issuer, mode, clock_offset=0):
        """Replace the token and its record, each by an atomic rename.

        Both are written in full and synced before either is renamed, so a
        failure while writing leaves the kept token and its record as they
        were. A run killed between the two renames leaves the new record
        beside the old token, whose issuer it then does not name (another
        site's) or names rightly (the same site's): either way no later run
        takes the old token for another site's. Temporary copies that a killed
        run left are removed first.
        """
        # Whoever handed the token over checked it; a file others read it from is no place to find out otherwise.
        check_token(token, 'dest: the token to write to %s' % self.path)
        record = json.dumps({'url': url, 'issuer': issuer, 'clock_offset': clock_offset}, sort_keys=True) + '\n'
        directory = os.path.dirname(self.path)
        remove_stale_temporaries(directory, os.path.basename(self.path))
        staged = []
        try:
            for path, text in ((self.site_path, record), (self.path, token + '\n')):
                staged.append(stage_private(path, text.encode('utf-8'), mode))
            for copy in staged:
                copy.commit()
        except OSError as exc:
            raise FileWriteError('dest: cannot write %s: %s' % (self.path, exc.strerror), exc.errno)
        finally:
            for copy in staged:
                copy.discard()
        sync_directory(directory)

    def ensure_mode(self, mode, check_mode=False):
        """Give the kept token and its record ``mode``; True when that changed (or would change) anything.

        ``mode`` is the file's required state, as with ``ansible.builtin.copy``:
        a kept token whose permissions were widened is put back.
        """
        changed = False
        owner = self._required_owner()
        for path in (self.path, self.site_path):
            # Changed through the descriptor, never by path: by now the path could be a link to any file.
            descriptor = open_private(path, 'dest', owner)
            if descriptor is None:
                continue
            try:
                if stat.S_IMODE(os.fstat(descriptor).st_mode) != mode:
                    changed = True
                    if not check_mode:
                        os.fchmod(descriptor, mode)
            except OSError as exc:
                raise UnicoreError('dest: cannot set mode %o on %s: %s' % (mode, path, exc.strerror))
            finally:
                os.close(descriptor)
        return changed

    def remove(self):
        """Remove the token and its record, and any copy of them a killed run left; True when there was a token or record to remove."""
        remove_stale_temporaries(os.path.dirname(self.path), os.path.basename(self.path))
        removed = False
        for path in (self.path, self.site_path):
            try:
                os.unlink(path)
                removed = True
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise UnicoreError('dest: cannot remove %s: %s' % (path, exc.strerror))
        return removed

    def _read(self, path):
        data = read_private(path, 'dest', max_bytes=MAX_TOKEN_BYTES, owner=self._required_owner())
        if data is None:
            return None
        if len(data) > MAX_TOKEN_BYTES:
            return ''
        return data.decode('utf-8', errors='replace')

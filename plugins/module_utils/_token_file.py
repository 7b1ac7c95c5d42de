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
from ansible_collections.unicore.auth.plugins.module_utils._private_files import read_private, stage_private

SITE_SUFFIX = '.site'
# A token is a few KiB; anything much larger is not one.
MAX_TOKEN_BYTES = 64 * 1024


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
    """The token file at ``path`` and its ``.site`` record."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(str(path)))
        self.site_path = self.path + SITE_SUFFIX

    def check_destination(self):
        """Fail, naming ``dest``, when the token could not be kept at this path."""
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise UnicoreError('dest: directory %s does not exist' % directory)
        if os.path.islink(self.path):
            raise UnicoreError('dest: %s is a symbolic link; give the path of the file itself '
                               '(token files are never written through links)' % self.path)
        if os.path.isdir(self.path):
            raise UnicoreError('dest: %s is a directory; give the path of a file' % self.path)
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

    def exists(self):
        return os.path.lexists(self.path)

    def read(self):
        """The kept token text, or None when there is no file."""
        text = self._read(self.path, 'dest')
        return None if text is None else text.strip()

    def site_record(self):
        """``{'url': ..., 'issuer': ...}`` as written with the token, or None."""
        text = self._read(self.site_path, 'dest')
        try:
            record = json.loads(text) if text else None
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def write(self, token, url, issuer, mode):
        """Replace the token and its record, each by an atomic rename.

        Both are written in full before either is renamed into place, so a
        failure while writing leaves the kept token and its record as they were.
        """
        record = json.dumps({'url': url, 'issuer': issuer}, sort_keys=True) + '\n'
        staged = []
        try:
            for path, text in ((self.site_path, record), (self.path, token + '\n')):
                staged.append((stage_private(path, text.encode('utf-8'), mode), path))
            for temporary, path in staged:
                # rename() replaces the name itself, never the target of a link.
                os.replace(temporary, path)
        except OSError as exc:
            raise UnicoreError('dest: cannot write %s: %s' % (self.path, exc.strerror))
        finally:
            for temporary, dummy in staged:
                if os.path.exists(temporary):
                    os.unlink(temporary)

    def ensure_mode(self, mode, check_mode=False):
        """Give the kept token and its record ``mode``; True when that changed (or would change) anything.

        ``mode`` is the file's required state, as with ``ansible.builtin.copy``:
        a kept token whose permissions were widened is put back.
        """
        changed = False
        for path in (self.path, self.site_path):
            try:
                current = stat.S_IMODE(os.lstat(path).st_mode)
            except FileNotFoundError:
                continue
            if current == mode:
                continue
            changed = True
            if not check_mode:
                try:
                    os.chmod(path, mode)
                except OSError as exc:
                    raise UnicoreError('dest: cannot set mode %o on %s: %s' % (mode, path, exc.strerror))
        return changed

    def remove(self):
        """Remove the token and its record; True when there was anything to remove."""
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

    @staticmethod
    def _read(path, option):
        data = read_private(path, option, max_bytes=MAX_TOKEN_BYTES)
        if data is None:
            return None
        if len(data) > MAX_TOKEN_BYTES:
            return ''
        return data.decode('utf-8', errors='replace')

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side token cache of the unicore_token lookup (internal to the collection).

Ansible runs a lookup in a fresh forked worker for every host and task, so a
cache in memory would be empty every time. This one lives in a directory that
every fork of a run, and later runs, share:

* the directory is 0700 and must belong to the user, and not be writable by anyone else;
* every entry is a 0600 file named by an HMAC of what identifies the request,
  keyed with a random secret kept in the directory, so a name reveals nothing
  about the credentials, even a weak password;
* an entry holds only the issued token and where it came from, never a credential;
* beside them, the lookup keeps its remembered answers (``answer-`` entries,
  see plugins/lookup/unicore_token.py): a token, until when it may be given,
  and the warnings that go with it;
* a lock per entry makes concurrent forks wait for the one that issues, so
  N hosts x M tasks cost one token.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import stat
import tempfile

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info

KEY_FILE = 'cache.key'
KEY_BYTES = 32


class TokenCache:
    """Issued tokens by request, in a private directory."""

    def __init__(self, directory):
        self.directory = os.path.abspath(os.path.expanduser(str(directory)))
        self._ensure_private_directory()
        self._key = self._load_or_create_key()

    def entry_name(self, identity):
        """The file name for a request, from everything that identifies it (a dict of strings)."""
        canonical = json.dumps(identity, sort_keys=True, separators=(',', ':')).encode('utf-8')
        return hmac.new(self._key, canonical, hashlib.sha256).hexdigest()

    def get_or_issue(self, identity, request, issue):
        """A cached token that fits ``request``, or the one ``issue()`` returns, which is then cached.

        ``issue`` returns ``(token, issuer_dn)``. Only one fork issues at a time for the same entry.
        """
        name = self.entry_name(identity)
        token = self._fitting_token(name, request)
        if token is not None:
            return token
        with self._locked(name):
            # Another fork may have issued while this one waited for the lock.
            token = self._fitting_token(name, request)
            if token is None:
                token, issuer = issue()
                self.write_entry(name, {'token': token, 'issuer': issuer})
        return token

    def _fitting_token(self, name, request):
        entry = self._read(name)
        if not isinstance(entry, dict) or not entry.get('token'):
            return None
        try:
            info = token_info(entry['token'])
        except UnicoreError:
            return None
        return entry['token'] if request.mismatch(info, entry.get('issuer')) is None else None

    def _ensure_private_directory(self):
        if os.path.islink(self.directory):
            # Whoever can change the link chooses where tokens are kept.
            raise UnicoreError('cache_dir: %s is a symbolic link; give the directory itself '
                               '(the token cache is never reached through links)' % self.directory)
        if os.path.lexists(self.directory) and not os.path.isdir(self.directory):
            raise UnicoreError('cache_dir: %s is not a directory' % self.directory)
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            status = os.lstat(self.directory)
        except OSError as exc:
            raise UnicoreError('cache_dir: cannot create %s: %s' % (self.directory, exc.strerror))
        if not stat.S_ISDIR(status.st_mode):
            raise UnicoreError('cache_dir: %s is not a directory' % self.directory)
        if status.st_uid != os.getuid():
            raise UnicoreError('cache_dir: %s belongs to another user; the token cache must be your own' % self.directory)
        if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise UnicoreError('cache_dir: %s is writable by other users (mode %o); make it 0700'
                               % (self.directory, stat.S_IMODE(status.st_mode)))

    def _load_or_create_key(self):
        path = os.path.join(self.directory, KEY_FILE)
        with self._locked(KEY_FILE):
            key = self._read_bytes(path)
            if key is None:
                key = os.urandom(KEY_BYTES)
                try:
                    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
                    with os.fdopen(descriptor, 'wb') as handle:
                        handle.write(key)
                except OSError as exc:
                    raise UnicoreError('cache_dir: cannot create %s: %s' % (path, exc.strerror))
        if len(key) != KEY_BYTES:
            raise UnicoreError('cache_dir: %s is damaged; remove it and the cache starts afresh' % path)
        return key

    def _locked(self, name):
        return _FileLock(os.path.join(self.directory, name + '.lock'))

    def _read(self, name):
        data = self._read_bytes(os.path.join(self.directory, name))
        try:
            return json.loads(data.decode('utf-8')) if data else None
        except ValueError:
            return None

    @staticmethod
    def _read_bytes(path):
        try:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UnicoreError('cache_dir: cannot read %s: %s' % (path, exc.strerror))
        try:
            with os.fdopen(descriptor, 'rb') as handle:
                return handle.read()
        except OSError as exc:
            raise UnicoreError('cache_dir: cannot read %s: %s' % (path, exc.strerror))

    def write_entry(self, name, entry):
        """Write ``entry`` (JSON) as the file ``name``: private, and atomically, so readers see the old entry or the new one."""
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix='.%s.' % name, suffix='.tmp')
        try:
            with os.fdopen(descriptor, 'w') as handle:
                json.dump(entry, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, os.path.join(self.directory, name))
        except OSError as exc:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise UnicoreError('cache_dir: cannot write to %s: %s' % (self.directory, exc.strerror))


class _FileLock:
    """An exclusive flock on a lock file, held for a ``with`` block."""

    def __init__(self, path):
        self.path = path
        self._handle = None

    def __enter__(self):
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        except OSError as exc:
            raise UnicoreError('cache_dir: cannot lock %s: %s' % (self.path, exc.strerror))
        self._handle = os.fdopen(descriptor, 'r+')
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()
        return False

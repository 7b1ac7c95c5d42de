# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security sessions kept on this machine between module runs and lookups (internal to the collection).

A site answers a login with a security session (``X-UNICORE-SecuritySession``)
that stands in for the credentials for hours. A module run, or a lookup in its
forked worker, is one short process: without a place to keep the session in,
every run would log in from scratch. UCC keeps its sessions in
``~/.ucc/session-ids``; this store is its counterpart:

* a directory that is 0700, belongs to the user and is writable by nobody else
  (the token cache's checks, ``ensure_private_directory``);
* one 0600 entry per site, login, certificate check and preferences, named by a
  BLAKE2b MAC of those under a random key kept in the directory (``sessions.key``),
  so that a name reveals nothing, not even a weak password. The secrets of the
  login are part of the MAC, so a wrong password never rides on a session a
  right one opened, and they are never stored;
* an entry holds the session id and when the site said it ends (by this
  machine's clock), nothing else; it is read without following links and
  written atomically, so a reader sees a whole entry or none;
* runs that start together on an empty entry: the first takes the entry's lock
  and holds it while it logs in, the others wait for it (at most ``wait``
  seconds) and then reuse its session, so N forks cost one login, not N.

The session id is a secret like a token: it goes into the entry's content only,
never into a name, a message or a log.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import time

from ansible_collections.unicore.auth.plugins.module_utils._credentials import BasicTokenCredential, BearerCredential, is_header_word
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._login_identity import login_fields, verify_fields
from ansible_collections.unicore.auth.plugins.module_utils._private_files import (
    FileWriteError,
    ensure_private_directory,
    read_private,
    write_private,
)

DEFAULT_DIRECTORY = '~/.cache/unicore.auth/security-sessions'
OPTION = 'security_session_dir'
KEY_FILE = 'sessions.key'
KEY_BYTES = 32
ENTRY_PREFIX = 'session-'
# An entry is a session id (UNICORE's are UUIDs) and a number: anything longer is not an entry.
MAX_ENTRY_BYTES = 4096
# How often a run waiting for another's login looks whether the lock is free.
LOCK_POLL = 0.02


class SecuritySessionStore:
    """The sessions kept for one site and login in ``directory``, one entry per preferences header.

    ``identity`` is a function returning the dict of strings that says which
    site and login (``login_identity`` builds it); it is called, and the
    directory opened, only when a request is about to be made. ``wait`` is the
    longest a run waits for another's login before logging in itself.
    A full file system keeps nothing and fails nothing; a directory that is not
    private fails, naming ``security_session_dir``.
    """

    def __init__(self, directory, identity, wait=30.0, clock=time.time, sleep=time.sleep):
        self.directory = os.path.abspath(os.path.expanduser(str(directory or DEFAULT_DIRECTORY)))
        self._identity = identity
        self._wait = wait
        self._clock = clock
        self._sleep = sleep
        self._key = None
        self._unusable = False
        self._claim = None      # (entry name, descriptor of its lock file) while this run logs in for it

    def find(self, preferences, min_left=0.0):
        """``(session_id, seconds_left)`` of the session kept for ``preferences`` when more than ``min_left`` seconds are left, else None."""
        name = self._entry_name(preferences)
        if name is None:
            return None
        entry = self._read(name)
        if entry is None:
            return None
        left = entry['expires_at'] - self._clock()
        return (entry['session_id'], left) if left > min_left else None

    def keep(self, preferences, session_id, lifetime):
        """Keep ``session_id``, which the site says lasts ``lifetime`` more seconds, for ``preferences``; then let waiting runs on."""
        name = self._entry_name(preferences)
        try:
            if name is not None and session_id and is_header_word(session_id) and lifetime is not None and lifetime > 0:
                entry = {'session_id': session_id, 'expires_at': self._clock() + lifetime}
                self._write(name, json.dumps(entry).encode('ascii'))
        finally:
            self.release()

    def forget(self, preferences, session_id, min_left=0.0):
        """The site refused ``session_id``: remove it, unless another run has kept a newer one, which is returned as ``find`` does.

        Takes the entry's lock, as ``claim`` does, and keeps it when there is
        no newer session: this run logs in once more, and the runs that find
        the same dead session wait for its new one.
        """
        name = self._entry_name(preferences)
        if name is None:
            return None
        self._take(name)
        entry = self._read(name)
        if entry is not None and entry['session_id'] != session_id and entry['expires_at'] - self._clock() > min_left:
            self.release()
            return entry['session_id'], entry['expires_at'] - self._clock()
        try:
            os.unlink(os.path.join(self.directory, name))
        except OSError:
            pass  # gone already; or, left, it costs one 432 more, nothing else
        return None

    def claim(self, preferences):
        """Take the lock of the entry for ``preferences`` before logging in (at most ``wait`` seconds; without it after that)."""
        name = self._entry_name(preferences)
        if name is not None:
            self._take(name)

    def release(self):
        """Let go of the lock ``claim`` or ``forget`` took, if any."""
        if self._claim is not None:
            descriptor = self._claim[1]
            self._claim = None
            if descriptor is not None:
                os.close(descriptor)  # and with it the lock

    # -- the directory and its entries ------------------------------------

    def _entry_name(self, preferences):
        """The entry's file name: a MAC of the site, the login and the preferences; None when the store cannot be used."""
        if not self._open():
            return None
        fields = dict(self._identity(), preferences=None if preferences is None else str(preferences))
        text = json.dumps(fields, sort_keys=True, separators=(',', ':'))
        return ENTRY_PREFIX + hashlib.blake2b(text.encode('utf-8'), key=self._key, digest_size=32).hexdigest()

    def _open(self):
        if self._key is None and not self._unusable:
            try:
                ensure_private_directory(self.directory, OPTION)
                self._key = self._load_or_create_key()
            except FileWriteError as error:
                if not error.no_room:
                    raise
                # No room: nothing is kept, and every run logs in, as without the store.
                self._unusable = True
        return self._key is not None

    def _load_or_create_key(self):
        path = os.path.join(self.directory, KEY_FILE)
        descriptor = self._lock(KEY_FILE, wait=None)
        try:
            key = read_private(path, OPTION, max_bytes=KEY_BYTES)
            if not key:
                # Complete before it has its name, and under the lock: no run reads half a key.
                key = os.urandom(KEY_BYTES)
                write_private(path, key, 0o600, OPTION)
        finally:
            if descriptor is not None:
                os.close(descriptor)
        if len(key) != KEY_BYTES:
            raise UnicoreError('%s: %s is damaged; remove it (and the entries beside it): the sessions kept there are forgotten, '
                               'and the next runs log in afresh' % (OPTION, path))
        return key

    def _read(self, name):
        """The entry ``{'session_id', 'expires_at'}``, or None when there is none or it is not one."""
        data = read_private(os.path.join(self.directory, name), OPTION, max_bytes=MAX_ENTRY_BYTES)
        if not data or len(data) > MAX_ENTRY_BYTES:
            return None
        try:
            entry = json.loads(data.decode('ascii'))
        except ValueError:
            return None
        if (not isinstance(entry, dict) or not entry.get('session_id') or not is_header_word(entry.get('session_id'))
                or isinstance(entry.get('expires_at'), bool) or not isinstance(entry.get('expires_at'), (int, float))):
            return None
        return entry

    def _write(self, name, data):
        try:
            write_private(os.path.join(self.directory, name), data, 0o600, OPTION)
        except FileWriteError:
            # The directory was checked when it was opened. Now there is no room, or someone removed
            # it (how the user forgets every session) while this run was logging in: the session is
            # not kept, and the next run logs in; this one has what it asked the site for.
            pass

    def _take(self, name):
        if self._claim is not None:
            if self._claim[0] == name:
                return
            self.release()
        self._claim = (name, self._lock(name, wait=self._wait))

    def _lock(self, name, wait):
        """A descriptor holding the flock of ``name``'s lock file; None when ``wait`` seconds passed first, or there is no room for it."""
        path = os.path.join(self.directory, name + '.lock')
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.ENOENT):
                return None  # no room for the lock file, or the directory was removed meanwhile: no lock, no wait
            raise UnicoreError('%s: cannot lock %s: %s' % (OPTION, path, exc.strerror))
        if wait is None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            return descriptor
        deadline = self._clock() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return descriptor
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if self._clock() >= deadline:
                # The run holding it is slow (a site that does not answer): log in without waiting longer.
                os.close(descriptor)
                return None
            self._sleep(LOCK_POLL)


def login_identity(options, credential, url, verify, cert):
    """The function that gives the store's identity fields: the login (``login_fields``), the site, the certificate checks.

    ``credential`` is the one sent, which may not be the options' own (a token
    at dest renewing itself): its kind and token are part of it. ``cert`` is
    the TLS client certificate presented (``connection_settings``' cert), by
    its content, so that another certificate at the same path is another login.
    """
    fields = {}

    def identity():
        if not fields:
            fields.update(login_fields(options))
            fields.update(verify_fields(verify))
            fields.update(url=url, method=credential.method, client_cert=_certificate_digest(cert))
            if isinstance(credential, (BearerCredential, BasicTokenCredential)):
                fields['token'] = credential.token
        return fields
    return identity


def _certificate_digest(cert):
    """A SHA-256 of the client certificate's file (None without one); only ever an input of the entry names' MAC."""
    if cert is None:
        return None
    path = cert[0] if isinstance(cert, tuple) else cert
    try:
        with open(path, 'rb') as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError as exc:
        raise UnicoreError('client_cert: cannot read %s: %s' % (path, exc.strerror))

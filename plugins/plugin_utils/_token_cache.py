# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side token cache of the unicore_token lookup (internal to the collection).

Ansible runs a lookup in a fresh forked worker for every host and task, so a
cache in memory would be empty every time. This one lives in a directory that
every fork of a run, and later runs, share:

* the directory is 0700 and must belong to the user, and not be writable by anyone else;
* every entry is a 0600 file named by its kind and a keyed BLAKE2b hash (a MAC)
  of what identifies it, keyed with a random secret kept in the directory, so a
  name reveals nothing about the credentials, even a weak password;
* ``token-`` entries hold an issued token, the DN of its issuer and how far the
  site's clock was ahead of this machine's when it was issued, never a credential;
* ``answer-`` entries are the lookup's remembered answers: a token, until when
  it may be given for exactly the same inputs, and the warnings that go with it
  (the lookup's plugin file reads them itself, see ``answer_name``);
* ``registry-`` entries hold what a Registry listed and when it was read, so
  that a playbook run reads it once (at most ``REGISTRY_MAX_AGE`` seconds old);
* a lock per entry makes concurrent forks wait for the one that issues, so
  N hosts x M tasks cost one token; a lock dies with its process, so a fork
  killed while it holds one never blocks the next;
* a full file system (or a used-up quota) never costs the lookup its token:
  what cannot be written is not kept, and ``unkept`` says why, for one warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._kept_token import KeptToken, reason_to_replace
from ansible_collections.unicore.auth.plugins.module_utils._private_files import (
    FileLock,
    FileWriteError,
    ensure_private_directory,
    read_private,
    remove_stale_temporaries,
    write_private,
)
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import check_token

KEY_FILE = 'cache.key'
KEY_BYTES = 32
OPTION = 'cache_dir'
# A Registry changes seldom, but a site that leaves it must not be asked for long.
REGISTRY_MAX_AGE = 600


class TokenCache:
    """Issued tokens by request, and the lookup's remembered answers, in a private directory.

    ``unkept`` is None, or the first write that found no room (a
    FileWriteError: the directory or its key could not be created, an entry
    not written): then the token is used without being kept, and the caller
    warns once (``unkept_warning``).
    """

    def __init__(self, directory):
        self.directory = os.path.abspath(os.path.expanduser(str(directory)))
        self.unkept = None
        self._key = None
        try:
            ensure_private_directory(self.directory, OPTION)
            self._key = self._load_or_create_key()
        except FileWriteError as error:
            self._note_unkept(error)
            return
        # What forks killed while writing left: no live fork holds it.
        remove_stale_temporaries(self.directory)

    @property
    def usable(self):
        """False when the cache has no key (there was no room to create it): nothing is read or kept."""
        return self._key is not None

    def entry_name(self, kind, fields):
        """The file name of the entry of ``kind`` identified by ``fields`` (a dict of strings, or a string): the kind and a BLAKE2b MAC.

        plugins/lookup/unicore_token.py computes answer names in the same way without
        importing this module; a unit test keeps the two equal.
        """
        text = fields if isinstance(fields, str) else json.dumps(fields, sort_keys=True, separators=(',', ':'))
        return '%s-%s' % (kind, hashlib.blake2b(text.encode('utf-8'), key=self._key, digest_size=32).hexdigest())

    def get_or_issue(self, identity, request, issue, issued=None):
        """``(token, clock_offset)``: a cached token that fits ``request``, or the one ``issue()`` returns, which is then cached.

        ``identity`` is everything that decides who the token is for and what it
        allows; ``issue`` returns ``(token, issuer_dn, clock_offset)``, the last
        being the seconds the site's clock is ahead of this machine's. Only one
        fork issues at a time for the same entry. ``issued(token, replaced)``,
        when given, is called only when a token was issued: with the entry's
        readable token that the new one replaces (a KeptToken), or None; under
        the lock and before the token is kept, so what it records comes before
        any fork can reuse the token.
        """
        if not self.usable:
            token, dummy_issuer, offset = issue()
            if issued is not None:
                issued(token, None)
            return token, offset
        name = self.entry_name('token', identity)
        kept = self._kept_token(name)
        if kept is not None and reason_to_replace(request, kept) is None:
            return kept.token, kept.clock_offset
        with self._locked(name):
            # Another fork may have issued while this one waited for the lock.
            kept = self._kept_token(name)
            if kept is not None and reason_to_replace(request, kept) is None:
                return kept.token, kept.clock_offset
            token, issuer, offset = issue()
            if issued is not None:
                issued(token, kept if kept is not None and kept.info is not None else None)
            self.write_entry(name, {'token': token, 'issuer': issuer, 'clock_offset': offset})
        return token, offset

    def get_or_read_registry(self, identity, read):
        """``(url, entries)`` of a Registry read less than ``REGISTRY_MAX_AGE`` seconds ago, or what ``read()`` returns, then kept.

        ``identity`` is the Registry's url and how it is read (certificates,
        and the credentials when they are sent); only one fork reads at a time.
        """
        if not self.usable:
            return read()
        name = self.entry_name('registry', identity)
        listing = self._fresh_registry(name)
        if listing is not None:
            return listing
        with self._locked(name):
            listing = self._fresh_registry(name)
            if listing is None:
                listing = read()
                self.write_entry(name, {'url': listing[0], 'entries': listing[1], 'read_at': time.time()})
        return listing

    def _fresh_registry(self, name):
        entry = self._read(name)
        if not isinstance(entry, dict) or not isinstance(entry.get('entries'), list) or not isinstance(entry.get('read_at'), (int, float)):
            return None
        # A read_at in the future (a clock set back) is no fresher than the maximum age.
        return (entry.get('url'), entry['entries']) if 0 <= time.time() - entry['read_at'] < REGISTRY_MAX_AGE else None

    def remember(self, answer_key, answer):
        """Keep the lookup's ``answer`` (token, reusable_until, warnings) for exactly the inputs ``answer_key`` stands for."""
        if self.usable:
            self.write_entry(self.entry_name('answer', answer_key), answer)

    def _kept_token(self, name):
        """The entry's token as a KeptToken, or None when there is none.

        Whether it fits is decided by ``reason_to_replace``: the same rule as
        for a token kept at dest or on a workflow host, by the site's clock.
        """
        entry = self._read(name)
        if not isinstance(entry, dict) or not isinstance(entry.get('token'), str):
            return None
        return KeptToken.cached(entry['token'], entry.get('issuer'), entry.get('clock_offset'))

    def _load_or_create_key(self):
        path = os.path.join(self.directory, KEY_FILE)
        with self._locked(KEY_FILE):
            key = read_private(path, OPTION, max_bytes=KEY_BYTES)
            # Empty: what an older version left when it was killed while creating the key.
            if not key:
                key = os.urandom(KEY_BYTES)
                # Complete before it has its name (a rename), and under the lock, so no fork reads half a key.
                write_private(path, key, 0o600, OPTION)
        if len(key) != KEY_BYTES:
            raise UnicoreError('cache_dir: %s is damaged; remove it and the cache starts afresh' % path)
        return key

    @contextlib.contextmanager
    def _locked(self, name):
        """The entry's lock, held for a ``with`` block; without it when there is no room for the lock file."""
        lock = FileLock(os.path.join(self.directory, name + '.lock'), OPTION)
        try:
            lock.acquire()
        except FileWriteError as error:
            self._note_unkept(error)
            lock = None
        try:
            yield
        finally:
            if lock is not None:
                lock.release()

    def _note_unkept(self, error):
        """Remember the first write that found no room; any other failure is raised (a refusal, or a setup to fix)."""
        if not error.no_room:
            raise error
        if self.unkept is None:
            self.unkept = error

    def unkept_warning(self, what='the token', source='the site'):
        """What the lookup warns when ``unkept``: where, and why; never the token."""
        return ('cache_dir: cannot keep %s in %s (%s); it is used for this task only, and a later lookup asks %s again'
                % (what, self.directory, os.strerror(self.unkept.errno), source))

    def _read(self, name):
        data = read_private(os.path.join(self.directory, name), OPTION)
        try:
            return json.loads(data.decode('utf-8')) if data else None
        except ValueError:
            return None

    def write_entry(self, name, entry):
        """Write ``entry`` (JSON) as the file ``name``: private, and atomically, so readers see the old entry or the new one.

        When there is no room, the entry is not kept (see ``unkept``). A token
        entry or a remembered answer whose token is not a UNICORE token is never
        written: UnicoreError, and the entry stays as it was.
        """
        if 'token' in entry:
            check_token(entry['token'], 'cache_dir: the token to keep in %s' % self.directory)
        try:
            # remove_stale=False: __init__ swept the whole directory when this cache was opened (only a
            # usable cache writes, and it is usable only after that sweep), and a TokenCache lives for
            # one lookup call. Sweeping again for each entry would list the directory once more per
            # write; a copy a fork killed since the open left is removed by the next lookup that opens
            # the cache (the kill series of tests/integration/targets/reliability_crashes checks this).
            write_private(os.path.join(self.directory, name), json.dumps(entry).encode('utf-8'), 0o600, OPTION,
                          remove_stale=False)
        except FileWriteError as error:
            self._note_unkept(error)

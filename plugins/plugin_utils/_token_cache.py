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
* ``token-`` entries hold an issued token and the DN of its issuer, never a credential;
* ``answer-`` entries are the lookup's remembered answers: a token, until when
  it may be given for exactly the same inputs, and the warnings that go with it
  (the lookup's plugin file reads them itself, see ``answer_name``);
* ``registry-`` entries hold what a Registry listed and when it was read, so
  that a playbook run reads it once (at most ``REGISTRY_MAX_AGE`` seconds old);
* a lock per entry makes concurrent forks wait for the one that issues, so
  N hosts x M tasks cost one token.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._kept_token import KeptToken, reason_to_replace
from ansible_collections.unicore.auth.plugins.module_utils._private_files import FileLock, ensure_private_directory, read_private, write_private

KEY_FILE = 'cache.key'
KEY_BYTES = 32
OPTION = 'cache_dir'
# A Registry changes seldom, but a site that leaves it must not be asked for long.
REGISTRY_MAX_AGE = 600


class TokenCache:
    """Issued tokens by request, and the lookup's remembered answers, in a private directory."""

    def __init__(self, directory):
        self.directory = os.path.abspath(os.path.expanduser(str(directory)))
        ensure_private_directory(self.directory, OPTION)
        self._key = self._load_or_create_key()

    def entry_name(self, kind, fields):
        """The file name of the entry of ``kind`` identified by ``fields`` (a dict of strings, or a string): the kind and a BLAKE2b MAC.

        plugins/lookup/unicore_token.py computes answer names in the same way without
        importing this module; a unit test keeps the two equal.
        """
        text = fields if isinstance(fields, str) else json.dumps(fields, sort_keys=True, separators=(',', ':'))
        return '%s-%s' % (kind, hashlib.blake2b(text.encode('utf-8'), key=self._key, digest_size=32).hexdigest())

    def get_or_issue(self, identity, request, issue):
        """A cached token that fits ``request``, or the one ``issue()`` returns, which is then cached.

        ``identity`` is everything that decides who the token is for and what it
        allows; ``issue`` returns ``(token, issuer_dn)``. Only one fork issues at
        a time for the same entry.
        """
        name = self.entry_name('token', identity)
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

    def get_or_read_registry(self, identity, read):
        """``(url, entries)`` of a Registry read less than ``REGISTRY_MAX_AGE`` seconds ago, or what ``read()`` returns, then kept.

        ``identity`` is the Registry's url and how it is read (certificates,
        and the credentials when they are sent); only one fork reads at a time.
        """
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
        self.write_entry(self.entry_name('answer', answer_key), answer)

    def _fitting_token(self, name, request):
        entry = self._read(name)
        if not isinstance(entry, dict) or not isinstance(entry.get('token'), str):
            return None
        # The same rule as a token kept at dest or on a workflow host.
        kept = KeptToken.cached(entry['token'], entry.get('issuer'))
        return kept.token if reason_to_replace(request, kept) is None else None

    def _load_or_create_key(self):
        path = os.path.join(self.directory, KEY_FILE)
        with self._locked(KEY_FILE):
            key = read_private(path, OPTION, max_bytes=KEY_BYTES)
            if key is None:
                key = os.urandom(KEY_BYTES)
                try:
                    # O_EXCL: under the lock nobody else creates it; never through a link put there.
                    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
                    with os.fdopen(descriptor, 'wb') as handle:
                        handle.write(key)
                except OSError as exc:
                    raise UnicoreError('cache_dir: cannot create %s: %s' % (path, exc.strerror))
        if len(key) != KEY_BYTES:
            raise UnicoreError('cache_dir: %s is damaged; remove it and the cache starts afresh' % path)
        return key

    def _locked(self, name):
        return FileLock(os.path.join(self.directory, name + '.lock'), OPTION)

    def _read(self, name):
        data = read_private(os.path.join(self.directory, name), OPTION)
        try:
            return json.loads(data.decode('utf-8')) if data else None
        except ValueError:
            return None

    def write_entry(self, name, entry):
        """Write ``entry`` (JSON) as the file ``name``: private, and atomically, so readers see the old entry or the new one."""
        write_private(os.path.join(self.directory, name), json.dumps(entry).encode('utf-8'), 0o600, OPTION)

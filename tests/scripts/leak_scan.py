# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets never leak: scan what one run of the integration suite left behind.

usage: python leak_scan.py --collection DIR --since FILE [--fixtures FILE] [--junit OUT]
       python leak_scan.py --self-test

The secrets are those of the test server the run used (its fixtures.json):
every user's password, every OIDC token, every key passphrase, the HMAC
secrets of the services, its OIDC provider's client secrets and one-time code,
every line of every private key in the server's workdir (PEM armour, short
lines and lines two key files share are no secret), every token the server
issued during the run (its issued-tokens.log; a token is searched for by the
start of its signature, which no other token shares), and every access and
refresh token its OIDC provider issued (oidc-issued-tokens.log, lines
``access TOKEN`` and ``refresh TOKEN``; opaque, searched for whole), and every
security session id its sites handed out (issued-sessions.log: a session id
stands in for the credentials as a token does).  A
private key is also searched for with its line breaks removed (e.g. a key
shown as one JSON string with ``\\n`` escapes, or wrapped anew).

Scanned, as bytes:

* the whole output of the run and Ansible's log_path (everything in
  ``tests/output/leak-scan/``: the harness runs every playbook at -vvvv);
* everything else under the collection copy's ``tests/output/`` (JUnit XML,
  ansible-test's .tmp, logs, and ``tests/output/tmp``, the suite's own
  temporary directory: the harness makes it the TMPDIR of every process it
  starts, runme.sh targets source suite_tmpdir.sh, and Ansible's local_tmp and
  remote_tmp are there: no temporary file may keep a secret), except the test
  server's workdir, which holds the fixtures by design, and the server's
  stdout, whose ready line carries the OIDC client secret by design
  (docs/design.md, "The test server");
* files written since FILE (the start of the run) where the collection and
  UNICORE's clients keep state in the user's home: ~/.cache/unicore.auth (and the lookup's
  $XDG_CACHE_HOME/unicore.auth), UCC's ~/.ucc, and PyUNICORE 2.0.2's
  $HOME.ucc (its default refresh-token path lacks a slash).

Refresh-token files are the one place where the OIDC provider's refresh tokens
belong, and only at the places the collection, UCC and PyUNICORE keep them by
default (the files above named oidc-refresh-tokens and refresh-tokens): such a
file may hold refresh tokens the provider issued as the ``refresh_token`` of an
entry of ``{"<token endpoint>": {"refresh_token": ...}}``, and nothing else
secret.  A refresh token anywhere else, a file there of another shape, and every
refresh-token file a test leaves in a temporary directory or in tests/output are
hits like any other: tests remove the ones they write.

Token caches (directories holding a ``cache.key``, in the lookup's default
place ~/.cache/unicore.auth/tokens and anywhere in the scanned trees) are the
one place where issued tokens belong: each entry must be a JSON object with
only ``token``, ``issuer`` and ``clock_offset`` (a remembered answer of the lookup, named
``answer-*``: only ``token``, ``reusable_until`` and ``warnings``), the token a
JWT (one this server issued, for an entry written during the run), and the file
must hold no credential (nor an OIDC access or refresh token: the cache keeps
the site's tokens only). A ``registry-*`` entry holds what a Registry listed:
only ``url``, ``entries`` (objects of strings) and ``read_at``, and no token.

Security-session stores (directories holding a ``sessions.key``: the
collection's ~/.cache/unicore.auth/security-sessions and any in the scanned
trees) are the one place where session ids belong: each ``session-*`` entry
must be a JSON object with only ``session_id`` (one the server handed out, for
an entry written during the run, in the stores under tests/output: the one in
HOME is shared with other runs on the machine) and ``expires_at``, and no
credential nor token.

A hit is reported by file, line and kind of secret, never the secret.  Exits
1 on any hit (or when there is nothing to search for), 0 otherwise; --junit
writes the outcome as one JUnit test case for the harness's summary.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import json
import os
import re
import stat
import sys
import tempfile
import xml.etree.ElementTree as ET

MIN_KEY_LINE = 20
SIGNATURE_PREFIX = 48
KEY_FRAGMENT = 40
DER_HEADER = 64
MAX_FILE_BYTES = 256 * 1024 * 1024
CACHE_KEY_FILE = 'cache.key'
SESSION_STORE_KEY_FILE = 'sessions.key'
SESSION_ENTRY_PREFIX = 'session-'
SESSION_ENTRY_KEYS = {'session_id', 'expires_at'}
CACHE_ENTRY_KEYS = {'token', 'issuer', 'clock_offset'}
ANSWER_PREFIX = 'answer-'
ANSWER_KEYS = {'token', 'reusable_until', 'warnings'}
REGISTRY_PREFIX = 'registry-'
REGISTRY_KEYS = {'url', 'entries', 'read_at'}
# the harness keeps the server's stdout here (tests/scripts/testserver.sh)
SERVER_STDOUT = 'testserver.stdout'
BASE64_LINE = re.compile(rb'^[A-Za-z0-9+/=]+$')
# what a key or a token may be wrapped or escaped with in a text
LINE_BREAKS = re.compile(rb'\\r|\\n|\s')
CREDENTIAL_KINDS = ('password', 'oidc_token', 'key_passphrase', 'hmac_secret', 'private_key_line',
                    'oidc_client_secret', 'oidc_otp', 'oidc_access_token', 'oidc_refresh_token', 'security_session')
SESSION_KIND = 'security_session'
OIDC_LOG_KINDS = {'access': 'oidc_access_token', 'refresh': 'oidc_refresh_token'}
REFRESH_TOKEN_KIND = 'oidc_refresh_token'


class Secrets:
    """The needles, each with its kind; never printed."""

    def __init__(self):
        self.needles = {}       # bytes -> kind
        self.session_ids = set()    # the security sessions the sites handed out
        self.key_fragments = set()  # pieces of the private keys' base64 bodies without line breaks
        self.skipped_key_lines = 0

    def add(self, kind, value):
        """Search for ``value`` as a secret of ``kind`` (None and empty values are ignored)."""
        if value:
            self.needles.setdefault(value.encode('utf-8') if isinstance(value, str) else value, kind)

    def counts(self):
        """Number of needles by kind."""
        counts = {}
        for kind in self.needles.values():
            counts[kind] = counts.get(kind, 0) + 1
        if self.key_fragments:
            counts['private_key_unwrapped'] = len(self.key_fragments)
        return counts

    def credentials(self):
        """The needles that are credentials (everything but issued tokens)."""
        return {needle: kind for needle, kind in self.needles.items() if kind in CREDENTIAL_KINDS}


def _fragments(body):
    return [body[start:start + KEY_FRAGMENT] for start in range(0, len(body) - KEY_FRAGMENT + 1, KEY_FRAGMENT)]


def _read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read(MAX_FILE_BYTES)
    except OSError:
        return None


def _key_files(workdir):
    """Private key files of a test server workdir: pki/**/*.key and keys/* (not .pub)."""
    found = []
    for sub, wanted in (('pki', lambda name: name.endswith('.key')), ('keys', lambda name: not name.endswith('.pub'))):
        for parent, _dirs, files in os.walk(os.path.join(workdir, sub)):
            found += [os.path.join(parent, name) for name in sorted(files) if wanted(name)]
    return found


def _public_material(workdir):
    """Everything public the key lines must not be confused with."""
    blobs = []
    for parent, _dirs, files in os.walk(workdir):
        for name in files:
            if name.endswith(('.pub', '.pem')) or name == 'authorized_keys':
                blobs.append(_read_bytes(os.path.join(parent, name)) or b'')
    return b'\n'.join(blobs)


def _openssh_public_length(body):
    """Length in base64 characters of the public head of an OpenSSH key (0 for other keys).

    Magic, cipher, KDF and its options, number of keys and the public key come
    before the private section: a line that holds nothing else is no secret.
    """
    try:
        blob = base64.b64decode(body[:len(body) - len(body) % 4])
    except ValueError:
        return 0
    if not blob.startswith(b'openssh-key-v1\0'):
        return 0
    position = len(b'openssh-key-v1\0')
    for field in range(5):  # cipher, kdf, kdf options, (number of keys), public key
        if field == 3:
            position += 4
            continue
        if len(blob) < position + 4:
            return 0
        position += 4 + int.from_bytes(blob[position:position + 4], 'big')
    return position * 4 // 3


def add_private_keys(secrets, paths, public):
    """Each distinctive line of each key file, and each key's body without line breaks."""
    lines_of, fragments_of = {}, {}
    for path in paths:
        data = _read_bytes(path)
        if data is None:
            continue
        candidates = [line.strip() for line in data.splitlines()]
        # PEM armour and headers (Proc-Type, DEK-Info) are no secret
        candidates = [line for line in candidates if line and not line.startswith(b'-----') and b':' not in line]
        body = b''.join(line for line in candidates if BASE64_LINE.match(line))
        public_head = _openssh_public_length(body)
        lines, offset = set(), 0
        for line in candidates:
            if BASE64_LINE.match(line):
                offset += len(line)
                if offset <= public_head:
                    continue
            if len(line) >= MIN_KEY_LINE:
                lines.add(line)
        lines_of[path] = lines
        # the first line of a DER key starts with the same ASN.1 header and OIDs in every key of a kind
        fragments_of[path] = set(_fragments(body[max(public_head, DER_HEADER):]))
    seen = {}
    for fragments in fragments_of.values():
        for fragment in fragments:
            seen[fragment] = seen.get(fragment, 0) + 1
    unwrapped_public = LINE_BREAKS.sub(b'', public)
    secrets.key_fragments = {fragment for fragments in fragments_of.values() for fragment in fragments
                             if seen[fragment] == 1 and fragment not in unwrapped_public}
    seen = {}
    for lines in lines_of.values():
        for line in lines:
            seen[line] = seen.get(line, 0) + 1
    for lines in lines_of.values():
        for line in lines:
            # a line two key files share (format boilerplate), or public material, is no secret
            if seen[line] > 1 or line in public:
                secrets.skipped_key_lines += 1
            else:
                secrets.add('private_key_line', line)


def issued_tokens(path):
    """The tokens the test server issued (one per line)."""
    data = _read_bytes(path) if path else None
    return [line.strip().decode('ascii', 'replace') for line in (data or b'').splitlines() if line.strip()]


def oidc_issued_tokens(path):
    """(kind, token) of each token the OIDC provider issued (lines ``access TOKEN``, ``refresh TOKEN``)."""
    data = _read_bytes(path) if path else None
    issued = []
    for line in (data or b'').decode('ascii', 'replace').splitlines():
        kind, _sep, token = line.strip().partition(' ')
        if kind in OIDC_LOG_KINDS and token:
            issued.append((OIDC_LOG_KINDS[kind], token))
    return issued


def collect_secrets(fixtures_path):
    """(Secrets, the tokens the sites issued, server workdir) from the server's fixtures; ``Secrets.session_ids``, the sessions handed out."""
    with open(fixtures_path, encoding='utf-8') as handle:
        fixtures = json.load(handle)
    workdir = os.path.dirname(os.path.abspath(fixtures_path))
    secrets = Secrets()
    for user in fixtures.get('users', {}).values():
        secrets.add('password', user.get('password'))
    for token in fixtures.get('oidc_tokens', {}).values():
        secrets.add('oidc_token', token.get('token'))
    for key in fixtures.get('keys', {}).values():
        secrets.add('key_passphrase', key.get('passphrase'))
    for service in ('trusted_service', 'untrusted_service'):
        secrets.add('hmac_secret', fixtures.get(service, {}).get('hmac_secret'))
    oidc = fixtures.get('oidc', {})
    for client in oidc.get('clients', {}).values():
        # every client's secret, not the confidential client's only (a public client has none)
        secrets.add('oidc_client_secret', client.get('secret'))
    for user in oidc.get('users', {}).values():
        secrets.add('password', user.get('password'))
        secrets.add('oidc_otp', user.get('otp'))
    oidc_log = oidc.get('issued_tokens_log') or os.path.join(workdir, 'oidc-issued-tokens.log')
    for kind, token in oidc_issued_tokens(oidc_log):
        secrets.add(kind, token)
    paths = [key['path'] for key in fixtures.get('keys', {}).values()]
    paths += [fixtures[service]['key'] for service in ('trusted_service', 'untrusted_service') if fixtures.get(service, {}).get('key')]
    paths += [cert['key'] for cert in fixtures.get('client_certs', {}).values()]
    paths += _key_files(workdir)
    add_private_keys(secrets, sorted(set(paths)), _public_material(workdir))
    tokens = issued_tokens(fixtures.get('issued_tokens_log') or os.path.join(workdir, 'issued-tokens.log'))
    for token in tokens:
        signature = token.rsplit('.', 1)[-1]
        secrets.add('issued_token', signature[:SIGNATURE_PREFIX])
    secrets.session_ids = set(issued_tokens(fixtures.get('issued_sessions_log') or os.path.join(workdir, 'issued-sessions.log')))
    for session_id in secrets.session_ids:
        secrets.add(SESSION_KIND, session_id)
    return secrets, tokens, workdir


class Scan:
    """Files and bytes scanned, hits, cache checks."""

    def __init__(self, secrets):
        self.secrets = secrets
        self.files = 0
        self.bytes = 0
        self.areas = {}         # area -> [files, bytes]
        self.hits = []          # (path, line, kind)
        self.caches = []        # cache directories checked
        self.session_stores = []    # security-session stores checked
        self.session_entries = 0
        self.cache_entries = 0
        self.problems = []      # (path, what is wrong), for token caches
        self.refresh_token_files = []   # refresh-token files at their places, whose refresh tokens are allowed
        self._pattern = re.compile(b'|'.join(re.escape(needle) for needle in sorted(secrets.needles, key=len, reverse=True))) \
            if secrets.needles else None
        fragments = sorted(secrets.key_fragments)
        self._fragments = re.compile(b'|'.join(re.escape(fragment) for fragment in fragments)) if fragments else None

    def scan_file(self, path, area):
        """Scan one file; ``area`` is the part of the summary it counts in."""
        data = _read_bytes(path)
        if data is None:
            return
        self._count(area, data)
        self.scan_bytes(data, path)

    def _count(self, area, data):
        self.files += 1
        self.bytes += len(data)
        counts = self.areas.setdefault(area, [0, 0])
        counts[0] += 1
        counts[1] += len(data)

    def scan_bytes(self, data, label):
        """Record every secret in ``data``."""
        self.hits += [(label, line, kind) for line, kind in sorted(self._find(data))]

    def _find(self, data):
        """(line, kind) of every secret in ``data``."""
        found = set()
        if self._pattern is not None:
            for match in self._pattern.finditer(data):
                found.add((data.count(b'\n', 0, match.start()) + 1, self.secrets.needles[match.group(0)]))
        if self._fragments is not None and self._fragments.search(LINE_BREAKS.sub(b'', data)):
            found |= self._unwrapped_hits(data)
        return found

    def scan_refresh_token_file(self, path, area):
        """Scan a file at a refresh-token file's place: refresh tokens may be its entries' ``refresh_token``, nothing else.

        A file that is not ``{"<token endpoint>": {"refresh_token": "...", ...}, ...}``
        is scanned as any other file, so every refresh token in it is a hit.
        """
        data = _read_bytes(path)
        if data is None:
            return
        entries = _refresh_token_entries(data)
        if entries is None:
            self._count(area, data)
            self.scan_bytes(data, path)
            return
        self._count(area, data)
        self.refresh_token_files.append(path)
        self.hits += [(path, line, kind) for line, kind in sorted(self._find(data)) if kind != REFRESH_TOKEN_KIND]
        # the same entries with each refresh_token blanked: a refresh token left in them is out of its place
        blanked = json.dumps({endpoint: dict(entry, refresh_token='') for endpoint, entry in entries.items()}, indent=1)
        if any(kind == REFRESH_TOKEN_KIND for _line, kind in self._find(blanked.encode('utf-8'))):
            self.hits.append((path, 0, REFRESH_TOKEN_KIND))

    def _unwrapped_hits(self, data):
        """Line numbers of key fragments in ``data`` read without line breaks."""
        starts, joined, position = [], [], 0
        for line in data.split(b'\n'):
            starts.append(position)
            part = LINE_BREAKS.sub(b'', line)
            joined.append(part)
            position += len(part)
        joined = b''.join(joined)
        return {(bisect.bisect_right(starts, match.start()), 'private_key_unwrapped') for match in self._fragments.finditer(joined)}

    def check_cache(self, directory, tokens, since):
        """A token cache holds issued tokens only, never a credential; an entry written during the run, a token this server issued."""
        self.caches.append(directory)
        credentials = self.secrets.credentials()
        signatures = {token.rsplit('.', 1)[-1] for token in tokens}
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name == CACHE_KEY_FILE or name.endswith('.lock') or not os.path.isfile(path):
                continue
            data = _read_bytes(path) or b''
            self.files += 1
            self.bytes += len(data)
            for needle, kind in credentials.items():
                if needle in data:
                    self.problems.append((path, 'holds a %s' % kind))
            if name.startswith('.') and name.endswith('.tmp'):
                self.problems.append((path, 'temporary file left behind'))
                continue
            self.cache_entries += 1
            if name.startswith(REGISTRY_PREFIX):
                self._check_registry_entry(path, data, tokens)
                continue
            allowed = ANSWER_KEYS if name.startswith(ANSWER_PREFIX) else CACHE_ENTRY_KEYS
            self._check_cache_entry(path, data, allowed, signatures, since)

    def check_session_store(self, directory, since, this_run_only=True):
        """A security-session store holds session ids the server handed out, each with when it ends, and nothing else.

        Without ``this_run_only`` (the store in HOME, which other runs of the
        suite on this machine, with test servers of their own, share), an entry
        may hold a session id another server handed out.
        """
        self.session_stores.append(directory)
        secrets = {needle: kind for needle, kind in self.secrets.needles.items() if kind != SESSION_KIND}
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name == SESSION_STORE_KEY_FILE or name.endswith('.lock') or not os.path.isfile(path):
                continue
            data = _read_bytes(path) or b''
            self.files += 1
            self.bytes += len(data)
            for needle, kind in secrets.items():
                if needle in data:
                    self.problems.append((path, 'holds a %s' % kind))
            if not name.startswith(SESSION_ENTRY_PREFIX):
                self.problems.append((path, 'not a security-session entry (a temporary file left behind, or a stranger)'))
                continue
            self.session_entries += 1
            try:
                entry = json.loads(data.decode('ascii'))
            except ValueError:
                entry = None
            if not isinstance(entry, dict) or set(entry) != SESSION_ENTRY_KEYS or not isinstance(entry['session_id'], str):
                self.problems.append((path, 'not a security-session entry (only session_id and expires_at)'))
            elif this_run_only and os.stat(path).st_mtime >= since and entry['session_id'] not in self.secrets.session_ids:
                self.problems.append((path, 'holds a session id the test server did not hand out in this run'))

    def _check_registry_entry(self, path, data, tokens):
        try:
            entry = json.loads(data.decode('utf-8'))
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or set(entry) != REGISTRY_KEYS or not isinstance(entry['entries'], list) or not all(
                isinstance(item, dict) and all(isinstance(value, str) for value in item.values()) for item in entry['entries']):
            self.problems.append((path, 'not a Registry listing (only url, entries of strings and read_at)'))
        elif any(token.encode('utf-8') in data for token in tokens):
            self.problems.append((path, 'a Registry listing that holds an issued token'))

    def _check_cache_entry(self, path, data, allowed, signatures, since):
        try:
            entry = json.loads(data.decode('utf-8'))
        except ValueError:
            self.problems.append((path, 'not a JSON cache entry'))
            return
        if not isinstance(entry, dict) or not set(entry) <= allowed or not isinstance(entry.get('token'), str):
            self.problems.append((path, 'holds more than %s: %s' % (' and '.join(sorted(allowed)), sorted(entry))
                                  if isinstance(entry, dict) else 'not an object'))
            return
        parts = entry['token'].split('.')
        if len(parts) != 3 or not all(parts) or not _issued_claims(parts[1]):
            self.problems.append((path, 'holds something that is not an issued token (a JWT with iss, sub, exp)'))
        elif os.stat(path).st_mtime >= since and parts[2] not in signatures:
            self.problems.append((path, 'holds a token the test server did not issue in this run'))


def _issued_claims(payload):
    """True when a JWT payload (base64url) holds the claims every issued token has."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)).decode('utf-8'))
    except ValueError:
        return False
    return isinstance(claims, dict) and all(claims.get(name) for name in ('iss', 'sub', 'exp'))


def _refresh_token_entries(data):
    """The entries of a refresh-token file (``{"<token endpoint>": {"refresh_token": str, ...}}``), else None."""
    try:
        entries = json.loads(data.decode('utf-8'))
    except ValueError:
        return None
    if not isinstance(entries, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get('refresh_token'), str) for entry in entries.values()):
        return None
    return entries


def _is_server_workdir(path):
    return os.path.isfile(os.path.join(path, 'fixtures.json')) and os.path.isfile(os.path.join(path, 'material.json'))


def _touched_since(directory, files, since):
    return any(os.lstat(os.path.join(directory, name)).st_mtime >= since for name in files)


def walk_files(root, skip, newer_than=None, on_cache=None, on_session_store=None):
    """Regular files under ``root`` (not following links), leaving out the paths in ``skip`` and server workdirs.

    A token cache (a directory with a cache.key) goes to ``on_cache`` instead,
    a security-session store (with a sessions.key) to ``on_session_store``;
    with ``newer_than``, only one the run wrote to.
    """
    uid = os.getuid()
    for parent, dirs, files in os.walk(root):
        for key_file, found in ((CACHE_KEY_FILE, on_cache), (SESSION_STORE_KEY_FILE, on_session_store)):
            if found is not None and key_file in files:
                if newer_than is None or _touched_since(parent, files, newer_than):
                    found(parent)
                dirs[:] = []
                break
        else:
            found = None
        if found is not None:
            continue
        dirs[:] = sorted(name for name in dirs if os.path.join(parent, name) not in skip
                         and not _is_server_workdir(os.path.join(parent, name)))
        for name in sorted(files):
            path = os.path.join(parent, name)
            if path in skip:
                continue
            try:
                status = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(status.st_mode) or status.st_uid != uid:
                continue
            if newer_than is not None and status.st_mtime < newer_than:
                continue
            yield path


def run_scan(collection, since_path, fixtures_path, cache_roots, home_roots=(), refresh_token_files=()):
    """The Scan of one run, and what was looked at.

    ``home_roots``: where the collection and UNICORE's clients keep state in the
    user's home; of their files, those in ``refresh_token_files`` may hold refresh tokens.
    """
    collection = os.path.realpath(collection)
    since = os.stat(since_path).st_mtime
    secrets, tokens, workdir = collect_secrets(fixtures_path)
    scan = Scan(secrets)
    output = os.path.join(collection, 'tests', 'output')
    leak_dir = os.path.join(output, 'leak-scan')
    caches = set()
    stores = set()

    skip = {os.path.realpath(workdir), os.path.join(output, 'testserver'), os.path.join(output, 'harness', SERVER_STDOUT)}
    for path in walk_files(output, skip, on_cache=caches.add, on_session_store=stores.add):
        if os.path.dirname(path) == leak_dir:
            if os.path.basename(path) == 'report.txt':
                continue  # this scan's own report
            scan.scan_file(path, 'run output and Ansible log (-vvvv)')
        else:
            scan.scan_file(path, 'tests/output (JUnit, .tmp, logs)')

    for root in cache_roots:
        if os.path.isdir(root):
            for _path in walk_files(root, set(), on_cache=caches.add, on_session_store=stores.add):
                pass
    refresh_token_files = {os.path.realpath(path) for path in refresh_token_files}
    for root in home_roots:
        if os.path.isdir(root):
            for path in walk_files(root, set(), newer_than=since, on_cache=caches.add, on_session_store=stores.add):
                if os.path.realpath(path) in refresh_token_files:
                    scan.scan_refresh_token_file(path, "the clients' state in HOME (refresh-token files, caches)")
                else:
                    scan.scan_file(path, "the clients' state in HOME (refresh-token files, caches)")
    for directory in sorted(caches):
        scan.check_cache(directory, tokens, since)
    for directory in sorted(stores):
        scan.check_session_store(directory, since, this_run_only=os.path.realpath(directory).startswith(output + os.sep))
    return scan, tokens


def report(scan, tokens, out=sys.stdout):
    """The summary; returns the exit status."""
    counts = scan.secrets.counts()
    print('leak scan: %d files, %d bytes scanned' % (scan.files, scan.bytes), file=out)
    for area, (files, size) in sorted(scan.areas.items()):
        print('  %s: %d files, %d bytes' % (area, files, size), file=out)
    print('secrets searched: %s (%d tokens issued in this run; %d key lines shared or public, not searched)'
          % (', '.join('%s %d' % item for item in sorted(counts.items())), len(tokens), scan.secrets.skipped_key_lines), file=out)
    print('token caches: %d directories, %d entries checked (entries: issued tokens only, no credential)'
          % (len(scan.caches), scan.cache_entries), file=out)
    print('security-session stores: %d directories, %d entries checked (entries: session ids the server handed out, and their end)'
          % (len(scan.session_stores), scan.session_entries), file=out)
    for directory in scan.session_stores:
        print('  %s' % directory, file=out)
    print('refresh-token files at their places: %d (refresh tokens allowed there as an entry\'s refresh_token only)'
          % len(scan.refresh_token_files), file=out)
    for path in scan.refresh_token_files:
        print('  %s' % path, file=out)
    for directory in scan.caches:
        print('  %s' % directory, file=out)
    for path, line, kind in scan.hits:
        print('LEAK: %s:%s: %s' % (path, line or 'outside refresh_token', kind), file=out)
    for path, problem in scan.problems:
        print('TOKEN CACHE: %s: %s' % (path, problem), file=out)
    status = 0
    if not scan.secrets.needles or 'password' not in counts:
        print('nothing to search for: no secrets found in the fixtures', file=out)
        status = 1
    if scan.hits or scan.problems:
        status = 1
    print('hits: %d, token cache problems: %d' % (len(scan.hits), len(scan.problems)), file=out)
    return status


def write_junit(path, status, text):
    """One JUnit test case, failed when status is not 0."""
    suite = ET.Element('testsuite', name='integration', tests='1', failures='0' if status == 0 else '1')
    case = ET.SubElement(suite, 'testcase', classname='integration', name='secrets-never-leak')
    if status != 0:
        lines = [line for line in text.splitlines() if line.startswith(('LEAK:', 'TOKEN CACHE:', 'nothing', 'self-test FAILED'))]
        failure = ET.SubElement(case, 'failure', message=lines[0] if lines else 'leak scan failed')
        failure.text = text
    else:
        ET.SubElement(case, 'system-out').text = text
    ET.ElementTree(suite).write(path, encoding='utf-8', xml_declaration=True)


def self_test(out=sys.stdout):
    """The scanner finds planted secrets (and a bad cache entry) and passes a clean tree."""
    # pylint: disable=consider-using-with
    base = tempfile.mkdtemp(prefix='leak-scan-self-test-')
    secret_password = 'planted-password-%s' % os.urandom(6).hex()
    workdir = os.path.join(base, 'server')
    os.makedirs(os.path.join(workdir, 'keys'))
    body = [os.urandom(48).hex()[:64] for _line in range(6)]
    with open(os.path.join(workdir, 'keys', 'k'), 'w', encoding='ascii') as handle:
        handle.write('-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n' % '\n'.join(body))
    token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4IiwiaXNzIjoieSIsImV4cCI6MX0.' + os.urandom(64).hex()
    with open(os.path.join(workdir, 'issued-tokens.log'), 'w', encoding='ascii') as handle:
        handle.write(token + '\n')
    session_id = 'planted-session-%s' % os.urandom(8).hex()
    with open(os.path.join(workdir, 'issued-sessions.log'), 'w', encoding='ascii') as handle:
        handle.write(session_id + '\n')
    client_secret, refresh_token = 'planted-secret-%s' % os.urandom(6).hex(), os.urandom(24).hex()
    access_token, kept_refresh_token = os.urandom(24).hex(), os.urandom(24).hex()
    other_secret = 'planted-other-secret-%s' % os.urandom(6).hex()
    with open(os.path.join(workdir, 'oidc-issued-tokens.log'), 'w', encoding='ascii') as handle:
        handle.write('access %s\nrefresh %s\naccess %s\nrefresh %s\n' % (os.urandom(24).hex(), refresh_token, access_token, kept_refresh_token))
    fixtures = {'users': {'u': {'password': secret_password}}, 'oidc_tokens': {}, 'keys': {'k': {'path': os.path.join(workdir, 'keys', 'k')}},
                'oidc': {'clients': {'confidential': {'secret': client_secret}, 'public': {'id': 'p'}, 'other': {'secret': other_secret}}}}
    for name, content in (('fixtures.json', json.dumps(fixtures)), ('material.json', '{}')):
        with open(os.path.join(workdir, name), 'w', encoding='utf-8') as handle:
            handle.write(content)
    collection = os.path.join(base, 'ansible_collections', 'ns', 'name')
    output = os.path.join(collection, 'tests', 'output')
    temp = os.path.join(output, 'tmp')  # the suite's own temporary directory
    cache = os.path.join(temp, 'cache')
    # where the collection and UCC keep refresh tokens in a home
    own_state, ucc_state = os.path.join(base, 'home', '.cache', 'unicore.auth'), os.path.join(base, 'home', '.ucc')
    sessions = os.path.join(own_state, 'security-sessions')
    refresh_token_files = [os.path.join(own_state, 'oidc-refresh-tokens'), os.path.join(ucc_state, 'refresh-tokens')]
    for directory in (os.path.join(output, 'leak-scan'), os.path.join(output, 'harness'), cache, own_state, ucc_state, sessions):
        os.makedirs(directory)
    since = os.path.join(output, 'leak-scan', 'run-started')
    open(since, 'w', encoding='ascii').close()
    for key_path in (os.path.join(cache, CACHE_KEY_FILE), os.path.join(sessions, SESSION_STORE_KEY_FILE)):
        with open(key_path, 'wb') as handle:
            handle.write(os.urandom(32))

    def write(path, text):
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)

    def scan():
        return run_scan(collection, since, os.path.join(workdir, 'fixtures.json'), [], [own_state, ucc_state], refresh_token_files)[0]

    write(os.path.join(output, 'leak-scan', 'console.log'), 'ok\nnothing secret here\n')
    write(os.path.join(output, 'harness', SERVER_STDOUT), json.dumps({'ready': True, 'oidc': {'client_secret': client_secret}}) + '\n')
    write(os.path.join(cache, 'entry'), json.dumps({'token': token, 'issuer': 'CN=x'}))
    write(os.path.join(cache, ANSWER_PREFIX + 'entry'), json.dumps({'token': token, 'reusable_until': 1, 'warnings': []}))
    listing = {'url': 'https://r/REGISTRY', 'entries': [{'href': 'https://r/SITE/rest/core', 'type': 'CoreServices'}], 'read_at': 1}
    write(os.path.join(cache, REGISTRY_PREFIX + 'entry'), json.dumps(listing))
    write(os.path.join(sessions, SESSION_ENTRY_PREFIX + 'entry'), json.dumps({'session_id': session_id, 'expires_at': 1}))
    write(refresh_token_files[0], json.dumps({'https://idp/token': {'refresh_token': kept_refresh_token}, 'https://other/token': {
        'refresh_token': 'not-issued-here', 'note': 'kept'}}, indent=2))
    clean = scan()
    checks = [('a clean tree passes', not clean.hits and not clean.problems and clean.files == 7 and clean.cache_entries == 3
               and clean.session_entries == 1),
              ('a refresh-token file at its place may hold refresh tokens as refresh_token', clean.refresh_token_files == refresh_token_files[:1])]

    write(os.path.join(output, 'leak-scan', 'console.log'), 'ok\n+ demo_password=%s\n' % secret_password)
    write(os.path.join(temp, 'left-behind'), 'x\n%s\n' % body[3])
    write(os.path.join(temp, 'refresh-tokens'), json.dumps({'https://idp/token': {'refresh_token': refresh_token}}))
    write(os.path.join(output, 'leak-scan', 'oidc.log'), 'client_secret=%s\nother=%s\n' % (client_secret, other_secret))
    write(os.path.join(output, 'leak-scan', 'ansible.log'), '"content": "%s"\n' % '\\n'.join(body[1:5]))
    write(os.path.join(output, 'junit.xml'), '<x>%s</x>\n' % token)
    write(os.path.join(output, 'leak-scan', 'verbose.log'), 'X-UNICORE-SecuritySession: %s\n' % session_id)
    write(os.path.join(sessions, SESSION_ENTRY_PREFIX + 'entry'), json.dumps({'session_id': session_id, 'expires_at': 1, 'password': secret_password}))
    write(os.path.join(cache, 'entry'), json.dumps({'token': token, 'issuer': 'CN=x', 'password': secret_password}))
    write(os.path.join(cache, ANSWER_PREFIX + 'entry'), json.dumps({'token': token, 'reusable_until': 1, 'issuer': 'CN=x'}))
    write(os.path.join(cache, REGISTRY_PREFIX + 'entry'), json.dumps(dict(listing, token=token)))
    write(refresh_token_files[0], json.dumps({'https://idp/token': {'refresh_token': kept_refresh_token}, 'https://other/token': {
        'refresh_token': 'x', 'access_token': access_token, 'copy': refresh_token}}, indent=2))
    write(refresh_token_files[1], kept_refresh_token + '\n')
    write(os.path.join(own_state, '.oidc-refresh-tokens.x1.tmp'), json.dumps({'https://idp/token': {'refresh_token': kept_refresh_token}}))
    dirty = scan()
    hits = {(os.path.basename(path), line, kind) for path, line, kind in dirty.hits}
    checks += [
        ('a password in the console log is found', ('console.log', 2, 'password') in hits),
        ("a key line in the suite's temporary directory is found", ('left-behind', 2, 'private_key_line') in hits),
        ('a key as one escaped string is found', ('ansible.log', 1, 'private_key_unwrapped') in hits),
        ('an issued token is found', ('junit.xml', 1, 'issued_token') in hits),
        ('a security session id outside a session store is found', ('verbose.log', 1, SESSION_KIND) in hits),
        ('a credential in a security-session entry is found', any(
            path.startswith(sessions) and 'password' in problem for path, problem in dirty.problems)),
        ('a security-session entry holding more than it should is found', any(
            path.startswith(sessions) and 'only session_id and expires_at' in problem for path, problem in dirty.problems)),
        ('a refresh token the OIDC provider issued is found', ('refresh-tokens', 1, 'oidc_refresh_token') in hits),
        ('the OIDC client secret is found', ('oidc.log', 1, 'oidc_client_secret') in hits),
        ("another OIDC client's secret is found", ('oidc.log', 2, 'oidc_client_secret') in hits),
        ('a refresh token outside refresh_token in a refresh-token file is found', ('oidc-refresh-tokens', 0, 'oidc_refresh_token') in hits),
        ('an access token in a refresh-token file is found', ('oidc-refresh-tokens', 7, 'oidc_access_token') in hits),
        ('a refresh token in its place, as refresh_token, is no hit', not any(
            name == 'oidc-refresh-tokens' and line == 3 for name, line, _kind in hits)),
        ('a file of another shape at a refresh-token file\'s place is scanned as any other', ('refresh-tokens', 1, 'oidc_refresh_token') in hits
         and refresh_token_files[1] not in dirty.refresh_token_files),
        ('a refresh-token file beside its place is scanned as any other', ('.oidc-refresh-tokens.x1.tmp', 1, 'oidc_refresh_token') in hits),
        ("the server's ready line may carry the client secret", not any(name == SERVER_STDOUT for name, _line, _kind in hits)),
        ('a credential in a token cache is found', any('password' in problem for _path, problem in dirty.problems)),
        ('an answer holding more than it should is found',
         any(path.endswith(ANSWER_PREFIX + 'entry') and 'holds more than' in problem for path, problem in dirty.problems)),
        ('a Registry listing holding more than it should is found',
         any(path.endswith(REGISTRY_PREFIX + 'entry') and 'not a Registry listing' in problem for path, problem in dirty.problems)),
        ('the report never shows a secret', secret_password not in _report_text(dirty) and body[3] not in _report_text(dirty)),
    ]
    failed = [name for name, passed in checks if not passed]
    for name, passed in checks:
        if out is not None or not passed:
            print('self-test %s: %s' % ('ok' if passed else 'FAILED', name), file=out or sys.stdout)
    _remove_tree(base)
    return len(checks), failed


def _report_text(scan):
    class Text:  # pylint: disable=too-few-public-methods
        """A file-like collector."""

        def __init__(self):
            self.parts = []

        def write(self, text):
            """Collect text."""
            self.parts.append(text)

    text = Text()
    report(scan, [], out=text)
    return ''.join(text.parts)


def _remove_tree(path):
    for parent, dirs, files in os.walk(path, topdown=False):
        for name in files:
            os.unlink(os.path.join(parent, name))
        for name in dirs:
            os.rmdir(os.path.join(parent, name))
    os.rmdir(path)


def main():
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--collection', help='the collection copy the integration suite ran in')
    parser.add_argument('--since', help='a file touched when the run started')
    parser.add_argument('--fixtures', help="the test server's fixtures.json (default: COLLECTION/tests/output/testserver/fixtures.json)")
    parser.add_argument('--junit', help='write the outcome as a JUnit XML test case here')
    parser.add_argument('--self-test', action='store_true', help='plant secrets in a temporary tree and check that they are found')
    args = parser.parse_args()
    if args.self_test:
        return 1 if self_test()[1] else 0
    if not args.collection or not args.since:
        parser.error('--collection and --since are required')
    fixtures = args.fixtures or os.path.join(args.collection, 'tests', 'output', 'testserver', 'fixtures.json')
    cache_base = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
    home = os.path.expanduser('~')
    # the collection's default oidc_refresh_token_file (in ~/.cache, whatever XDG_CACHE_HOME says), UCC's,
    # and PyUNICORE 2.0.2's, whose default path is HOME + ".ucc/refresh-tokens"
    refresh_token_files = [os.path.join(home, '.cache', 'unicore.auth', 'oidc-refresh-tokens'), os.path.join(home, '.ucc', 'refresh-tokens'),
                           os.path.join(home + '.ucc', 'refresh-tokens')]
    home_roots = sorted({os.path.realpath(path) for path in [os.path.join(cache_base, 'unicore.auth')]
                         + [os.path.dirname(path) for path in refresh_token_files]})
    # the token cache's default place, and the security-session store's (in ~/.cache, whatever XDG_CACHE_HOME says)
    stores = [os.path.join(cache_base, 'unicore.auth', 'tokens'), os.path.join(home, '.cache', 'unicore.auth', 'security-sessions')]
    scan, tokens = run_scan(args.collection, args.since, fixtures, stores,
                            home_roots, refresh_token_files)

    class Tee:  # pylint: disable=too-few-public-methods
        """Print and keep the text for the JUnit case."""

        def __init__(self):
            self.parts = []

        def write(self, text):
            """Print and collect."""
            self.parts.append(text)
            sys.stdout.write(text)

    tee = Tee()
    # first prove that the scanner finds what it looks for
    checks, failed = self_test(out=None)
    print('self-test: %d of %d checks passed (planted secrets found, a clean tree passes)' % (checks - len(failed), checks), file=tee)
    status = report(scan, tokens, out=tee)
    if failed:
        status = 1
    if args.junit:
        write_junit(args.junit, status, ''.join(tee.parts))
    return status


if __name__ == '__main__':
    sys.exit(main())

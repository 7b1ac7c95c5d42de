# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrent unicore_auth_token runs on one dest, watched by a reader that must never see a torn file.

Two ansible-playbook runs each issue and write a token 20 times (force: true)
to the same dest, while a reader opens and reads dest and ``<dest>.site`` as
fast as it can. Every read must be one complete token that decodes, issued by
DEMO-SITE and not expired, with a record that names the same site.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time

from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info

from conftest import read_bytes
from reliability_support import jwt_parts, normalised_dn

WRITERS = 2
ITERATIONS = 20


class Reader(threading.Thread):
    """Reads the token file and its record in a loop, and counts what it sees."""

    def __init__(self, dest, site):
        super().__init__(daemon=True)
        self.dest = dest
        self.site_path = dest + '.site'
        self.site_url = site['url']
        self.site_dn = normalised_dn(site['dn'])
        self.stop = threading.Event()
        self.reads = 0
        self.torn = 0
        self.examples = []
        self.tokens = set()  # digests: a token is a secret
        self.inodes = set()

    def run(self):
        while not self.stop.is_set():
            self.read_once()

    def read_once(self):
        try:
            with open(self.dest, 'rb') as handle:
                inode = os.fstat(handle.fileno()).st_ino
                data = handle.read()
            with open(self.site_path, 'rb') as handle:
                record = handle.read()
        except OSError as exc:
            # A rename never leaves the name absent, not even for an instant.
            self.reads += 1
            self.fail('cannot read: %s' % exc)
            return
        self.reads += 1
        self.inodes.add(inode)
        problem = self.token_problem(data) or self.record_problem(record, data)
        if problem:
            self.fail(problem)
        else:
            self.tokens.add(hashlib.sha256(data).hexdigest())

    def token_problem(self, data):
        """Why ``data`` is not one complete token of DEMO-SITE (the file holds the token and a newline)."""
        text = data.decode('ascii', errors='replace')
        if not text.endswith('\n') or text.count('\n') != 1:
            return 'not one line ending in a newline (%d bytes)' % len(data)
        token = text[:-1]
        try:
            dummy, claims = jwt_parts(token)
            info = token_info(token)
        except Exception as exc:  # pylint: disable=broad-except
            return 'not a decodable token (%d bytes): %s' % (len(data), exc)
        if normalised_dn(claims.get('iss')) != self.site_dn or normalised_dn(info['iss']) != self.site_dn:
            return 'issuer is not DEMO-SITE'
        if not isinstance(claims.get('exp'), int) or claims['exp'] <= time.time() or info['expires_in'] <= 0:
            return 'expired or no expiry'
        return None

    def record_problem(self, record, data):
        """Why the ``.site`` record read with ``data`` does not describe its site."""
        try:
            fields = json.loads(record.decode('utf-8'))
        except ValueError:
            return '.site is not complete JSON (%d bytes)' % len(record)
        if not isinstance(fields, dict) or fields.get('url') != self.site_url:
            return '.site does not name the site URL'
        issuer = jwt_parts(data.decode('ascii').strip())[1]['iss']
        if normalised_dn(fields.get('issuer')) != normalised_dn(issuer):
            return ".site names another issuer than the token's"
        return None

    def fail(self, problem):
        self.torn += 1
        if len(self.examples) < 10:
            self.examples.append(problem)


def run_writers(playbooks, dest, scratch):
    """Start the writers at once, wait for them; fail when one of them failed."""
    logs = [os.path.join(scratch, 'writer-%d.log' % number) for number in range(WRITERS)]
    writers = [playbooks.start('writer.yml', {'dest': dest, 'iterations': ITERATIONS}, log) for log in logs]
    for writer in writers:
        writer.wait(timeout=600)
        writer.log_file.close()
    for number, (writer, log) in enumerate(zip(writers, logs)):
        with open(log, encoding='utf-8') as output:
            assert writer.returncode == 0, 'writer %d failed:\n%s' % (number, output.read()[-3000:])


def test_concurrent_writers_never_tear_the_token_file(playbooks, control, site, scratch, figures):
    dest = os.path.join(scratch, 'unicore.token')
    control.reset()
    # The reader starts on a file that exists: the first token.
    returncode, output = playbooks.run('writer.yml', {'dest': dest, 'iterations': 1})
    assert returncode == 0, output[-3000:]

    reader = Reader(dest, site)
    reader.start()
    started = time.time()
    try:
        run_writers(playbooks, dest, scratch)
    finally:
        reader.stop.set()
        reader.join(timeout=60)
    seconds = time.time() - started
    tokens_issued = control.stats()['tokens_issued']['total']

    leftovers = sorted(name for name in os.listdir(scratch) if name.endswith('.tmp'))
    modes = tuple(stat.S_IMODE(os.lstat(path).st_mode) for path in (dest, dest + '.site'))
    figures.record('concurrent_writers', {
        'writers': WRITERS, 'iterations_each': ITERATIONS, 'tokens_issued': tokens_issued,
        'reads': reader.reads, 'torn_reads': reader.torn,
        'distinct_tokens_read': len(reader.tokens), 'distinct_inodes_read': len(reader.inodes),
        'seconds': round(seconds, 1), 'final_mode': '%04o' % modes[0], 'leftover_temporary_files': len(leftovers),
    })
    print('%d reads of dest and .site while %d writers wrote %d tokens; %d torn; %d distinct tokens and %d inodes seen'
          % (reader.reads, WRITERS, tokens_issued, reader.torn, len(reader.tokens), len(reader.inodes)))

    assert reader.torn == 0, '%d of %d reads saw a torn, partial or missing file, such as: %s' % (reader.torn, reader.reads, reader.examples)
    # The test proves something only if the reader read a lot, while the file kept changing.
    assert reader.reads >= 1000
    assert len(reader.tokens) >= 2 and len(reader.inodes) >= 2
    assert tokens_issued == 1 + WRITERS * ITERATIONS
    final_problem = reader.token_problem(read_bytes(dest))
    assert final_problem is None
    assert modes == (0o600, 0o600)
    assert leftovers == []

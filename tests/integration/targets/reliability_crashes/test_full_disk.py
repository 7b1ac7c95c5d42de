# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A full file system under dest and under the lookup's cache_dir: a real one, a 64 KiB tmpfs filled to the last block.

Only root may mount it: as another user these tests are skipped, with the
reason. The tmpfs is unmounted in the fixture's teardown whatever happens
(and runme.sh unmounts whatever is left under its scratch directory).

* The module, asked for a new token (force) with dest on the full file
  system, fails naming dest and the cause before it asks for a token; the
  kept token and its record are byte for byte (and inode) unchanged, and no
  temporary file is left. A kept token that fits is still returned.
* Writing the token file itself on the full file system (the collection's
  TokenFile, as the module calls it) fails with ENOSPC, naming dest, and
  changes nothing.
* The lookup, with its cache on the full file system (a cache that exists,
  and one it would have to create), returns a token the server issued, and
  warns once, naming cache_dir and the cause, never the token.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import stat
import subprocess
import time

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._private_files import FileWriteError
from ansible_collections.unicore.auth.plugins.module_utils._token_file import TokenFile

from conftest import digest

TMPFS_SIZE = '64k'
NO_SPACE = os.strerror(errno.ENOSPC)  # No space left on device


def unmount(mountpoint):
    """Unmount ``mountpoint``; lazily when it is busy. Returns what failed, or None."""
    for command in (['umount', mountpoint], ['umount', '-l', mountpoint]):
        if subprocess.run(command, capture_output=True, check=False).returncode == 0:
            return None
    return 'umount %s failed' % mountpoint


def is_mountpoint(path):
    with open('/proc/self/mounts', encoding='utf-8') as mounts:
        return any(line.split()[1] == path for line in mounts)


class FullFileSystem:
    """A small tmpfs at ``path``, and a filler file that takes all of its room."""

    def __init__(self, path):
        self.path = path
        self.filler = os.path.join(path, 'filler')

    def fill(self):
        """Write zeros until the file system refuses (ENOSPC); the bytes written."""
        written = 0
        descriptor = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 512, 1):
                chunk = b'\0' * size
                while True:
                    try:
                        written += os.write(descriptor, chunk)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(descriptor)
        return written

    def free_bytes(self):
        status = os.statvfs(self.path)
        return status.f_bavail * status.f_frsize

    def empty(self):
        os.unlink(self.filler)


@pytest.fixture
def full_fs(scratch):
    if os.geteuid() != 0:
        pytest.skip('needs root: the full file system is a 64 KiB tmpfs that these tests mount, and only root may mount one')
    mountpoint = os.path.join(scratch, 'full')
    os.mkdir(mountpoint, 0o700)
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0700' % TMPFS_SIZE, 'tmpfs', mountpoint],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        os.rmdir(mountpoint)
        pytest.skip('cannot mount a tmpfs here (%s): there is no full file system to test on' % mounted.stderr.strip())
    try:
        yield FullFileSystem(mountpoint)
    finally:
        failure = unmount(mountpoint)
        assert failure is None and not is_mountpoint(mountpoint), failure
        os.rmdir(mountpoint)


def snapshot(directory):
    """Every name in ``directory`` with its bytes, permission bits and inode."""
    files = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        status = os.lstat(path)
        with open(path, 'rb') as handle:
            files[name] = (digest(handle.read()), stat.S_IMODE(status.st_mode), status.st_ino)
    return files


def normalised(text):
    """``text`` without whitespace: Ansible may wrap a long warning."""
    return ''.join(str(text).split())


def well_formed_token(signature_length):
    """A JWT shaped and claimed as UNICORE issues one (its signature is not checked here)."""
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode('utf-8')).rstrip(b'=').decode('ascii')
    now = int(time.time())
    claims = {'sub': 'CN=Demo User,O=UNICORE,C=EU', 'iss': 'CN=Other', 'iat': now, 'exp': now + 3600}
    return '%s.%s.%s' % (part({'alg': 'RS256'}), part(claims), 'x' * signature_length)


def test_the_module_fails_on_a_full_disk_naming_dest_and_the_cause_and_keeps_the_old_token(
        full_fs, playbooks, control, issued_tokens, figures):
    dest = os.path.join(full_fs.path, 'unicore.token')
    first, dummy = playbooks.results('module_cases.yml', [{'name': 'first', 'dest': dest}])
    assert (first['first']['failed'], first['first']['issued']) == (False, True), first

    filled = full_fs.fill()
    free = full_fs.free_bytes()
    before = snapshot(full_fs.path)
    control.reset()
    issued_tokens.mark()
    cases = [{'name': 'new_token_on_a_full_disk', 'dest': dest, 'force': True},
             {'name': 'kept_token_on_a_full_disk', 'dest': dest}]
    results, output = playbooks.results('module_cases.yml', cases)
    tokens_issued = control.stats()['tokens_issued']['total']
    after = snapshot(full_fs.path)

    # Writing the token file itself, as the module would after issuing: the file system's own ENOSPC.
    # A token of about 2 KiB that passes the check every token meets before it is written.
    replacement = well_formed_token(signature_length=2000)
    with pytest.raises(FileWriteError) as write_error:
        TokenFile(dest).write(replacement, 'https://site.example/rest/core', 'CN=Other', 0o600)
    after_write = snapshot(full_fs.path)

    refused, kept = results['new_token_on_a_full_disk'], results['kept_token_on_a_full_disk']
    expected = 'dest: cannot write %s: %s (no token was issued, and the kept files are unchanged)' % (dest, NO_SPACE)
    figures.record('full_disk_module', {
        'tmpfs_size': TMPFS_SIZE, 'filler_bytes': filled, 'free_bytes': free, 'message': refused['msg'],
        'tokens_issued': tokens_issued, 'files_unchanged': after == before and after_write == before,
        'kept_token_returned': not kept['failed'] and not kept['changed'] and not kept['issued'],
        'token_file_write_error': str(write_error.value), 'token_file_write_errno': write_error.value.errno,
    })

    assert free == 0
    assert refused['failed'] and not refused['issued']
    assert refused['msg'] == expected
    assert tokens_issued == 0 and issued_tokens.since_mark() == []
    assert (kept['failed'], kept['changed'], kept['issued']) == (False, False, False)
    assert after == before, 'the files on the full file system changed: %s -> %s' % (before, after)
    assert sorted(after) == ['filler', 'unicore.token', 'unicore.token.site']
    assert write_error.value.errno == errno.ENOSPC
    assert str(write_error.value) == 'dest: cannot write %s: %s' % (dest, NO_SPACE)
    assert after_write == before
    assert 'x' * 64 not in output
    os.unlink(dest)
    os.unlink(dest + '.site')


def test_the_lookup_returns_a_token_on_a_full_disk_and_warns_once_that_it_cannot_keep_it(
        full_fs, playbooks, control, issued_tokens, figures):
    existing = os.path.join(full_fs.path, 'cache-existing')
    fresh = os.path.join(full_fs.path, 'cache-fresh')
    first, dummy = playbooks.results('lookup_cases.yml', [{'name': 'first', 'cache_dir': existing}])
    assert not first['first']['failed'], first
    existing_before = sorted(os.listdir(existing))

    full_fs.fill()
    free = full_fs.free_bytes()
    control.reset()
    issued_tokens.mark()
    # Another lifetime: not in the cache, so a token is issued and would be kept.
    cases = [{'name': 'existing_cache', 'cache_dir': existing, 'lifetime': 1800},
             {'name': 'fresh_cache', 'cache_dir': fresh, 'lifetime': 1800}]
    results, output = playbooks.results('lookup_cases.yml', cases)
    issued = issued_tokens.since_mark()
    tokens_issued = control.stats()['tokens_issued']['total']
    existing_after = sorted(os.listdir(existing))
    fresh_after = sorted(os.listdir(fresh)) if os.path.isdir(fresh) else None

    warnings = {}
    flat_output = normalised(output)
    for case in cases:
        expected = ('unicore.auth.unicore_token: cache_dir: cannot keep the token in %s (%s); it is used for this task only, '
                    'and a later lookup asks the site again' % (case['cache_dir'], NO_SPACE))
        warnings[case['name']] = {
            'expected': expected,
            'in_output': flat_output.count(normalised(expected)),
            'in_result': sum(normalised(expected) in normalised(warning) for warning in results[case['name']].get('warnings', [])),
        }
    figures.record('full_disk_lookup', {
        'free_bytes': free, 'tokens_issued': tokens_issued,
        'returned_issued_token': dict((name, result['digest'] in [digest(token) for token in issued]) for name, result in results.items()),
        'warnings': warnings, 'existing_cache_added': sorted(set(existing_after) - set(existing_before)), 'fresh_cache_files': fresh_after,
    })

    assert free == 0
    assert tokens_issued == 2 and len(issued) == 2
    for case in cases:
        result = results[case['name']]
        assert not result['failed'], result['msg']
        assert result['digest'] in [digest(token) for token in issued]
        assert warnings[case['name']]['in_output'] == 1, warnings[case['name']]
        assert warnings[case['name']]['in_result'] <= 1
    for token in issued:
        assert token not in output and token.rsplit('.', 1)[-1][:48] not in output
    # Nothing kept: at most the empty lock file of the entry that could not be written.
    added = sorted(set(existing_after) - set(existing_before))
    assert set(existing_before) <= set(existing_after)
    assert all(name.endswith('.lock') and os.path.getsize(os.path.join(existing, name)) == 0 for name in added), added
    assert fresh_after in (None, [], ['cache.key.lock'])

    # Room again: the next lookup keeps its token, and says nothing.
    full_fs.empty()
    again, output = playbooks.results('lookup_cases.yml', [{'name': 'room_again', 'cache_dir': existing, 'lifetime': 1800}])
    assert not again['room_again']['failed']
    assert normalised('cannot keep the token') not in normalised(output)
    assert len([name for name in os.listdir(existing) if name.startswith('token-') and not name.endswith('.lock')]) == 2

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the unicore_token lookup says at ``-v``: how it got its token, for which site, until when; once per run and token
(internal to the collection).

Ansible runs a lookup in a fresh forked worker for every host and task, so 50
hosts would say the same thing 50 times. The first worker of a playbook run to
tell of a token creates a marker file (with ``O_EXCL``, so exactly one wins);
the others find it and say nothing. A marker is an empty file, named by a hash
of the run (the ansible-playbook process: its pid and its start time, so that a
reused pid is another run) and of the token's claims (issuer, subject, times,
flags), which are no secret: never of the token, whose signature makes it one.

Markers are state of a run, not of the token cache: they live in a private
directory of this user's in the temporary directory (``marker_directory``), so
the cache directory keeps holding its entries only. Markers older than
``MARKER_MAX_AGE`` are swept when a new one is made.

Nothing here runs at verbosity 0: the lookup asks ``wanted()`` first.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
import tempfile
import time

from ansible.utils.display import Display

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import decode_token_claims, token_info
from ansible_collections.unicore.auth.plugins.module_utils._urls import display_url

PREFIX = 'unicore.auth.unicore_token: '
# The private directory of the markers, in the temporary directory; %d is the user's uid.
MARKER_DIRECTORY = 'unicore.auth-%d-reported'
MARKER_PREFIX = 'run-'
# The claims that tell tokens apart (a token's payload holds no secret; its signature is never used).
MARKER_CLAIMS = ('iss', 'sub', 'iat', 'exp', 'jti', 'renewable', 'limited', 'uid', 'preferences')
# A run that lasts longer than this may say it once more; the markers' directory does not grow.
MARKER_MAX_AGE = 24 * 3600

# How the token was got: ISSUED, RENEWED (a new token in place of a cached one grown too old, or for a renewable
# token given as the bearer token, with itself), CACHED (a token of the cache) or REMEMBERED (a remembered answer).
ISSUED = 'issued'
RENEWED_CACHED = 'renewed cached'
RENEWED_GIVEN = 'renewed given'
CACHED = 'cached'
REMEMBERED = 'remembered'

_SENTENCES = {
    ISSUED: 'issued a token for %(site)s (%(subject)s), valid until %(until)s',
    RENEWED_CACHED: 'renewed the cached token for %(site)s (%(subject)s), as %(reason)s: the new one is valid until %(until)s',
    RENEWED_GIVEN: 'renewed the bearer token for %(site)s (%(subject)s) with itself: the new one is valid until %(until)s',
    CACHED: 'reused the cached token for %(site)s (%(subject)s), valid until %(until)s',
    REMEMBERED: 'reused the token of a remembered answer for %(site)s (%(subject)s), valid until %(until)s',
}


def wanted():
    """True at ``-v`` and above: only then is anything said (or any marker made)."""
    return Display().verbosity >= 1


def feedback_line(outcome, site, token, reason=None):
    """The line for ``outcome`` (one of the constants above): site, subject and expiry from the token's claims, never the token."""
    info = _claims(token)
    return PREFIX + _SENTENCES[outcome] % {
        'site': display_url(site) if site else 'the site of %s' % (info.get('iss') or 'an unknown issuer'),
        'subject': info.get('sub') or 'unknown subject',
        'until': info.get('expires_at') or 'an unknown time',
        'reason': reason or 'it no longer fitted',
    }


def report(outcome, site, token, reason=None):
    """Say ``outcome`` at ``-v`` unless a worker of this run told of this token already; True when it was said.

    ``site`` is the site's url (or how the options name it), ``reason`` why a
    cached token was renewed.
    """
    if not wanted() or not first_to_report(token):
        return False
    Display().v(feedback_line(outcome, site, token, reason))
    return True


def first_to_report(token, markers=None):
    """Create this run's marker for the token in ``markers`` (default ``marker_directory()``); False when it exists.

    When the markers cannot be kept (no private directory, no room), every
    worker says it: feedback asked for is not lost.
    """
    markers = marker_directory() if markers is None else markers
    if markers is None:
        return True
    path = os.path.join(markers, marker_name(run_identifier(), _claims(token)))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
    except FileExistsError:
        return False
    except OSError:
        return True
    os.close(descriptor)
    sweep_markers(markers)
    return True


def marker_directory():
    """The markers' directory, created 0700; None when it is not a private directory of this user's (a link, another's, open to others)."""
    path = os.path.join(tempfile.gettempdir(), MARKER_DIRECTORY % os.getuid())
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        status = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o077:
        return None
    return path


def marker_name(run, claims):
    """The marker's file name: a hash of the run and of the token's ``claims`` (``token_info``); never of the token."""
    identity = json.dumps({'run': run, 'claims': [claims.get(name) for name in MARKER_CLAIMS]},
                          sort_keys=True, separators=(',', ':'), default=str)
    return MARKER_PREFIX + hashlib.blake2b(identity.encode('utf-8'), digest_size=20).hexdigest()


def run_identifier(proc='/proc'):
    """The playbook run: the pid of the ansible-playbook process and, where ``/proc`` tells it, that process's start time.

    A lookup runs in a worker that ansible-playbook forked, and now and then
    in ansible-playbook itself (templating outside a task). The start time
    (field 22 of ``/proc/<pid>/stat``, in clock ticks since boot) tells a pid
    used again by a later run apart; without ``/proc`` the pid alone does.
    """
    parent = multiprocessing.parent_process()
    pid = os.getpid() if parent is None else parent.pid
    try:
        with open(os.path.join(proc, str(pid), 'stat'), 'rb') as handle:
            # The command name (field 2) may hold spaces and parentheses: count from the last ")".
            fields = handle.read().rsplit(b')', 1)[1].split()
        started = fields[19].decode('ascii')
    except (OSError, IndexError, UnicodeError):
        started = ''
    return '%d:%s' % (pid, started)


def sweep_markers(markers, now=None, max_age=MARKER_MAX_AGE):
    """Remove the markers in the directory ``markers`` older than ``max_age`` (their runs are over); how many were removed."""
    now = time.time() if now is None else now
    removed = 0
    try:
        names = [name for name in os.listdir(markers) if name.startswith(MARKER_PREFIX)]
    except OSError:
        return 0
    for name in names:
        path = os.path.join(markers, name)
        try:
            if now - os.lstat(path).st_mtime > max_age:
                os.unlink(path)
                removed += 1
        except OSError:
            pass  # swept by another worker at the same time
    return removed


def _claims(token):
    """The token's claims as ``token_info`` reads them, and its ``jti``; {} when it is no UNICORE token."""
    try:
        claims = token_info(token)
        claims['jti'] = decode_token_claims(token).get('jti')
    except UnicoreError:
        return {}
    return claims

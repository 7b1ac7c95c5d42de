# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs of the module and of the lookup in forked children that are killed (SIGKILL) while they write.

Ansible runs a lookup in a forked worker, and a module as a fresh Python
process; either can be killed at any moment (a timeout, the OOM killer, a
cancelled AWX job). Here the pytest process, with the collection's code
imported once, forks one child per run: the module's ``main()`` with its
arguments (as ``python -m ...unicore_auth_token args.json`` would run it,
without AnsiballZ's second or so of unpacking), or the lookup's
``LookupModule.run``. Both talk to the test server over HTTPS and write with
the collection's own code.

To kill inside the write window often, and to know where each kill landed, the
child reports through a pipe:

* ``begin KIND`` and ``end`` around each write (``TokenFile.write`` for dest,
  ``TokenCache.write_entry`` for a cache entry, KIND ``dest``, ``token`` or
  ``answer``);
* ``step NAME`` before each file operation the write makes (mkstemp, flock,
  fchmod, write, fsync, replace, ...), followed, inside a write only, by a pause
  of ``pause`` seconds: the test-only hook that stretches the window so that a
  random delay lands in every part of it (not while the write looks for copies
  that killed runs left, which would otherwise take the more time the more
  kills there were);
* ``cleaned SCOPE N`` when a run has looked for what killed runs left.

The parent waits for ``begin`` of the write it aims at, sleeps a random delay
(uniform over 1.25 times the measured length of the window), sends SIGKILL,
reaps the child, and reads what the child reported: a kill is inside the
window when ``begin`` came and ``end`` did not.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import random
import select
import signal
import sys
import tempfile
import time
import traceback

# The file operations of a write, as _private_files makes them.
TRACED_OS = ('open', 'write', 'fsync', 'fchmod', 'replace', 'unlink', 'close', 'listdir')
TRACED_FCNTL = ('flock',)
TRACED_TEMPFILE = ('mkstemp',)
BEGIN_TIMEOUT = 30


class Tracer:
    """In the child: reports the steps of each write through the pipe ``descriptor``, pausing after each step inside a write."""

    def __init__(self, descriptor, pause):
        self.descriptor = descriptor
        self.pause = pause
        self.inside = False
        self.cleaning_up = False

    def event(self, text):
        # CLOCK_MONOTONIC is the same clock in every process: the parent times the window by the child's own clock.
        os.write(self.descriptor, ('%.6f %s\n' % (time.monotonic(), text)).encode('ascii'))

    def window(self, kind_of, function):
        """``function`` (a write), reported as one window of the kind ``kind_of(args)`` names."""
        def traced_write(*args, **kwargs):
            self.event('begin %s' % kind_of(args))
            self.inside = True
            try:
                return function(*args, **kwargs)
            finally:
                self.inside = False
                self.event('end')
        return traced_write

    def step(self, name, function):
        def traced_step(*args, **kwargs):
            if not self.inside or self.cleaning_up:
                return function(*args, **kwargs)
            self.event('step %s' % name)
            try:
                return function(*args, **kwargs)
            finally:
                time.sleep(self.pause)
        return traced_step

    def cleaning(self, function):
        def traced_cleaning(directory, name=None):
            # Not stretched: the more copies killed runs left, the longer it would take, and the kills would land there.
            self.cleaning_up = True
            try:
                removed = function(directory, name)
            finally:
                self.cleaning_up = False
            self.event('cleaned %s %d' % (name or '*', removed))
            return removed
        return traced_cleaning


class TracedModule:
    """A stand-in for a module (os, fcntl, tempfile) whose ``names`` report their calls to a Tracer."""

    def __init__(self, module, tracer, names):
        self._module = module
        self._traced = dict((name, tracer.step(name, getattr(module, name))) for name in names)

    def __getattr__(self, name):
        traced = self._traced.get(name)
        return traced if traced is not None else getattr(self._module, name)


def install_tracer(descriptor, pause):
    """Make the collection's file code, in this child only, report its writes through ``descriptor``."""
    from ansible_collections.unicore.auth.plugins.module_utils import _private_files, _token_file
    from ansible_collections.unicore.auth.plugins.plugin_utils import _token_cache

    tracer = Tracer(descriptor, pause)
    _private_files.os = TracedModule(os, tracer, TRACED_OS)
    _private_files.fcntl = TracedModule(fcntl, tracer, TRACED_FCNTL)
    _private_files.tempfile = TracedModule(tempfile, tracer, TRACED_TEMPFILE)
    for module in (_private_files, _token_file, _token_cache):
        if hasattr(module, 'remove_stale_temporaries'):  # (absent from versions before the crash tests, which they were run against)
            module.remove_stale_temporaries = tracer.cleaning(module.remove_stale_temporaries)
    _token_file.TokenFile.write = tracer.window(lambda args: 'dest', _token_file.TokenFile.write)
    _token_cache.TokenCache.write_entry = tracer.window(lambda args: args[1].split('-', 1)[0], _token_cache.TokenCache.write_entry)


def prepare():
    """Import, once and before any fork, what the children run."""
    # pylint: disable=unused-import,import-outside-toplevel
    import requests  # noqa: F401
    from ansible.module_utils import basic  # noqa: F401
    from ansible.parsing.dataloader import DataLoader  # noqa: F401
    from ansible_collections.unicore.auth.plugins.lookup import unicore_token  # noqa: F401
    from ansible_collections.unicore.auth.plugins.module_utils import _client, _credentials  # noqa: F401
    from ansible_collections.unicore.auth.plugins.modules import unicore_auth_token  # noqa: F401
    from ansible_collections.unicore.auth.plugins.plugin_utils import _token_lookup  # noqa: F401


def module_run(arguments):
    """The child's work for a unicore_auth_token run with ``arguments``: the module's main(), as ansible-playbook would run it."""
    def run():
        from ansible.module_utils import basic
        from ansible_collections.unicore.auth.plugins.modules import unicore_auth_token

        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': arguments}).encode('utf-8')  # pylint: disable=protected-access
        basic._ANSIBLE_PROFILE = 'legacy'  # pylint: disable=protected-access
        unicore_auth_token.main()
    return run


def lookup_run(arguments):
    """The child's work for a lookup with ``arguments``: what a forked worker of Ansible does for one host and task."""
    def run():
        from ansible.parsing.dataloader import DataLoader
        from ansible_collections.unicore.auth.plugins.lookup.unicore_token import LookupModule

        token = LookupModule(loader=DataLoader()).run([], variables={}, **arguments)[0]
        # What the parent may know of it: that there is one, and its digest (a token is a secret).
        print(json.dumps({'failed': False, 'token_sha256': _sha256(token)}))
    return run


def _sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


class Run:
    """One forked run: what it reported, how it ended."""

    def __init__(self):
        self.events = []       # (seconds since fork, event text)
        self.begin_at = None   # when the aimed-at write began (monotonic)
        self.end_at = None
        self.killed = False
        self.delay = None
        self.status = None
        self.output = b''
        self.aim = None
        self._pending = b''

    def texts(self, prefix):
        return [text for dummy, text in self.events if text.startswith(prefix)]

    @property
    def began(self):
        return self.begin_at is not None

    @property
    def ended(self):
        return self.end_at is not None

    def in_window(self):
        return self.began and not self.ended

    def last_step(self):
        """The last file operation reported inside the aimed-at write ('' for none yet)."""
        steps = ''
        inside = False
        for dummy, text in self.events:
            if text == self.aim:
                inside, steps = True, 'begun'
            elif text == 'end' and inside:
                inside, steps = False, 'ended'
            elif inside and text.startswith('step '):
                steps = text[5:]
        return steps

    def result(self):
        """The JSON a finished run printed last (the module's result, or the lookup's digest), without the token."""
        for line in reversed(self.output.decode('utf-8', errors='replace').splitlines()):
            line = line.strip()
            if line.startswith('{'):
                try:
                    result = json.loads(line)
                except ValueError:
                    continue
                result.pop('token', None)
                return result
        return None


def _read_events(descriptor, run, started, until, timeout):
    """Read events until one is ``until`` (True), EOF (False) or ``timeout`` seconds (None)."""
    deadline = time.monotonic() + timeout
    pending = run._pending  # pylint: disable=protected-access
    while True:
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            stamp, text = line.decode('ascii').split(' ', 1)
            now = float(stamp)
            run.events.append((now - started, text))
            if text == run.aim and run.begin_at is None:
                run.begin_at = now
            elif text == 'end' and run.begin_at is not None and run.end_at is None:
                run.end_at = now
            if until is not None and text == until:
                run._pending = pending  # pylint: disable=protected-access
                return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            run._pending = pending  # pylint: disable=protected-access
            return None
        ready, dummy, dummy = select.select([descriptor], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(descriptor, 65536)
        if not chunk:
            run._pending = pending  # pylint: disable=protected-access
            return False
        pending += chunk


def fork_run(work, aim, pause, kill_within=None, rng=None):
    """Fork a child that runs ``work()``; with ``kill_within`` (seconds), SIGKILL it a random delay after ``aim`` (``begin KIND``).

    Without ``kill_within`` the run goes to its end. Returns a Run.
    """
    run = Run()
    run.aim = aim
    events_read, events_write = os.pipe()
    output_read, output_write = os.pipe()
    started = time.monotonic()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        status = 70
        try:
            os.close(events_read)
            os.close(output_read)
            os.dup2(output_write, 1)
            os.dup2(output_write, 2)
            # pytest's capture replaced sys.stdout with a file of its own: what the run prints goes to the pipe, never into the test's output.
            sys.stdout = io.TextIOWrapper(io.FileIO(1, 'w', closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(io.FileIO(2, 'w', closefd=False), write_through=True)
            install_tracer(events_write, pause)
            work()
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # pylint: disable=broad-except
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)  # pylint: disable=protected-access
    os.close(events_write)
    os.close(output_write)
    try:
        if kill_within is not None:
            began = _read_events(events_read, run, started, aim, BEGIN_TIMEOUT)
            if began:
                run.delay = (rng or random).uniform(0, kill_within)
                time.sleep(max(0.0, run.begin_at + run.delay - time.monotonic()))
            # No begin within the timeout: the run is stuck (a lock that outlived its holder?); kill it all the same.
            os.kill(pid, signal.SIGKILL)
            run.killed = True
        # Up to the end of the child's events (EOF: it has exited), then its status.
        if _read_events(events_read, run, started, None, BEGIN_TIMEOUT) is None:
            os.kill(pid, signal.SIGKILL)  # a run that never ends: the test fails on its status
        run.status = os.waitpid(pid, 0)[1]
        run.output = _read_all(output_read)
    finally:
        os.close(events_read)
        os.close(output_read)
    return run


def _read_all(descriptor):
    chunks = []
    while True:
        ready, dummy, dummy = select.select([descriptor], [], [], 5)
        if not ready:
            break
        chunk = os.read(descriptor, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b''.join(chunks)

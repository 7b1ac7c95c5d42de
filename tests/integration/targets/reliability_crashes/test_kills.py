# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGKILL while writing: the module at dest, the lookup in its token cache (token entries and remembered answers).

Each series forks 200 runs against the test server and kills each one a random
delay after the write it aims at began (see crash_harness.py). After every
kill:

* the file holds the old content or the new one, whole: the old bytes exactly,
  or a complete token (and record, or cache entry) of DEMO-SITE; never a part,
  never empty, and with mode 0600;
* a temporary copy left behind is the user's and 0600 (readable by no one
  else); the next run that looks removes every one that holds data (an empty
  one after a grace period: it may belong to a writer that has not locked it
  yet); after the last kill, one more run leaves none at all;
* no lock is held: every lock file of the cache can be taken at once, and
  the next run never waits (a run that does not reach its write within 30 s
  fails the test).

How many kills landed inside the write window is counted, and must be most of
them: a series that never hit the window would prove nothing.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import random
import re
import stat
import statistics
import time

from ansible_collections.unicore.auth.plugins.module_utils._private_files import EMPTY_TEMPORARY_GRACE

from crash_harness import fork_run, lookup_run, module_run, prepare
from conftest import digest, jwt_parts, normalised_dn, token_problem

KILLS = 200
# The test-only pause after each file operation inside a write (see crash_harness.py).
PAUSE = 0.001
# Most kills must land inside the window: the random delay spans 1.25 times its length.
MIN_IN_WINDOW = 120
CALIBRATION_RUNS = 3
WINDOW_SPAN = 1.25
DEST_TEMPORARY = re.compile(r'^\.unicore\.token\..*\.(?:tmp|probe)$')
CACHE_TEMPORARY = re.compile(r'^\..*\.(?:tmp|probe)$')
OTHER_SITE_DN = 'CN=Not DEMO-SITE,O=UNICORE,C=EU'


def read_or_none(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def inode_of(path):
    """The file at ``path`` (None for none): a write renames a new file into place, so the old one's inode tells old from new.

    The content cannot: two tokens issued within the same second for the same request are the same bytes.
    """
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def replace_file(path, data):
    """Put ``data`` at ``path`` (0600) as a whole, as the old state a run starts from."""
    temporary = path + '.planting'
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'wb') as handle:
        handle.write(data)
    os.replace(temporary, path)


class Leftovers:
    """The temporary copies in a directory, by name: (size, mode, uid)."""

    def __init__(self, directory, pattern):
        self.directory = directory
        self.pattern = pattern

    def now(self):
        found = {}
        for name in os.listdir(self.directory):
            if self.pattern.match(name):
                try:
                    status = os.lstat(os.path.join(self.directory, name))
                except FileNotFoundError:
                    continue
                found[name] = (status.st_size, stat.S_IMODE(status.st_mode), status.st_uid, stat.S_ISREG(status.st_mode))
        return found

    def age(self, seconds):
        """Make every copy ``seconds`` older: time passing, for the grace period of empty copies."""
        for name in self.now():
            path = os.path.join(self.directory, name)
            status = os.lstat(path)
            os.utime(path, (status.st_atime - seconds, status.st_mtime - seconds), follow_symlinks=False)


class Tally:
    """What a series of kills found."""

    def __init__(self, name):
        self.name = name
        self.kills = 0
        self.in_window = 0
        self.before_window = 0
        self.after_window = 0
        self.steps = {}
        self.outcomes = {'old': 0, 'new': 0}
        self.problems = []
        self.leftovers_created = 0
        self.leftovers_with_data = 0
        self.leftover_modes = set()
        self.max_leftovers = 0
        self.stale_removed = 0
        self.stale_survived = []
        self.locks_blocked = 0
        self.kills_holding_a_lock = 0
        self.runs_not_reaching_write = 0

    def problem(self, number, text):
        if len(self.problems) < 20:
            self.problems.append('kill %d: %s' % (number, text))
        else:
            self.problems.append('...')

    def count_kill(self, run):
        self.kills += 1
        if run.in_window():
            self.in_window += 1
            step = run.last_step()
            self.steps[step] = self.steps.get(step, 0) + 1
        elif run.ended:
            self.after_window += 1
        else:
            self.before_window += 1

    def count_leftovers(self, number, before, after):
        for name, (size, mode, uid, regular) in after.items():
            if name not in before:
                self.leftovers_created += 1
                self.leftovers_with_data += size > 0
                self.leftover_modes.add('%04o' % mode)
            if not regular or uid != os.geteuid() or mode & 0o077:
                self.problem(number, 'temporary copy %s is mode %04o, uid %d, regular %s' % (name, mode, uid, regular))
        self.max_leftovers = max(self.max_leftovers, len(after))

    def check_cleaning(self, number, run, before, after, matches_scope):
        """Copies with data that were there before a run that looked for them must be gone after it."""
        for text in run.texts('cleaned '):
            scope, removed = text.split()[1:]
            self.stale_removed += int(removed)
            for name, (size, dummy, dummy, dummy) in before.items():
                if size > 0 and matches_scope(name, scope) and name in after:
                    self.stale_survived.append('kill %d: %s survived a run that cleaned %s' % (number, name, scope))

    def figures(self, seconds, **extra):
        values = {
            'series': self.name, 'kills': self.kills, 'in_window': self.in_window, 'before_window': self.before_window,
            'after_window': self.after_window, 'steps': self.steps, 'outcomes': self.outcomes, 'torn_or_wrong': len(self.problems),
            'leftovers_created': self.leftovers_created, 'leftovers_with_data': self.leftovers_with_data,
            'leftover_modes': sorted(self.leftover_modes), 'max_leftovers_at_once': self.max_leftovers,
            'stale_copies_removed_by_next_runs': self.stale_removed, 'stale_copies_surviving_a_cleaning_run': len(self.stale_survived),
            'locks_blocked_after_kill': self.locks_blocked, 'kills_holding_a_lock': self.kills_holding_a_lock,
            'seconds': round(seconds, 1),
        }
        values.update(extra)
        return values

    def assert_clean(self, kills, min_in_window):
        assert self.kills == kills
        assert self.problems == [], self.problems
        assert self.stale_survived == [], self.stale_survived[:10]
        assert self.locks_blocked == 0
        assert self.runs_not_reaching_write == 0
        assert self.in_window >= min_in_window, '%s: only %d of %d kills landed inside the write window' % (
            self.name, self.in_window, self.kills)


def window_span(runs):
    """How long after ``begin`` a kill may come: 1.25 times the median window of runs that were not killed."""
    for run in runs:
        assert run.began and run.ended, 'a calibration run did not write: %s' % (run.result(),)
    return WINDOW_SPAN * statistics.median(run.end_at - run.begin_at for run in runs)


def assert_finished(run, what):
    result = run.result()
    assert os.WIFEXITED(run.status) and os.WEXITSTATUS(run.status) == 0 and result is not None and not result.get('failed'), \
        '%s failed: %s' % (what, result if result is not None else run.output.decode('utf-8', 'replace')[-2000:])
    return result


# ---------------------------------------------------------------- the module and dest

def dest_problem(token_bytes, record_bytes, site):
    """Why dest and its record, read together, are not one whole token of DEMO-SITE and a record naming its issuer."""
    if token_bytes is None or record_bytes is None:
        return 'dest or its record is missing'
    text = token_bytes.decode('ascii', errors='replace')
    if not text.endswith('\n') or text.count('\n') != 1:
        return 'dest is not one line (%d bytes)' % len(token_bytes)
    problem = token_problem(text.strip(), site)
    if problem:
        return 'dest: %s' % problem
    try:
        record = json.loads(record_bytes.decode('utf-8'))
    except ValueError:
        return 'the record is not whole JSON (%d bytes)' % len(record_bytes)
    if not isinstance(record, dict) or record.get('url') != site['url']:
        return 'the record does not name the site'
    if normalised_dn(record.get('issuer')) != normalised_dn(jwt_parts(text.strip())[1]['iss']):
        return "the record names another issuer than the token's"
    return None


def test_killing_the_module_while_it_writes_dest_leaves_the_old_token_or_the_new_one(login, site, scratch, figures):
    prepare()
    dest = os.path.join(scratch, 'unicore.token')
    record_path = dest + '.site'
    arguments = dict(login, dest=dest, force=True)
    leftovers = Leftovers(scratch, DEST_TEMPORARY)
    tally = Tally('module')
    seed = random.randrange(2 ** 32)
    rng = random.Random(seed)
    print('module series: random seed %d' % seed)
    started = time.monotonic()

    calibration = [fork_run(module_run(arguments), 'begin dest', PAUSE) for dummy in range(CALIBRATION_RUNS)]
    for run in calibration:
        assert_finished(run, 'a calibration run')
    span = window_span(calibration)

    for number in range(1, KILLS + 1):
        old_token, old_record, old_inode = read_or_none(dest), read_or_none(record_path), inode_of(dest)
        before = leftovers.now()
        run = fork_run(module_run(arguments), 'begin dest', PAUSE, kill_within=span, rng=rng)
        tally.count_kill(run)
        if not run.began:
            tally.runs_not_reaching_write += 1
        new_token, new_record = read_or_none(dest), read_or_none(record_path)
        problem = dest_problem(new_token, new_record, site)
        if problem:
            tally.problem(number, problem + ' (last step: %s)' % run.last_step())
        elif inode_of(dest) != old_inode:
            tally.outcomes['new'] += 1
        elif new_token != old_token:
            tally.problem(number, 'dest was changed in place')
        else:
            tally.outcomes['old'] += 1
        if not problem and new_record != old_record:
            # The same site's record, written anew (perhaps beside the old token, when the kill came between the renames): the same bytes.
            tally.problem(number, 'the record changed')
        modes = tuple(mode_of(path) for path in (dest, record_path) if os.path.lexists(path))
        if modes != (0o600, 0o600):
            tally.problem(number, 'modes after the kill: %s' % ['%04o' % mode for mode in modes])
        after = leftovers.now()
        tally.count_leftovers(number, before, after)
        tally.check_cleaning(number, run, before, after, lambda name, scope: name.startswith('.%s.' % scope))

    # The next run, once the grace period of empty copies has passed: nothing left, and a whole token.
    stale = leftovers.now()
    leftovers.age(2 * EMPTY_TEMPORARY_GRACE)
    final = fork_run(module_run(arguments), 'begin dest', PAUSE)
    result = assert_finished(final, 'the run after the last kill')
    remaining = leftovers.now()
    seconds = time.monotonic() - started
    figures.record('kills_module', tally.figures(
        seconds, seed=seed, pause_ms=PAUSE * 1000, window_ms=round(span / WINDOW_SPAN * 1000, 1),
        left_before_final_run=len(stale), left_after_final_run=len(remaining), final_run_changed=result.get('changed'),
        runs_not_reaching_write=tally.runs_not_reaching_write))

    tally.assert_clean(KILLS, MIN_IN_WINDOW)
    assert tally.outcomes['old'] > 0 and tally.outcomes['new'] > 0, tally.outcomes
    assert result['changed'] and result['issued']
    assert dest_problem(read_or_none(dest), read_or_none(record_path), site) is None
    assert (mode_of(dest), mode_of(record_path)) == (0o600, 0o600)
    assert remaining == {}, 'the run after the last kill left %s' % remaining
    assert sorted(os.listdir(scratch)) == ['unicore.token', 'unicore.token.site']
    os.unlink(dest)
    os.unlink(record_path)


# ---------------------------------------------------------------- the lookup and its token cache

class CacheFiles:
    """The token entry and the remembered answer of one lookup's inputs in ``directory``."""

    def __init__(self, directory):
        self.directory = directory
        names = sorted(os.listdir(directory))
        token_entries = [name for name in names if name.startswith('token-') and not name.endswith('.lock')]
        answers = [name for name in names if name.startswith('answer-')]
        assert len(token_entries) == 1 and len(answers) == 1, names
        self.entry = os.path.join(directory, token_entries[0])
        self.answer = os.path.join(directory, answers[0])

    def locks(self):
        return [os.path.join(self.directory, name) for name in os.listdir(self.directory) if name.endswith('.lock')]

    def blocked_locks(self):
        """The lock files that someone still holds (none may be: every holder is dead)."""
        blocked = []
        for path in self.locks():
            descriptor = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                blocked.append(os.path.basename(path))
            finally:
                os.close(descriptor)
        return blocked


def entry_problem(data, site):
    """Why ``data`` is not a whole token entry of DEMO-SITE; (problem, token)."""
    try:
        entry = json.loads(data.decode('utf-8'))
    except (ValueError, AttributeError):
        return 'the token entry is not whole JSON (%s bytes)' % (None if data is None else len(data)), None
    if not isinstance(entry, dict) or sorted(entry) != ['clock_offset', 'issuer', 'token'] or not isinstance(entry['clock_offset'], int):
        return 'the token entry has other fields', None
    problem = token_problem(entry['token'], site)
    if problem:
        return 'the token entry: %s' % problem, None
    if normalised_dn(entry['issuer']) != normalised_dn(site['dn']):
        return 'the token entry names another issuer', None
    return None, entry['token']


def answer_problem(data, site, token):
    """Why ``data`` is not a whole remembered answer, still valid, for ``token``."""
    try:
        answer = json.loads(data.decode('utf-8'))
    except (ValueError, AttributeError):
        return 'the answer is not whole JSON (%s bytes)' % (None if data is None else len(data))
    if not isinstance(answer, dict) or sorted(answer) != ['reusable_until', 'token', 'warnings']:
        return 'the answer has other fields'
    if token_problem(answer['token'], site) or answer['token'] != token:
        return "the answer's token is not the cached one"
    if not answer['reusable_until'] > time.time() or answer['warnings'] != []:
        return 'the answer is stale or carries warnings'
    return None


def test_killing_lookups_while_they_write_the_token_cache_leaves_old_or_new_entries(login, site, scratch, figures):
    """Half of the kills aim at the token entry (a token that no longer fits, so a new one is issued and cached), half at the
    remembered answer (the token entry fits, the answer is stale)."""
    prepare()
    cache_dir = os.path.join(scratch, 'cache')
    arguments = dict(login, cache_dir=cache_dir)
    seed = random.randrange(2 ** 32)
    rng = random.Random(seed)
    print('lookup series: random seed %d' % seed)
    started = time.monotonic()

    first = fork_run(lookup_run(arguments), 'begin token', PAUSE)
    assert_finished(first, 'the first lookup')
    files = CacheFiles(cache_dir)
    leftovers = Leftovers(cache_dir, CACHE_TEMPORARY)
    fitting_entry = read_or_none(files.entry)
    fitting_token = json.loads(fitting_entry)['token']

    def stale_answer(token):
        return json.dumps({'token': token, 'reusable_until': 1, 'warnings': []}).encode('utf-8')

    def misfit_entry(token):
        # A whole entry whose token no longer fits: the cache recorded another issuer for it.
        return json.dumps({'token': token, 'issuer': OTHER_SITE_DN}).encode('utf-8')

    def prepare_state(kind, token):
        replace_file(files.answer, stale_answer(token))
        replace_file(files.entry, misfit_entry(token) if kind == 'token' else fitting_entry)

    spans = {}
    for kind in ('token', 'answer'):
        runs = []
        for dummy in range(CALIBRATION_RUNS):
            prepare_state(kind, fitting_token)
            run = fork_run(lookup_run(arguments), 'begin %s' % kind, PAUSE)
            assert_finished(run, 'a calibration lookup')
            runs.append(run)
            fitting_entry = read_or_none(files.entry)
            fitting_token = json.loads(fitting_entry)['token']
        spans[kind] = window_span(runs)

    tallies = {'token': Tally('lookup: token entry'), 'answer': Tally('lookup: remembered answer')}
    for number in range(1, KILLS + 1):
        kind = 'token' if number % 2 else 'answer'
        tally = tallies[kind]
        prepare_state(kind, fitting_token)
        old_entry, old_answer = read_or_none(files.entry), read_or_none(files.answer)
        old_inodes = inode_of(files.entry), inode_of(files.answer)
        before = leftovers.now()
        run = fork_run(lookup_run(arguments), 'begin %s' % kind, PAUSE, kill_within=spans[kind], rng=rng)
        tally.count_kill(run)
        if not run.began:
            tally.runs_not_reaching_write += 1
        if kind == 'token' and run.in_window():
            tally.kills_holding_a_lock += 1  # the token entry is written under its lock
        entry, answer = read_or_none(files.entry), read_or_none(files.answer)
        if inode_of(files.entry) == old_inodes[0]:
            if entry != old_entry:
                tally.problem(number, 'the token entry was changed in place')
            tally.outcomes['old'] += kind == 'token'
            token = fitting_token if kind == 'answer' else None
        else:
            # A new entry: whole, of DEMO-SITE, recorded as issued by it (the old one named another issuer).
            problem, token = entry_problem(entry, site)
            if problem:
                tally.problem(number, problem + ' (last step: %s)' % run.last_step())
            else:
                tally.outcomes['new'] += kind == 'token'
        if inode_of(files.answer) == old_inodes[1]:
            if answer != old_answer:
                tally.problem(number, 'the answer was changed in place')
            tally.outcomes['old'] += kind == 'answer'
        else:
            problem = answer_problem(answer, site, token)
            if problem:
                tally.problem(number, problem + ' (last step: %s)' % run.last_step())
            else:
                tally.outcomes['new'] += kind == 'answer'
        for path in (files.entry, files.answer):
            if mode_of(path) != 0o600:
                tally.problem(number, '%s is mode %04o' % (os.path.basename(path)[:8], mode_of(path)))
        after = leftovers.now()
        tally.count_leftovers(number, before, after)
        tally.check_cleaning(number, run, before, after,
                             lambda name, scope: scope == '*' or name.startswith('.%s.' % scope))
        blocked = files.blocked_locks()
        if blocked:
            tally.locks_blocked += 1
            tally.problem(number, 'locks still held after the kill: %s' % blocked)
        if token is not None and entry != old_entry and not entry_problem(entry, site)[0]:
            fitting_entry, fitting_token = entry, token

    # The next lookup, once the grace period of empty copies has passed: nothing left, and the cache serves.
    stale = leftovers.now()
    leftovers.age(2 * EMPTY_TEMPORARY_GRACE)
    prepare_state('answer', fitting_token)
    final = fork_run(lookup_run(arguments), 'begin answer', PAUSE)
    result = assert_finished(final, 'the lookup after the last kill')
    remaining = leftovers.now()
    seconds = time.monotonic() - started
    for kind, tally in tallies.items():
        figures.record('kills_lookup_%s' % kind, tally.figures(
            seconds, seed=seed, pause_ms=PAUSE * 1000, window_ms=round(spans[kind] / WINDOW_SPAN * 1000, 1),
            left_before_final_run=len(stale), left_after_final_run=len(remaining),
            runs_not_reaching_write=tally.runs_not_reaching_write, locks=sorted(os.path.basename(path) for path in files.locks())))

    assert sum(tally.kills for tally in tallies.values()) == KILLS
    assert sum(tally.in_window for tally in tallies.values()) >= MIN_IN_WINDOW
    for tally in tallies.values():
        tally.assert_clean(KILLS // 2, MIN_IN_WINDOW // 2)
        assert tally.outcomes['old'] > 0 and tally.outcomes['new'] > 0, (tally.name, tally.outcomes)
    assert result['token_sha256'] == digest(fitting_token)
    assert answer_problem(read_or_none(files.answer), site, fitting_token) is None
    assert remaining == {}, 'the lookup after the last kill left %s' % remaining
    assert files.blocked_locks() == []

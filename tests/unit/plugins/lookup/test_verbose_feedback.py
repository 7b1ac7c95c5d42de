# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the lookup says at -v: issued, renewed or reused, for which site and until when; once per run and token, never the token.

The lookup runs as a task runs it, with the real token cache; the ``site`` fixture
(conftest.py) answers the token requests. ``said`` sets Ansible's verbosity and
collects what the lookup shows at -v; ``run`` stands for the ansible-playbook
process that the lookup's workers belong to.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import tempfile
import time

import pytest

from ansible.utils.display import Display

from ansible_collections.unicore.auth.plugins.plugin_utils import _lookup_feedback
from ansible_collections.unicore.auth.tests.unit.plugins.lookup.conftest import PASSWORD, SITE

SUBJECT = 'CN=Demo User,O=UNICORE,C=EU'


@pytest.fixture
def temporary_directory(tmp_path, monkeypatch):
    """The temporary directory of the controller, where the markers go."""
    path = tmp_path / 'tmp'
    path.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(path))
    return path


@pytest.fixture
def said(monkeypatch, temporary_directory):
    """What the lookup showed with ``display.v``; the verbosity is that of ``ansible-playbook -v`` unless set otherwise."""
    lines = []
    display = Display()
    monkeypatch.setattr(display, 'verbosity', 1)
    monkeypatch.setattr(display, 'v', lines.append)
    return lines


@pytest.fixture
def run(monkeypatch):
    """``run.next()``: a new playbook run begins (another ansible-playbook process)."""
    class Run:
        number = 1

        def next(self):
            self.number += 1
    current = Run()
    monkeypatch.setattr(_lookup_feedback, 'run_identifier', lambda: 'run-%d' % current.number)
    return current


def expiry(token):
    claims = json.loads(base64.urlsafe_b64decode(token.split('.')[1] + '=='))
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(claims['exp']))


def marker_directory(temporary_directory):
    return temporary_directory / ('unicore.auth-%d-reported' % os.getuid())


def markers(temporary_directory):
    directory = marker_directory(temporary_directory)
    return sorted(os.listdir(directory)) if directory.exists() else []


def renewable_token(valid_for=3600):
    """A renewable UNICORE token as the site issues it (nobody here checks the signature)."""
    expires = int(time.time()) + valid_for
    claims = {'sub': SUBJECT, 'iss': 'CN=DEMO-SITE,O=UNICORE,C=EU', 'iat': expires - valid_for, 'exp': expires, 'renewable': 'true'}
    encoded = [base64.urlsafe_b64encode(json.dumps(part).encode('utf-8')).rstrip(b'=').decode('ascii') for part in ({'alg': 'RS256'}, claims)]
    return '%s.%s.c2lnbmF0dXJl' % tuple(encoded)


def test_a_new_token_is_told_as_issued_with_its_site_subject_and_expiry(site, lookup, said, run):
    issued = site.will_issue()
    assert lookup() == issued
    assert said == ['unicore.auth.unicore_token: issued a token for %s (%s), valid until %s' % (SITE, SUBJECT, expiry(issued))]


def test_the_token_is_told_of_once_per_run_whatever_the_tasks_and_hosts_do(site, lookup, said, run):
    site.will_issue()
    lookup()
    lookup()                    # a remembered answer
    lookup(min_validity=600)    # another answer, the same cached token
    assert len(said) == 1 and ': issued a token' in said[0]


def test_a_later_run_tells_that_it_reused_a_remembered_answer(site, lookup, said, run):
    issued = site.will_issue()
    lookup()
    run.next()
    lookup()
    lookup()
    assert said[1:] == ['unicore.auth.unicore_token: reused the token of a remembered answer for %s (%s), valid until %s'
                        % (SITE, SUBJECT, expiry(issued))]


def test_a_later_run_with_other_inputs_tells_that_it_reused_the_cached_token(site, lookup, said, run):
    issued = site.will_issue()
    lookup()
    run.next()
    assert lookup(min_validity=600) == issued
    assert said[1:] == ['unicore.auth.unicore_token: reused the cached token for %s (%s), valid until %s' % (SITE, SUBJECT, expiry(issued))]
    assert len(site.requests) == 1


def test_a_cached_token_grown_too_old_is_told_as_renewed_with_the_reason(site, lookup, said, run):
    site.will_issue(1, valid_for=400)
    fresh = site.will_issue(2)
    lookup()                                    # fits the default min_validity of 360 s
    assert lookup(min_validity=500) == fresh    # in the same run: another token, so another line
    assert said[1] == ('unicore.auth.unicore_token: renewed the cached token for %s (%s), as it is valid for less than '
                       'min_validity (500 s): the new one is valid until %s' % (SITE, SUBJECT, expiry(fresh)))


def test_a_renewable_token_given_as_the_bearer_token_is_told_as_renewed_with_itself(site, make_lookup, cache_dir, said, run):
    given = renewable_token()
    new = site.will_issue()
    options = {'url': SITE, 'auth_method': 'bearer', 'token': given, 'retries': 0, 'cache_dir': str(cache_dir)}
    assert make_lookup({}).run([], variables={}, **options) == [new]
    assert said == ['unicore.auth.unicore_token: renewed the bearer token for %s (%s) with itself: the new one is valid until %s'
                    % (SITE, SUBJECT, expiry(new))]
    assert given not in said[0]


def test_without_the_cache_every_token_is_told_of(site, lookup, said, run, cache_dir):
    site.will_issue(1)
    site.will_issue(2)
    lookup(cache=False)
    lookup(cache=False)
    assert len(said) == 2 and all(': issued a token' in line for line in said)
    assert not cache_dir.exists()


def test_at_verbosity_0_nothing_is_said_and_no_marker_made(site, lookup, said, run, temporary_directory, monkeypatch):
    monkeypatch.setattr(Display(), 'verbosity', 0)
    site.will_issue()
    lookup()
    lookup()
    assert said == []
    assert not marker_directory(temporary_directory).exists()


def test_no_line_and_no_marker_holds_the_token_or_a_secret(site, lookup, said, run, temporary_directory):
    issued = site.will_issue()
    lookup()
    run.next()
    lookup()
    names = markers(temporary_directory)
    assert len(names) == 2
    for name in names:
        marker = marker_directory(temporary_directory) / name
        assert stat.S_IMODE(marker.lstat().st_mode) == 0o600 and marker.read_bytes() == b''
    for text in said + names:
        assert issued not in text and PASSWORD not in text and 'demouser' not in text
        for part in issued.split('.'):
            assert part not in text


def test_the_first_of_many_forks_to_report_says_it_and_the_others_do_not(tmp_path, run):
    token = renewable_token()
    children = []
    for dummy in range(8):
        pid = os.fork()
        if pid == 0:
            os._exit(0 if _lookup_feedback.first_to_report(token, str(tmp_path)) else 1)
        children.append(pid)
    statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert sorted(statuses) == [0] + [1] * 7


def test_markers_older_than_a_day_are_swept_and_nothing_else(tmp_path):
    for name in ('run-old', 'run-young', 'something-else-old'):
        (tmp_path / name).write_bytes(b'')
    two_days_ago = time.time() - 2 * 24 * 3600
    for name in ('run-old', 'something-else-old'):
        os.utime(tmp_path / name, (two_days_ago, two_days_ago))
    assert _lookup_feedback.sweep_markers(str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == ['run-young', 'something-else-old']


def test_a_run_is_the_playbook_process_and_its_start_time(tmp_path):
    proc = tmp_path / 'proc'
    (proc / str(os.getpid())).mkdir(parents=True)
    stat_line = '%d (ansible-playbook (x)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 20 0 1 %s 99 0\n'
    (proc / str(os.getpid()) / 'stat').write_text(stat_line % (os.getpid(), '424242'))
    first = _lookup_feedback.run_identifier(str(proc))
    assert first == '%d:424242' % os.getpid()
    # The same pid, started again later: another run.
    (proc / str(os.getpid()) / 'stat').write_text(stat_line % (os.getpid(), '434343'))
    assert _lookup_feedback.run_identifier(str(proc)) != first
    # Without /proc, the pid alone.
    assert _lookup_feedback.run_identifier(str(tmp_path / 'none')) == '%d:' % os.getpid()


def test_a_run_in_a_forked_worker_is_its_parent(tmp_path):
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        import multiprocessing
        process = multiprocessing.get_context('fork').Process(target=lambda: os.write(writer, _lookup_feedback.run_identifier().encode()))
        process.start()
        process.join()
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    worker_run = os.read(reader, 1000).decode()
    os.close(reader)
    assert worker_run.split(':')[0] == str(pid)


def test_the_markers_keep_out_of_the_cache_directory_in_a_private_one(site, lookup, said, run, cache_dir, temporary_directory):
    # Every file of the cache directory stays an entry (a JSON object), its key or a lock.
    site.will_issue()
    lookup()
    run.next()
    lookup()
    for name in os.listdir(cache_dir):
        path = cache_dir / name
        assert path.is_file(), name
        if name != 'cache.key' and not name.endswith('.lock'):
            assert isinstance(json.loads(path.read_text()), dict), name
    assert stat.S_IMODE(marker_directory(temporary_directory).lstat().st_mode) == 0o700
    assert len(markers(temporary_directory)) == 2


@pytest.mark.parametrize('make_unfit', [
    lambda path: path.chmod(0o777),
    lambda path: (path.rmdir(), path.symlink_to(path.parent)),
])
def test_a_marker_directory_that_is_not_private_is_not_used_and_every_worker_says_it(site, lookup, said, run, temporary_directory, make_unfit):
    directory = marker_directory(temporary_directory)
    directory.mkdir()
    make_unfit(directory)
    site.will_issue()
    lookup()
    lookup()
    assert len(said) == 2
    assert [name for name in os.listdir(temporary_directory) if name.startswith('run-')] == []
    if directory.is_dir() and not directory.is_symlink():
        assert os.listdir(directory) == []


@pytest.mark.parametrize('variables, environment, told', [
    ({}, {'UNICORE_URL': SITE + '/'}, SITE),
    ({'unicore_url': SITE}, {'UNICORE_URL': 'https://other.example/X/rest/core'}, SITE),
    ({'unicore_registry_url': 'https://host:8080/REGISTRY/rest/registries/default_registry', 'unicore_site': 'PARTNER-SITE'}, {},
     'site PARTNER-SITE of the Registry https://host:8080/REGISTRY/rest/registries/default_registry'),
    ({}, {}, None),
])
def test_a_remembered_answer_names_the_site_as_the_options_do_without_reading_the_registry(variables, environment, told):
    from ansible_collections.unicore.auth.plugins.lookup import unicore_token
    sources = {'direct': {}, 'variables': variables, 'environment': environment, 'ini': {}, 'config_file': None}
    assert unicore_token.told_site(sources) == told


def test_a_line_without_a_known_site_names_the_issuer(run):
    token = renewable_token()
    assert _lookup_feedback.feedback_line(_lookup_feedback.REMEMBERED, None, token) == (
        'unicore.auth.unicore_token: reused the token of a remembered answer for the site of CN=DEMO-SITE,O=UNICORE,C=EU (%s), '
        'valid until %s' % (SUBJECT, expiry(token)))


def test_the_rules_do_not_import_the_feedback_module_by_themselves(fresh_python):
    assert fresh_python([
        'import sys',
        'from ansible.plugins.loader import init_plugin_loader',
        'init_plugin_loader([sys.argv[1]])',
        'from ansible_collections.unicore.auth.plugins.plugin_utils import _token_lookup',
        'import json',
        'print(json.dumps("ansible_collections.unicore.auth.plugins.plugin_utils._lookup_feedback" in sys.modules))',
    ]) is False

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answers that never end: a 300 MiB answer costs the controller only the limit's worth of memory (issue 15).

The test server's ``huge`` fault streams 300 MiB, with a Content-Length or
chunked without one. Each case runs a process that meets it and measures that
process's peak resident memory (``ru_maxrss`` from ``wait4``: the largest of
the process and its descendants, e.g. an ansible-playbook run with its workers
and the module): a Python process reading through the collection's client, and
ansible-playbook with the module and with the lookup, beside a run of each
against the site itself as the baseline. The memory must stay far below the
answer's size: a bound on memory, not a measure of speed. The figures go to
bounded_answers.md in the report directory.

Everything comes from FAULT_CONFIG (integration_config.yml), FAULT_WORK (a
scratch directory) and REPORT_DIR, which runme.sh sets.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlsplit

import pytest
import yaml

HUGE = 300 * 1024 * 1024
MIB = 1024 * 1024
# Far below the answer: the limit (8 MiB at most) and the interpreter. A reader
# that held the answer would need 300 MiB at least.
MAX_PEAK_MIB = 100
# Any run must end by then; ended by force, it fails the case.
HANG_SECONDS = 300
HERE = os.path.dirname(os.path.abspath(__file__))
FIGURES = []


def _control(server, method, path, body=None):
    """A call of the test server's control API."""
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(server['control_url'] + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'} if data else {})
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=server['ca']), timeout=10) as response:
        return json.loads(response.read().decode('utf-8') or 'null')


@pytest.fixture(scope='module')
def server():
    with open(os.environ['FAULT_CONFIG'], encoding='utf-8') as config_file:
        config = yaml.safe_load(config_file)
    coordinates = {'config': os.environ['FAULT_CONFIG'], 'url': config['unicore_testserver_url'], 'ca': config['unicore_testserver_ca'],
                   'control_url': config['unicore_testserver_control_url']}
    _control(coordinates, 'POST', '/reset')
    yield coordinates
    _control(coordinates, 'POST', '/reset')
    _write_report()


def _script(server, path, chunked):
    """A huge answer for the next GET of ``path``; fails the case when an earlier one was not used up."""
    pending = _control(server, 'GET', '/faults')['pending']
    assert pending == [], 'a fault of an earlier case is still pending: %s' % pending
    _control(server, 'POST', '/faults', {'faults': [{'path_prefix': path, 'method': 'GET', 'action': 'huge', 'size': HUGE, 'chunked': chunked}]})


def _measured(command):
    """Run ``command``: (exit code, output, seconds, peak resident MiB of it and its descendants)."""
    # The playbooks' failures are expected: their JUnit files stay apart, as faults.yml's do.
    environment = dict(os.environ, JUNIT_OUTPUT_DIR=os.path.join(os.environ['FAULT_WORK'], 'junit-expected-failures-bounded-answers'))
    with tempfile.TemporaryFile(dir=os.environ['FAULT_WORK']) as output:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=HERE, env=environment)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > HANG_SECONDS:
                process.kill()
            time.sleep(0.05)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode('utf-8', 'replace')
    assert seconds < HANG_SECONDS, 'still running after %d s: killed' % HANG_SECONDS
    return process.returncode, text, seconds, usage.ru_maxrss / 1024.0


def _record(reader, answer, seconds, peak, outcome, own_peak=None):
    FIGURES.append({'reader': reader, 'answer': answer, 'seconds': round(seconds, 1), 'peak_mib': round(peak, 1), 'outcome': outcome,
                    'own_peak_mib': '—' if own_peak is None else own_peak})


def _write_report():
    lines = ['| reader | answer | outcome | seconds | peak memory of the process tree (MiB) | of the reading process itself (MiB) |',
             '|---|---|---|---|---|---|']
    lines.extend('| %(reader)s | %(answer)s | %(outcome)s | %(seconds)s | %(peak_mib)s | %(own_peak_mib)s |' % figure for figure in FIGURES)
    text = '\n'.join(lines) + '\n'
    print('\n' + text)
    report_dir = os.environ.get('REPORT_DIR')
    if report_dir:
        os.makedirs(report_dir, exist_ok=True)
        with open(os.path.join(report_dir, 'bounded_answers.md'), 'w', encoding='utf-8') as report:
            report.write(text)
        with open(os.path.join(report_dir, 'bounded_answers.json'), 'w', encoding='utf-8') as report:
            json.dump(FIGURES, report, indent=2)


ANSWERS = [pytest.param(False, id='content-length'), pytest.param(True, id='chunked')]


def _python_reader(server, kind):
    """(outcome, seconds, peak MiB) of a Python process reading through the collection's client: a token, or the site's JSON."""
    code, output, seconds, peak = _measured([sys.executable, 'bounded_answer_client.py', kind, server['url'], server['ca']])
    assert code == 0, output
    return json.loads(output.strip().splitlines()[-1]), seconds, peak


@pytest.fixture(scope='module')
def python_baseline(server):
    """The peak memory of the same Python process reading the site's own JSON answer."""
    outcome, seconds, peak = _python_reader(server, 'json')
    assert not outcome['failed'], outcome
    _record('Python, client.site_properties()', 'the site (baseline)', seconds, peak, 'succeeds', outcome['peak_mib'])
    return peak, outcome['peak_mib']


@pytest.mark.parametrize('chunked', ANSWERS)
@pytest.mark.parametrize('kind, limit', [('token', '64 KiB'), ('json', '8 MiB')])
def test_a_python_process_reading_a_huge_answer_stays_small(server, python_baseline, kind, limit, chunked):
    path = urlsplit(server['url']).path + ('/token' if kind == 'token' else '')
    _script(server, path, chunked)
    outcome, seconds, peak = _python_reader(server, kind)
    _record('Python, client.%s' % ('issue_auth_token()' if kind == 'token' else 'site_properties()'),
            '300 MiB, %s' % ('chunked' if chunked else 'Content-Length'), seconds, peak, 'fails: larger than %s' % limit,
            outcome['peak_mib'])
    assert outcome['failed']
    assert outcome['message'].startswith('GET %s%s failed: the answer is larger than %s' % (server['url'], '/token' if kind == 'token' else '', limit))
    assert ('Content-Length: %d' % HUGE in outcome['message']) is not chunked
    tree_baseline, own_baseline = python_baseline
    assert peak < MAX_PEAK_MIB
    assert peak < tree_baseline + 32
    assert outcome['peak_mib'] < own_baseline + 32


def _playbook(server, plugin):
    return _measured(['ansible-playbook', '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
                      '-e', '@%s' % server['config'], '-e', 'plugin=%s' % plugin, 'bounded_answers.yml'])


@pytest.mark.parametrize('plugin, path_suffix, limit', [('module', '', '8 MiB'), ('lookup', '/token', '64 KiB')])
def test_ansible_meeting_a_huge_answer_uses_no_more_memory_than_for_a_normal_one(server, plugin, path_suffix, limit):
    code, output, seconds, baseline = _playbook(server, plugin)
    assert code == 0, output[-3000:]
    _record('ansible-playbook, the %s' % plugin, 'the site (baseline)', seconds, baseline, 'succeeds')
    for chunked in (False, True):
        _script(server, urlsplit(server['url']).path + path_suffix, chunked)
        code, output, seconds, peak = _playbook(server, plugin)
        _record('ansible-playbook, the %s' % plugin, '300 MiB, %s' % ('chunked' if chunked else 'Content-Length'), seconds, peak,
                'fails: larger than %s' % limit)
        assert code != 0
        assert 'GET %s%s failed: the answer is larger than %s' % (server['url'], path_suffix, limit) in output
        # The whole tree's largest process, against the same run without the fault.
        assert peak < baseline + 32
        assert peak < HUGE / MIB / 2

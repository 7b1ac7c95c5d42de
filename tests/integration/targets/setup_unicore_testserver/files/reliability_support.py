# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the pytest-based reliability targets share: the test server, ansible-playbook runs of a target's case playbooks, figures.

Each target's runme.sh sets UNICORE_INTEGRATION_CONFIG (integration_config.yml
of the test server the harness started), RELIABILITY_WORK_DIR (a scratch
directory that runme.sh removes) and RELIABILITY_FIGURES_DIR (where each test
leaves its figures for the summary). A target's conftest.py imports the
fixtures below and adds ``playbooks`` for its own directory.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import pytest
import yaml

from control_api import ControlApi

JWT = re.compile(r'^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$')


def normalised_dn(dn):
    """DNs compare as X.500 names: the server writes them without spaces after commas."""
    return ','.join(part.strip() for part in str(dn).split(','))


def _segment(text):
    return json.loads(base64.urlsafe_b64decode(text + '=' * (-len(text) % 4)).decode('utf-8'))


def jwt_parts(token):
    """The header and claims of a JWT, decoded independently of the collection; ValueError when it is not one."""
    if not isinstance(token, str) or not JWT.match(token):
        raise ValueError('not three base64url segments')
    header, claims, dummy = token.split('.')
    header, claims = _segment(header), _segment(claims)
    if not isinstance(header, dict) or not header.get('alg') or not isinstance(claims, dict):
        raise ValueError('no JWT header or claims')
    return header, claims


class Figures:
    """Figures for the summary that runme.sh prints, one JSON file per name."""

    def __init__(self, directory):
        self.directory = directory

    def record(self, name, values):
        if self.directory:
            with open(os.path.join(self.directory, name + '.json'), 'w', encoding='utf-8') as handle:
                json.dump(values, handle, indent=2, sort_keys=True)


def load_figures(directory, pattern):
    """The figures that ``Figures.record`` left in ``directory`` under file names matching ``pattern``, in name order (for a target's summary.py)."""
    found = []
    for path in sorted(glob.glob(os.path.join(directory, pattern))):
        with open(path, encoding='utf-8') as handle:
            found.append(json.load(handle))
    return found


class Playbooks:
    """ansible-playbook runs of a target's playbooks on localhost (its inventory_localhost.ini), against the test server."""

    def __init__(self, target_dir, config_path, work_dir):
        self.target_dir = target_dir
        self.config_path = config_path
        self.work_dir = work_dir
        # Several of these playbooks fail on purpose: their own JUnit output stays
        # apart; pytest's JUnit file carries the assertions.
        self.junit_dir = tempfile.mkdtemp(prefix='junit-playbooks.', dir=work_dir)

    def command(self, playbook, extra_vars):
        vars_file = tempfile.NamedTemporaryFile('w', suffix='.json', prefix='vars.', dir=self.work_dir, delete=False)
        with vars_file:
            json.dump(extra_vars, vars_file)
        return ['ansible-playbook', '-i', os.path.join(self.target_dir, 'inventory_localhost.ini'), os.path.join(self.target_dir, playbook),
                '-e', '@' + self.config_path, '-e', '@' + vars_file.name]

    def environment(self):
        env = dict(os.environ, JUNIT_OUTPUT_DIR=self.junit_dir, ANSIBLE_ROLES_PATH=os.path.dirname(self.target_dir))
        env.pop('JUNIT_TASK_CLASS', None)
        return env

    def start(self, playbook, extra_vars, log_path, umask=None):
        """An ansible-playbook run in the background, its output in ``log_path``."""
        log = open(log_path, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
        process = subprocess.Popen(self.command(playbook, extra_vars), cwd=self.target_dir, env=self.environment(),  # pylint: disable=consider-using-with
                                   stdout=log, stderr=subprocess.STDOUT, umask=-1 if umask is None else umask)
        process.log_file = log
        return process

    def run(self, playbook, extra_vars, umask=None):
        """Run a playbook to its end; returns (return code, output)."""
        log_path = tempfile.mkstemp(prefix='playbook.', suffix='.log', dir=self.work_dir)[1]
        process = self.start(playbook, extra_vars, log_path, umask)
        process.wait(timeout=600)
        process.log_file.close()
        with open(log_path, encoding='utf-8') as log:
            output = log.read()
        sys.stdout.write(output)
        return process.returncode, output

    def results(self, playbook, cases, umask=None):
        """Run a case playbook (module_cases.yml, lookup_cases.yml); returns (its results by case name, its output).

        Each result has failed, msg, changed, issued (the module's) and digest (of the lookup's token, or '').
        """
        results_file = tempfile.mkstemp(prefix='results.', suffix='.json', dir=self.work_dir)[1]
        returncode, output = self.run(playbook, {'cases': cases, 'results_file': results_file}, umask)
        assert returncode == 0, 'ansible-playbook %s failed:\n%s' % (playbook, output[-3000:])
        with open(results_file, encoding='utf-8') as handle:
            results = json.load(handle)
        for result in results.values():
            digest = result.pop('ansible_facts', {}).get('case_token_digest', '')
            result.update(failed=result.get('failed', False), msg=result.get('msg', ''), changed=result.get('changed', False),
                          issued=result.get('issued', False), digest=str(digest).strip())
        return results, output


@pytest.fixture(scope='session')
def config_path():
    return os.environ['UNICORE_INTEGRATION_CONFIG']


@pytest.fixture(scope='session')
def server(config_path):  # pylint: disable=redefined-outer-name
    with open(config_path, encoding='utf-8') as config_file:
        config = yaml.safe_load(config_file)
    with open(config['unicore_testserver_fixtures'], encoding='utf-8') as fixtures_file:
        return json.load(fixtures_file)


@pytest.fixture(scope='session')
def work_dir():
    return os.environ['RELIABILITY_WORK_DIR']


@pytest.fixture(scope='session')
def figures():
    return Figures(os.environ.get('RELIABILITY_FIGURES_DIR'))


@pytest.fixture(scope='session')
def control(server):  # pylint: disable=redefined-outer-name
    return ControlApi(server)


@pytest.fixture(scope='session')
def site(server):  # pylint: disable=redefined-outer-name
    """DEMO-SITE: its URL and its DN."""
    return server['sites']['DEMO-SITE']


@pytest.fixture
def scratch(work_dir, request):  # pylint: disable=redefined-outer-name
    """A new directory for one test."""
    return tempfile.mkdtemp(prefix=re.sub(r'[^A-Za-z0-9_]+', '_', request.node.name)[:60] + '.', dir=work_dir)

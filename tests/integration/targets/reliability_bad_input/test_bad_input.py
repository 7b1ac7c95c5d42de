# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts on the bad input catalogue, one pytest case per plugin and case.

bad_input.yml ran every case of catalogue.yml through the module and the lookup
against the test server and wrote what each run returned, the sha256 of the
watched files after each module run and the server's counters after each run
(BAD_INPUT_RESULTS). A case passes when the run failed with a message that
contains every expected fragment and no secret, without a traceback, left the
watched files byte for byte as they were and cost the server no token.

The table of the catalogue goes to BAD_INPUT_TABLE.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = ('module', 'lookup')
DEFAULT_PLUGINS = ['module', 'lookup']
# Signs of a crash rather than an answer.
CRASH_MARKERS = ('Traceback (most recent call last)', 'MODULE FAILURE', 'An unhandled exception')
# What Ansible puts in place of a no_log value it finds in a module's output:
# the module tried to show a secret.
NO_LOG_MASK = '********'
# Options whose values are secrets, wherever a case sets them.
SECRET_OPTIONS = ('password', 'token', 'identity_content', 'identity_passphrase', 'hmac_secret')
TOKEN_ENTRY = re.compile(r'^token-[0-9a-f]{64}$')


def _load_yaml(name):
    with open(os.path.join(HERE, name), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


CATALOGUE = _load_yaml('catalogue.yml')['bad_input_catalogue']
PLUGIN_CASES = [(case['id'], plugin) for case in CATALOGUE for plugin in case.get('plugins', DEFAULT_PLUGINS)]


def _results():
    with open(os.environ['BAD_INPUT_RESULTS'], encoding='utf-8') as handle:
        return json.load(handle)


RESULTS = _results()
# A case that did not run has no record (null).
RECORDS = dict((record['id'], record) for record in RESULTS['results'] if record)
WORK_DIR = os.environ['BAD_INPUT_WORK_DIR']


def _fixtures():
    with open(os.environ['BAD_INPUT_CONFIG'], encoding='utf-8') as handle:
        config = yaml.safe_load(handle)
    with open(config['unicore_testserver_fixtures'], encoding='utf-8') as handle:
        return json.load(handle)


def _global_secrets():
    """Secrets no message may show, whatever the case: the fixtures' and the kept token."""
    fixtures = _fixtures()
    secrets = [user['password'] for user in fixtures['users'].values()]
    secrets += [key['passphrase'] for key in fixtures['keys'].values() if key.get('passphrase')]
    secrets += [token['token'] for token in fixtures['oidc_tokens'].values()]
    secrets.append(fixtures['trusted_service']['hmac_secret'])
    with open(os.path.join(WORK_DIR, 'tokens', 'unicore.token'), encoding='utf-8') as handle:
        secrets.append(handle.read().strip())
    return [secret for secret in secrets if secret]


GLOBAL_SECRETS = _global_secrets()


def _tokens_issued(stats):
    return stats['tokens_issued']['total']


def _counters_before(case_id):
    """The server's counters before the case ran: after the previous case, or zero."""
    zero = {'tokens_issued': {'total': 0}, 'requests': {'total': 0}}
    index = [case['id'] for case in CATALOGUE].index(case_id)
    if index == 0:
        return zero
    return RECORDS.get(CATALOGUE[index - 1]['id'], {}).get('stats_after_lookup', zero)


def _texts(run):
    """Every piece of text the run showed a user."""
    texts = [str(run.get(field) or '') for field in ('msg', 'module_stderr', 'module_stdout', 'exception')]
    return texts + [str(warning) for warning in run.get('warnings') or []]


def problems(case_id, plugin):
    """What is wrong with the plugin's answer to the case; empty when it is a clear error."""
    record = RECORDS.get(case_id)
    if record is None:
        return ['the case did not run']
    case = record['case']
    run = record[plugin]
    found = []
    if not record['%s_ran' % plugin]:
        return ['the %s did not run' % plugin]
    if not run.get('failed'):
        found.append('did not fail (changed=%s)' % run.get('changed'))
    if record['%s_returned_token' % plugin]:
        found.append('returned a token')
    msg = str(run.get('msg') or '')
    for text in _texts(run):
        found += ['shows %r' % marker for marker in CRASH_MARKERS if marker in text]
    for fragment in case.get('expect', []) + case.get('expect_%s' % plugin, []):
        if str(fragment) not in msg:
            found.append('message lacks %r' % str(fragment))
    warnings = [str(warning) for warning in run.get('warnings') or []]
    if case.get('warn') and not any(all(str(fragment) in warning for fragment in case['warn']) for warning in warnings):
        found.append('no warning with %s' % ', '.join(repr(str(fragment)) for fragment in case['warn']))
    for fragment in case.get('no_warn', []):
        found += ['warns %r' % warning for warning in warnings if str(fragment) in warning]
    secrets = GLOBAL_SECRETS + [str(case.get('set', {})[name]) for name in SECRET_OPTIONS if name in case.get('set', {})]
    secrets += [str(secret) for secret in case.get('secrets', [])]
    for text in _texts(run):
        if any(secret in text for secret in secrets):
            found.append('shows a secret')
            break
    if plugin == 'module' and NO_LOG_MASK in msg:
        found.append('message held a no_log value (Ansible masked it)')
    before = _counters_before(case_id)
    issued = _tokens_issued(record['stats_after_module']) - _tokens_issued(before)
    if plugin == 'lookup':
        issued = _tokens_issued(record['stats_after_lookup']) - _tokens_issued(record['stats_after_module'])
    if issued:
        found.append('the server issued %d token(s)' % issued)
    if plugin == 'module' and record['watched_after_module'] != RESULTS['watched_before']:
        found.append('a watched file changed: %s' % record['watched_after_module'])
    return found


@pytest.mark.parametrize('case_id, plugin', PLUGIN_CASES, ids=['%s[%s]' % pair for pair in PLUGIN_CASES])
def test_bad_input_gives_a_clear_error(case_id, plugin):
    """The run fails, names the option and the cause, shows no secret, changes no file and costs no token."""
    found = problems(case_id, plugin)
    assert not found, '%s\nmessage: %s' % ('; '.join(found), _redacted(case_id, plugin))


def test_catalogue_is_large_enough():
    inputs = set(case['id'] for case in CATALOGUE)
    assert len(inputs) == len(CATALOGUE), 'case ids must be unique'
    assert len(inputs) >= 40
    assert len(PLUGIN_CASES) >= 60


def test_every_case_ran():
    assert [(record or {}).get('id') for record in RESULTS['results']] == [case['id'] for case in CATALOGUE]


def test_module_cases_only_set_options_the_module_task_passes():
    """A case option that case.yml does not pass would never reach the module: the case would test nothing."""
    with open(os.path.join(HERE, 'case.yml'), encoding='utf-8') as handle:
        passed = set(re.findall(r'^    (\w+): "\{\{ module_options\.', handle.read(), re.MULTILINE))
    for case in CATALOGUE:
        if 'module' in case.get('plugins', DEFAULT_PLUGINS):
            assert set(case.get('set', {})) <= passed, case['id']


def test_no_token_was_issued_over_the_whole_catalogue():
    assert _tokens_issued(RECORDS[CATALOGUE[-1]['id']]['stats_after_lookup']) == 0


def test_the_watched_files_were_there_to_watch():
    lines = RESULTS['watched_before'].splitlines()
    assert len(lines) == 4
    assert all(re.match(r'^[0-9a-f]{64}  /', line) for line in lines)


def test_the_lookup_cache_holds_no_token():
    cache_dir = os.path.join(WORK_DIR, 'lookup-cache')
    entries = os.listdir(cache_dir) if os.path.isdir(cache_dir) else []
    assert [name for name in entries if TOKEN_ENTRY.match(name)] == []


def _redacted(case_id, plugin):
    """The run's message with every known secret cut out, for the failure report."""
    record = RECORDS.get(case_id) or {}
    text = str((record.get(plugin) or {}).get('msg'))
    case = record.get('case', {})
    for secret in GLOBAL_SECRETS + [str(value) for name, value in case.get('set', {}).items() if name in SECRET_OPTIONS] + case.get('secrets', []):
        text = text.replace(str(secret), '<secret>')
    return text


def _cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


@pytest.fixture(scope='module', autouse=True)
def catalogue_table():
    """After the cases: the table of the catalogue and its totals, in BAD_INPUT_TABLE."""
    yield
    rows = ['| id | input | plugins | expected message fragment | result |', '|---|---|---|---|---|']
    clear = module_cases = unchanged = 0
    for case in CATALOGUE:
        plugins = case.get('plugins', DEFAULT_PLUGINS)
        record = RECORDS.get(case['id'], {})
        resolved = record.get('case', case)
        verdicts = []
        for plugin in plugins:
            found = problems(case['id'], plugin)
            clear += not found
            verdicts.append('%s: %s' % (plugin, 'clear error' if not found else '; '.join(found)))
            if plugin == 'module':
                module_cases += 1
                unchanged += record.get('watched_after_module') == RESULTS['watched_before']
        fragments = [str(fragment) for fragment in resolved.get('expect', []) + resolved.get('warn', [])]
        rows.append('| %s |' % ' | '.join(_cell(cell) for cell in (
            case['id'], resolved.get('input', ''), ', '.join(plugins), ' … '.join(fragments), '<br>'.join(verdicts))))
    last = RESULTS['results'][-1] or {}
    requests = last.get('stats_after_lookup', {}).get('requests', {}).get('total')
    tokens = _tokens_issued(last['stats_after_lookup']) if last else None
    totals = ('bad input: %d inputs, %d plugin cases, %d clear errors, token file unchanged after %d of %d module cases; '
              'tokens issued over the catalogue: %s; requests that reached the server: %s'
              % (len(CATALOGUE), len(PLUGIN_CASES), clear, unchanged, module_cases, tokens, requests))
    with open(os.environ['BAD_INPUT_TABLE'], 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(rows + ['', totals, '']))

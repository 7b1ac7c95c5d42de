# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault matrix: judge each case's outcome, and print it as a markdown table.

    python fault_matrix.py --report-dir DIR [--seconds N]

reads the cases (FAULT_CASES, vars/cases.yml) and what faults.yml recorded
(FAULT_WORK/results-{module,lookup}.json, the tokens issued in
FAULT_WORK/secrets-*.json, the playbook output in FAULT_WORK/playbook-*.log),
prints the table and a count of the cases that behaved as expected, and writes
DIR/faults.md and DIR/faults.json. The verdict that counts is
test_fault_matrix.py's, which uses the same judgement (problems()).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
from urllib.parse import urlsplit

import yaml

PLUGINS = ('module', 'lookup')
# What an issued UNICORE token looks like (a JWT): none may appear in any output.
JWT = re.compile(r'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+')
# The lookup's own errors reach the user through Ansible as
# "... The lookup plugin 'unicore.auth.unicore_token' failed: unicore.auth.unicore_token: <message>".
LOOKUP_PREFIX = 'unicore.auth.unicore_token: '


def load():
    """(cases by id, results by (case, plugin), run data by plugin)."""
    with open(os.environ['FAULT_CASES'], encoding='utf-8') as cases_file:
        cases = yaml.safe_load(cases_file)['fault_cases']
    work = os.environ['FAULT_WORK']
    runs, results = {}, {}
    for plugin in PLUGINS:
        with open(os.path.join(work, 'results-%s.json' % plugin), encoding='utf-8') as results_file:
            runs[plugin] = json.load(results_file)
        for result in runs[plugin]['results']:
            results[(result['case'], plugin)] = result
    return dict((case['id'], case) for case in cases), results, runs


def secrets(password):
    """The password and every token issued during the run."""
    values = [password]
    for path in glob.glob(os.path.join(os.environ['FAULT_WORK'], 'secrets-*.json')):
        with open(path, encoding='utf-8') as secrets_file:
            values.extend(token for token in json.load(secrets_file) if token)
    return values


def run_outputs():
    """Everything the run printed or wrote: playbook output, results files."""
    outputs = {}
    for pattern in ('playbook-*.log', 'results-*.json'):
        for path in sorted(glob.glob(os.path.join(os.environ['FAULT_WORK'], pattern))):
            with open(path, encoding='utf-8', errors='replace') as output:
                outputs[os.path.basename(path)] = output.read()
    return outputs


def leaks(text, secret_values):
    """Names of the secrets found in text (never the secrets themselves)."""
    found = []
    for index, secret in enumerate(secret_values):
        if secret and secret in text:
            found.append('the password' if index == 0 else 'issued token #%d' % index)
    if JWT.search(text):
        found.append('a JWT-shaped string')
    return found


def user_message(result):
    """The message as the user reads it, without Ansible's wrapping around a lookup error."""
    msg = result['outcome'].get('msg') or ''
    if result['plugin'] == 'lookup' and LOOKUP_PREFIX in msg:
        return msg[msg.rindex(LOOKUP_PREFIX) + len(LOOKUP_PREFIX):]
    return msg


def requested_url(result):
    """The URL the plugin asked for: the case's URL, plus /token unless the module reads the site base."""
    return result['url'] + ('/token' if result['path'].endswith('/token') else '')


def same_dn(first, second):
    def normalised(dn):
        return ','.join(part.strip() for part in str(dn).split(','))
    return normalised(first) == normalised(second)


def problems(case, result, dn, secret_values):
    """Why the result is not what the case expects; empty when it is."""
    expect = case['expect']
    outcome = result['outcome']
    observed = result['observed']
    found = []
    if result['prepared']['leftover_faults']:
        found.append('faults of an earlier case were still pending: %s' % result['prepared']['leftover_faults'])
    if outcome.get('failed') is None:
        found.append('the run recorded no outcome')
        return found
    wanted_failure = expect['outcome'] == 'failure'
    if outcome['failed'] != wanted_failure:
        got = 'failure: %s' % outcome.get('msg') if outcome['failed'] else 'success'
        found.append('expected %s, got %s' % (expect['outcome'], got))
    if observed['site_requests'] != expect['attempts']:
        found.append('the site received %d requests, expected %d' % (observed['site_requests'], expect['attempts']))
    statuses = [entry['status'] for entry in observed['requests']]
    if 'statuses' in expect and statuses != expect['statuses']:
        found.append('the site answered %s, expected %s' % (statuses, expect['statuses']))
    if expect.get('min_seconds') and len(observed['requests']) >= 2:
        waited = observed['requests'][-1]['time'] - observed['requests'][0]['time']
        if waited < expect['min_seconds']:
            found.append('Retry-After %s s not honoured: the retry came after %.2f s' % (expect['min_seconds'], waited))
    if 'max_seconds' in expect and result.get('seconds', float('inf')) > expect['max_seconds']:
        found.append('the run took %s s, over the bound of %s s that tells an end from a hang' % (result.get('seconds'), expect['max_seconds']))
    authorizations = [entry['authorization_scheme'] for entry in observed['requests']]
    if any(scheme != 'Basic' for scheme in authorizations):
        found.append('unexpected Authorization schemes at the site: %s' % authorizations)
    if observed['witness']:
        found.append('%d request(s) reached the redirect target (another host), %d with an Authorization header'
                     % (len(observed['witness']), sum(1 for entry in observed['witness'] if entry['authorization'])))
    found.extend(_outcome_problems(case, result, dn))
    for field in ('msg', 'exception', 'module_stderr', 'module_stdout'):
        text = outcome.get(field) or ''
        if 'Traceback' in text:
            found.append('a Python traceback in %s' % field)
        for leak in leaks(text, secret_values):
            found.append('%s in %s' % (leak, field))
    return found


def _outcome_problems(case, result, dn):
    expect = case['expect']
    outcome = result['outcome']
    found = []
    if not outcome['failed']:
        if not same_dn(outcome.get('sub'), dn):
            found.append('the token (or access info) is not for %s: %s' % (dn, outcome.get('sub')))
        if result['plugin_name'] == 'unicore.auth.unicore_auth_token' and outcome.get('issued') is not True:
            found.append('the module did not report issued: true')
        return found
    msg = outcome.get('msg') or ''
    message = user_message(result)
    if result['plugin'] == 'lookup' and LOOKUP_PREFIX not in msg:
        found.append('the lookup did not fail with its own message (an unhandled exception?): %s' % msg)
    if result['plugin'] == 'module':
        if outcome.get('module_stderr') or outcome.get('module_stdout') or msg.startswith('MODULE FAILURE'):
            found.append('the module crashed instead of failing with a message')
        if outcome.get('url') != requested_url(result):
            found.append('the result names url %r, expected %r' % (outcome.get('url'), requested_url(result)))
    if requested_url(result) not in message:
        found.append('the message does not name the URL %s: %s' % (requested_url(result), message))
    for word in expect.get('cause_' + result['plugin'], expect.get('cause', [])):
        if word not in message:
            found.append('the message does not say %r: %s' % (word, message))
    for word in expect.get('not_in_message', []):
        if word in message:
            found.append('the message repeats the body (%r): %s' % (word, message))
    if 'gave_up_after' in expect and '(gave up after %d retries)' % expect['gave_up_after'] not in message:
        found.append('the message does not say "(gave up after %d retries)": %s' % (expect['gave_up_after'], message))
    return found


# --- the table ---------------------------------------------------------------------


def _outcome_cell(case, result, found):
    if result is None:
        return 'not run'
    outcome = result['outcome']
    if outcome.get('failed') is None:
        text = 'no outcome'
    elif outcome['failed']:
        text = 'fails'
    else:
        text = 'token' if result['plugin_name'] != 'unicore.auth.unicore_access_info' else 'access info'
    attempts = result['observed']['site_requests']
    if outcome.get('failed') is False and attempts > 1:
        text += ' after %d attempts' % attempts
    elif outcome.get('failed') and attempts != 1:
        text += ' (%d requests)' % attempts
    if 'max_seconds' in case['expect'] and result.get('seconds') is not None:
        text += ' in %.1f s' % result['seconds']
    return text + ('' if not found else ' **UNEXPECTED**: ' + '; '.join(found))


def _attempts_cell(case, module, lookup):
    expect = case['expect']
    cells = []
    for result in (module, lookup):
        if result is None:
            continue
        observed = result['observed']
        statuses = ', '.join('no answer' if entry['status'] is None else str(entry['status']) for entry in observed['requests'])
        cells.append('%d%s' % (observed['site_requests'], ' (%s)' % statuses if statuses else ''))
    text = cells[0] if len(set(cells)) == 1 else ' / '.join(cells)
    if expect['attempts'] == 0 and module is not None:
        # Nothing reached the site: the client's own count is in its message.
        gave_up = re.search(r'gave up after (\d+) retries', user_message(module))
        text += ' (%d connects)' % (int(gave_up.group(1)) + 1) if gave_up else ' (1 TLS handshake)'
    return text


def _excerpt(result, placeholder):
    if result is None or not result['outcome'].get('failed'):
        return None
    message = user_message(result)
    for url, name in placeholder:
        message = message.replace(url, name)
    # Ports vary from run to run; the table shows the shape of the message.
    message = re.sub(r'(127\.0\.0\.1|localhost):\d+', r'\1:PORT', message)
    return message.replace('|', '\\|')


def _path_cell(case):
    if case.get('module') == 'unicore_access_info':
        return 'GET base (module), GET /token (lookup)'
    return 'GET /token'


def table(cases, results, runs, verdicts):
    """The matrix as markdown lines."""
    placeholder = []
    for plugin in PLUGINS:
        run = runs[plugin]
        site_path = urlsplit(run['site_url']).path
        placeholder.extend([(run['witness_url'] + site_path, '<other host>' + site_path.replace(run['site'], '<SITE>')),
                            (run['site_url'], '<site>'), (run['refused_url'], '<refused>')])
        placeholder.extend((url, '<%s>' % name) for name, url in run['tls_faults'].items())
    lines = ['| fault | path | module outcome | lookup outcome | attempts (site answers) | message excerpt |',
             '|---|---|---|---|---|---|']
    for case_id, case in cases.items():
        module, lookup = results.get((case_id, 'module')), results.get((case_id, 'lookup'))
        module_name = (case.get('module') or 'unicore_auth_token')
        excerpts = [_excerpt(module, placeholder), _excerpt(lookup, placeholder)]
        if excerpts[0] and excerpts[1] and excerpts[0] != excerpts[1]:
            excerpt = 'module: %s<br>lookup: %s' % tuple(excerpts)
        else:
            excerpt = excerpts[0] or excerpts[1] or '—'
        lines.append('| %s | %s | %s: %s | %s | %s | %s |' % (
            case['fault'], _path_cell(case), module_name, _outcome_cell(case, module, verdicts[(case_id, 'module')]),
            _outcome_cell(case, lookup, verdicts[(case_id, 'lookup')]), _attempts_cell(case, module, lookup), excerpt))
    return lines


def judge_all():
    """(cases, results, runs, verdicts by (case, plugin), problems found in the whole run's output)."""
    cases, results, runs = load()
    dn = runs['module']['dn']
    with open(os.environ['FAULT_FIXTURES'], encoding='utf-8') as fixtures_file:
        password = json.load(fixtures_file)['users']['demouser']['password']
    secret_values = secrets(password)
    verdicts = {}
    for case_id, case in cases.items():
        for plugin in PLUGINS:
            result = results.get((case_id, plugin))
            verdicts[(case_id, plugin)] = ['not run'] if result is None else problems(case, result, dn, secret_values)
    run_problems = []
    for name, text in run_outputs().items():
        if 'Traceback' in text:
            run_problems.append('a Python traceback in %s' % name)
        run_problems.extend('%s in %s' % (leak, name) for leak in leaks(text, secret_values))
    for plugin in PLUGINS:
        if runs[plugin]['leftover_faults']:
            run_problems.append('faults left unused after the %s run: %s' % (plugin, runs[plugin]['leftover_faults']))
    return cases, results, runs, verdicts, run_problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--report-dir', required=True)
    parser.add_argument('--seconds', type=int)
    args = parser.parse_args()
    cases, results, runs, verdicts, run_problems = judge_all()
    lines = table(cases, results, runs, verdicts)
    expected = sum(1 for found in verdicts.values() if not found)
    summary = 'fault matrix: %d faults x %d plugins = %d cases, %d as expected' % (len(cases), len(PLUGINS), len(verdicts), expected)
    footer = [
        '',
        summary + ('' if args.seconds is None else ' (%d s, module and lookup at once)' % args.seconds),
        'whole run (playbook output and results): %s' % ('no traceback, no password, no token' if not run_problems else '; '.join(run_problems)),
    ]
    text = '\n'.join(lines + footer) + '\n'
    print(text)
    os.makedirs(args.report_dir, exist_ok=True)
    with open(os.path.join(args.report_dir, 'faults.md'), 'w', encoding='utf-8') as report:
        report.write(text)
    with open(os.path.join(args.report_dir, 'faults.json'), 'w', encoding='utf-8') as report:
        json.dump({'summary': summary, 'seconds': args.seconds, 'run_problems': run_problems,
                   'cases': [{'case': case_id, 'plugin': plugin, 'as_expected': not found, 'problems': found}
                             for (case_id, plugin), found in verdicts.items()]}, report, indent=2)
        report.write('\n')
    print('written to %s' % os.path.join(args.report_dir, 'faults.md'))
    return 0


if __name__ == '__main__':
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile or broken tokens against the module, the lookup with its cache and the workflow_token role (issue 15).

* The site answers /token with a hostile or broken token (the test server's
  ``respond`` fault, a token it issued made hostile): every plugin fails,
  naming the URL and the cause; the kept token file and its record, the
  lookup's cache and the role's token and environment files stay byte for
  byte as they were; the site counts one request and issues no token.
* Hostile content planted where tokens are kept (a token file, a token entry
  of the cache, a remembered answer, the role's installed token) is replaced,
  never used nor echoed.
* An opaque bearer token, or an OIDC provider's access token, holding CR LF is
  refused before any request reaches the site.

No output of any run may show the hostile content, a Python traceback, or a token.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from urllib.parse import urlsplit

import pytest

from conftest import digest, jwt_parts, with_claims

MARKERS = ('LD_PRELOAD=/tmp/x.so', 'X-Injected: yes', 'Traceback')
NOT_A_TOKEN = 'returned something that is not a token (Content-Type: text/plain, '


def hostile_answers(token):
    """name -> (the body /token answers with, the cause the message must name): each made of ``token``, which the site issued."""
    now = int(time.time())
    return {
        'a second line (LD_PRELOAD=...)': (token + '\nLD_PRELOAD=/tmp/x.so', 'it holds a line break'),
        'CR LF and a second header': (token + '\r\nX-Injected: yes', 'it holds a line break'),
        'a NUL character': (token + '\0', 'it holds a NUL character'),
        'base64 padding': (token + '==', 'base64 padding'),
        'four parts': (token + '.' + token.split('.')[2], 'it is not three dot-separated parts (header.claims.signature): it has 4'),
        'a letter of another alphabet': (token + '\u00e9', 'not ASCII'),
        'no signature': (token.rsplit('.', 1)[0] + '.', 'its signature part is empty'),
        'no exp claim': (with_claims(token, exp=None), 'it has no exp claim'),
        'exp a string (the year 2100)': (with_claims(token, exp='4102444800'), 'its exp claim is not a number'),
        'exp beyond the year 9999': (with_claims(token, exp=10 ** 20, iat=None), 'its exp claim is not a time between 1970 and 9999'),
        'a lifetime of a century': (with_claims(token, iat=now, exp=now + 100 * 366 * 86400), 'its lifetime (exp - iat) is more than 10 years'),
        'sub not a string': (with_claims(token, sub=['CN=Demo User']), 'its sub claim is not a string'),
    }


def hostile_content_shown(output, values):
    """What of the hostile content ``output`` shows: a marker, or a line or dot-separated part (16 characters or more) of one of
    ``values``, described by its place, never quoted; None when it shows none."""
    for marker in MARKERS:
        if marker in output:
            return 'the output shows %s' % marker
    for number, value in enumerate(values):
        for kind, pieces in (('dot-separated part', value.split('.')), ('line', value.splitlines())):
            for index, piece in enumerate(pieces):
                if len(piece) >= 16 and piece in output:
                    return 'the output shows %s %d (%d characters) of hostile value %d' % (kind, index, len(piece), number)
    return None


def normalised(text):
    """``text`` without white space: Ansible may wrap a long warning."""
    return ''.join(str(text).split())


def snapshot(directory):
    """Every file under ``directory`` (locks aside) and the SHA-256 of its bytes."""
    files = {}
    for root, dummy_dirs, names in os.walk(directory):
        for name in names:
            if not name.endswith('.lock'):
                path = os.path.join(root, name)
                with open(path, 'rb') as handle:
                    files[os.path.relpath(path, directory)] = digest(handle.read())
    return files


def read_results(path):
    with open(path, encoding='utf-8') as handle:
        found = json.load(handle)
    digests = found.get('digests') or [''] * len(found['names'])
    return dict((name, dict({'failed': False, 'msg': ''}, **dict(result, digest=token_digest)))
                for name, result, token_digest in zip(found['names'], found['results'], digests))


def run_cases(playbooks, playbook, base_vars, cases):
    """Run a case playbook; (results by case name, output)."""
    results_file = os.path.join(playbooks.work_dir, 'results.%s.%d.json' % (playbook.split('.')[0], time.monotonic_ns()))
    returncode, output = playbooks.run(playbook, dict(base_vars, cases=cases, results_file=results_file))
    assert returncode == 0, 'ansible-playbook %s failed (see its output above)' % playbook
    return read_results(results_file), output


def counters(control):
    stats = control.stats()
    return {'site': stats['requests']['per_site'].get('DEMO-SITE', 0), 'oidc': stats['requests']['per_site'].get('OIDC', 0),
            'issued': stats['tokens_issued']['total']}


def excerpt(message, *urls):
    """The message from where the collection's own words begin, with the URLs and the scratch paths named by what they are."""
    for url in urls:
        message = message.replace(url, '<%s>' % ('site' if '/rest/core' in url else 'provider'))
    message = re.sub(r'for /\S+/unicore\.token:', 'for <dest>:', message)
    starts = [message.find(words) for words in ('workflow_token:', 'unicore.auth.unicore_token:', 'GET <', 'POST <') if words in message]
    return message[min(starts):] if starts else message


def token_path(site):
    return urlsplit(site['url']).path + '/token'


def copies(seed, count, parent):
    """``count`` copies of the directory ``seed`` (modes kept) under ``parent``."""
    made = []
    for number in range(count):
        target = os.path.join(parent, 'case%02d' % number)
        shutil.copytree(seed, target, symlinks=True)
        made.append(target)
    return made


def queue_answers(control, site, bodies):
    control.reset()
    control.add_faults(*[{'path_prefix': token_path(site), 'action': 'respond', 'status': 200, 'content_type': 'text/plain',
                          'body': body, 'count': 1} for body in bodies])


def only_token_of_the_site(path, site):
    """Whether the file at ``path`` holds one line: a token of the site (read independently of the collection)."""
    with open(path, encoding='utf-8', newline='') as handle:
        text = handle.read()
    if text.count('\n') != 1 or not text.endswith('\n'):
        return False
    try:
        claims = jwt_parts(text[:-1])[1]
    except ValueError:
        return False
    return claims.get('iss', '').replace(' ', '') == site['dn'].replace(' ', '')


# ---------------------------------------------------------------- hostile answers of /token

def test_the_module_fails_on_every_hostile_answer_and_dest_stays_byte_for_byte(playbooks, control, base_vars, site, scratch, issued_token,
                                                                               figures):
    answers = hostile_answers(issued_token)
    seed = os.path.join(scratch, 'seed')
    os.mkdir(seed, 0o700)
    dest = os.path.join(seed, 'unicore.token')
    seeded = run_cases(playbooks, 'module_cases.yml', base_vars,
                       [{'name': 'seed', 'options': {'username': 'demouser', 'password': base_vars['demo_password'], 'dest': dest}}])[0]
    assert seeded['seed']['issued'] is True and only_token_of_the_site(dest, site)
    before = snapshot(seed)
    assert sorted(before) == ['unicore.token', 'unicore.token.site']
    directories = copies(seed, len(answers), scratch)
    names = sorted(answers)
    queue_answers(control, site, [answers[name][0] for name in names])
    start = counters(control)
    results, output = run_cases(playbooks, 'module_cases.yml', base_vars, [
        {'name': name, 'options': {'username': 'demouser', 'password': base_vars['demo_password'], 'force': True,
                                   'dest': os.path.join(directory, 'unicore.token')}}
        for name, directory in zip(names, directories)])
    end = counters(control)
    rows = []
    unmet = []
    try:
        for name, directory in zip(names, directories):
            result, cause = results[name], answers[name][1]
            unchanged = snapshot(directory) == before
            rows.append({'part': 'answer of /token', 'plugin': 'module (dest)', 'case': name, 'failed': bool(result['failed']),
                         'message': excerpt(result['msg'], site['url']), 'unchanged': unchanged})
            expect(unmet, result['failed'] is True, '%s: the module did not fail' % name)
            expect(unmet, result['msg'].startswith('GET %s/token %s' % (site['url'], NOT_A_TOKEN)) and cause in result['msg'],
                   '%s: the message does not name the URL and the cause' % name)
            # ansible-core 2.19 puts "(traceback unavailable)" into every failed module result; a crash would put one there.
            expect(unmet, 'File "' not in str(result.get('exception', '')), '%s: a traceback' % name)
            expect(unmet, unchanged, '%s: dest or its record changed' % name)
    finally:
        figures.record('answers_module', {'rows': rows, 'requests': end['site'] - start['site'], 'tokens_issued': end['issued'] - start['issued']})
    assert not unmet, unmet
    assert end['site'] - start['site'] == len(answers) and end['issued'] == start['issued']
    assert control.faults()['pending'] == []
    shown = hostile_content_shown(output, [body for body, dummy in answers.values()] + [issued_token])
    assert shown is None, shown


def test_the_lookup_fails_on_every_hostile_answer_and_its_cache_stays_byte_for_byte(playbooks, control, base_vars, site, scratch,
                                                                                    issued_token, figures):
    answers = hostile_answers(issued_token)
    seed = os.path.join(scratch, 'seed')
    login = {'username': 'demouser', 'password': base_vars['demo_password'], 'lifetime': 600}
    seeded = run_cases(playbooks, 'lookup_cases.yml', base_vars, [{'name': 'seed', 'options': dict(login, cache_dir=seed, min_validity=60)}])[0]
    assert seeded['seed']['failed'] is False
    before = snapshot(seed)
    assert len([name for name in before if name.startswith('token-')]) == 1
    directories = copies(seed, len(answers), scratch)
    # Two seconds on, the cached token (600 s) is valid for less than 599 s: the same cache entry is due, and the site is asked.
    time.sleep(2)
    names = sorted(answers)
    queue_answers(control, site, [answers[name][0] for name in names])
    start = counters(control)
    results, output = run_cases(playbooks, 'lookup_cases.yml', base_vars, [
        {'name': name, 'options': dict(login, cache_dir=directory, min_validity=599)} for name, directory in zip(names, directories)])
    end = counters(control)
    rows = []
    unmet = []
    try:
        for name, directory in zip(names, directories):
            result, cause = results[name], answers[name][1]
            unchanged = snapshot(directory) == before
            rows.append({'part': 'answer of /token', 'plugin': 'lookup (cache)', 'case': name, 'failed': bool(result['failed']),
                         'message': excerpt(result['msg'], site['url']), 'unchanged': unchanged})
            expect(unmet, result['failed'] is True, '%s: the lookup did not fail' % name)
            expect(unmet, ('unicore.auth.unicore_token: GET %s/token %s' % (site['url'], NOT_A_TOKEN)) in result['msg'] and cause in result['msg'],
                   '%s: the message does not name the URL and the cause' % name)
            expect(unmet, unchanged, '%s: the cache changed' % name)
    finally:
        figures.record('answers_lookup', {'rows': rows, 'requests': end['site'] - start['site'], 'tokens_issued': end['issued'] - start['issued']})
    assert not unmet, unmet
    assert end['site'] - start['site'] == len(answers) and end['issued'] == start['issued']
    assert control.faults()['pending'] == []
    shown = hostile_content_shown(output, [body for body, dummy in answers.values()] + [issued_token])
    assert shown is None, shown


def role_case(name, directory, lifetime=600, min_validity=60):
    return {'name': name, 'dest': os.path.join(directory, 'host', 'unicore.token'), 'env_file': os.path.join(directory, 'host', 'unicore.env'),
            'cache_dir': os.path.join(directory, 'cache'), 'lifetime': lifetime, 'min_validity': min_validity}


def seed_role(playbooks, base_vars, site, scratch):
    """A host with a token installed by the role (token file, record, environment file), and the role's cache."""
    seed = os.path.join(scratch, 'seed')
    os.makedirs(os.path.join(seed, 'host'), 0o700)
    case = role_case('seed', seed)
    seeded = run_cases(playbooks, 'role_cases.yml', base_vars, [case])[0]
    assert seeded['seed']['failed'] is False, seeded['seed']['msg']
    assert only_token_of_the_site(case['dest'], site)
    return seed


def test_the_role_fails_on_every_hostile_answer_and_the_host_files_stay_byte_for_byte(
        playbooks, control, base_vars, site, scratch, issued_token, figures):
    answers = hostile_answers(issued_token)
    seed = seed_role(playbooks, base_vars, site, scratch)
    before = snapshot(seed)
    assert {'host/unicore.token', 'host/unicore.token.site', 'host/unicore.env'} <= set(before)
    directories = copies(seed, len(answers), scratch)
    # Two seconds on, the installed token (600 s) is valid for less than 599 s: a new one is due, from the same cache entry.
    time.sleep(2)
    names = sorted(answers)
    queue_answers(control, site, [answers[name][0] for name in names])
    start = counters(control)
    results, output = run_cases(playbooks, 'role_cases.yml', base_vars,
                                [role_case(name, directory, min_validity=599) for name, directory in zip(names, directories)])
    end = counters(control)
    rows = []
    unmet = []
    try:
        for name, directory in zip(names, directories):
            result, cause = results[name], answers[name][1]
            unchanged = snapshot(directory) == before
            rows.append({'part': 'answer of /token', 'plugin': 'workflow_token role', 'case': name, 'failed': bool(result['failed']),
                         'message': excerpt(result['msg'], site['url']), 'unchanged': unchanged})
            expect(unmet, result['failed'] is True, '%s: the role did not fail' % name)
            expect(unmet, result['msg'].startswith('workflow_token: cannot get a token for ') and cause in result['msg']
                   and ('GET %s/token %s' % (site['url'], NOT_A_TOKEN)) in result['msg'], '%s: the message does not name the URL and the cause' % name)
            expect(unmet, unchanged, '%s: a file on the host or in the cache changed' % name)
    finally:
        figures.record('answers_role', {'rows': rows, 'requests': end['site'] - start['site'], 'tokens_issued': end['issued'] - start['issued']})
    assert not unmet, unmet
    assert end['site'] - start['site'] == len(answers) and end['issued'] == start['issued']
    assert control.faults()['pending'] == []
    shown = hostile_content_shown(output, [body for body, dummy in answers.values()] + [issued_token])
    assert shown is None, shown


# ---------------------------------------------------------------- hostile content planted where tokens are kept

def plant_in_entries(cache_dir, kind, token):
    """Put ``token`` into every entry of ``kind`` (``token`` or ``answer``) of the cache in place of the token it holds; how many."""
    planted = 0
    for name in os.listdir(cache_dir):
        if name.startswith(kind + '-') and not name.endswith('.lock'):
            path = os.path.join(cache_dir, name)
            with open(path, encoding='utf-8') as handle:
                entry = json.load(handle)
            entry['token'] = token
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(entry, handle)
            planted += 1
    return planted


def expect(unmet, condition, what):
    """Note ``what`` when ``condition`` does not hold: every case is judged, and the test fails at the end with all that failed."""
    if not condition:
        unmet.append(what)


def read_or_none(path):
    try:
        with open(path, encoding='utf-8', newline='') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def kept_token(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read().strip()


def test_hostile_content_planted_in_a_token_file_is_replaced_never_used_nor_echoed(playbooks, control, base_vars, site, scratch, figures):
    seed = os.path.join(scratch, 'seed')
    os.mkdir(seed, 0o700)
    login = {'username': 'demouser', 'password': base_vars['demo_password']}
    run_cases(playbooks, 'module_cases.yml', base_vars, [{'name': 'seed', 'options': dict(login, dest=os.path.join(seed, 'unicore.token'))}])
    good = kept_token(os.path.join(seed, 'unicore.token'))
    planted = {
        'a second line (LD_PRELOAD=...)': (good + '\nLD_PRELOAD=/tmp/x.so', 'does not hold a readable UNICORE token;'),
        'exp a string (the year 2100)': (with_claims(good, exp='4102444800'), 'does not hold a readable UNICORE token (its exp claim is not a number)'),
        'no exp claim': (with_claims(good, exp=None), 'does not hold a readable UNICORE token (it has no exp claim'),
        'a lifetime of a century': (with_claims(good, exp=int(time.time()) + 100 * 366 * 86400), 'its lifetime (exp - iat) is more than 10 years'),
    }
    names = sorted(planted)
    directories = copies(seed, len(names), scratch)
    for name, directory in zip(names, directories):
        with open(os.path.join(directory, 'unicore.token'), 'w', encoding='utf-8') as handle:
            handle.write(planted[name][0] + '\n')
    control.reset()
    start = counters(control)
    results, output = run_cases(playbooks, 'module_cases.yml', base_vars,
                                [{'name': name, 'options': dict(login, dest=os.path.join(directory, 'unicore.token'))}
                                 for name, directory in zip(names, directories)])
    end = counters(control)
    rows = []
    unmet = []
    try:
        for name, directory in zip(names, directories):
            result, warning = results[name], planted[name][1]
            dest = os.path.join(directory, 'unicore.token')
            replaced = only_token_of_the_site(dest, site) and digest(kept_token(dest)) not in (digest(good), digest(planted[name][0]))
            warned = normalised(warning) in normalised(output)
            rows.append({'part': 'planted', 'plugin': 'module (dest)', 'case': 'token file: ' + name, 'failed': bool(result['failed']),
                         'message': ('[WARNING]: dest: <dest> ' + warning + '...') if warned else '(no warning)', 'unchanged': None,
                         'replaced': replaced})
            expect(unmet, result['failed'] is False and result['issued'] is True, '%s: no new token was issued' % name)
            expect(unmet, warned, '%s: no warning naming the cause' % name)
            expect(unmet, replaced, '%s: dest does not hold a new token of the site' % name)
    finally:
        figures.record('planted_module', {'rows': rows, 'requests': end['site'] - start['site'], 'tokens_issued': end['issued'] - start['issued']})
    assert not unmet, unmet
    assert end['issued'] - start['issued'] == len(names)
    shown = hostile_content_shown(output, [value for value, dummy in planted.values()] + [good])
    assert shown is None, shown


def test_hostile_content_planted_in_the_lookups_cache_is_never_given(playbooks, control, base_vars, site, scratch, figures):
    options = {'username': 'demouser', 'password': base_vars['demo_password'], 'lifetime': 3600}
    # Each cache filled by a lookup with exactly the options of the run below (cache_dir is one of them, and the answer's key).
    answer_cache, entry_cache = os.path.join(scratch, 'answer'), os.path.join(scratch, 'entry')
    seeded = run_cases(playbooks, 'lookup_cases.yml', base_vars, [{'name': 'answer', 'options': dict(options, cache_dir=answer_cache)},
                                                                  {'name': 'entry', 'options': dict(options, cache_dir=entry_cache)}])[0]
    first = seeded['answer']
    with open(os.path.join(answer_cache, [name for name in os.listdir(answer_cache) if name.startswith('token-') and not name.endswith('.lock')][0]),
              encoding='utf-8') as handle:
        good = json.load(handle)['token']
    with open(os.path.join(entry_cache, [name for name in os.listdir(entry_cache) if name.startswith('token-') and not name.endswith('.lock')][0]),
              encoding='utf-8') as handle:
        entry_token = json.load(handle)['token']
    # A remembered answer with a second line: what the lookup's own file reads, without the rules.
    remembered = good + '\nLD_PRELOAD=/tmp/x.so'
    assert plant_in_entries(answer_cache, 'answer', remembered) == 1
    # A token entry whose exp is a string for the year 2100: read as a number, it was good for 75 years.
    forged = with_claims(entry_token, exp='4102444800')
    for name in os.listdir(entry_cache):
        if name.startswith('answer-'):
            os.unlink(os.path.join(entry_cache, name))
    assert plant_in_entries(entry_cache, 'token', forged) == 1
    planted_digests = (digest(remembered), digest(forged))
    good_digest = digest(good)
    control.reset()
    rows = []
    unmet = []
    outputs = []
    try:
        for case, cache_dir, requests_expected in (('remembered answer: a second line (LD_PRELOAD=...)', answer_cache, 0),
                                                   ('token entry: exp a string (the year 2100)', entry_cache, 1)):
            start = counters(control)
            results, output = run_cases(playbooks, 'lookup_cases.yml', base_vars, [{'name': case, 'options': dict(options, cache_dir=cache_dir)}])
            end = counters(control)
            outputs.append(output)
            result = results[case]
            planted_given = result['digest'] in planted_digests
            kept_given = result['digest'] == first['digest'] == good_digest
            rows.append({'part': 'planted', 'plugin': 'lookup (cache)', 'case': case, 'failed': bool(result['failed']), 'message': '',
                         'unchanged': None, 'replaced': not planted_given, 'requests': end['site'] - start['site']})
            expect(unmet, result['failed'] is False, '%s: the lookup failed' % case)
            expect(unmet, not planted_given, '%s: the planted token was given' % case)
            expect(unmet, end['site'] - start['site'] == requests_expected, '%s: not %d requests' % (case, requests_expected))
            expect(unmet, requests_expected or kept_given, '%s: not the token the cache kept' % case)
    finally:
        figures.record('planted_lookup', {'rows': rows})
    assert not unmet, unmet
    shown = hostile_content_shown('\n'.join(outputs), [remembered, forged, good, entry_token])
    assert shown is None, shown


def test_hostile_content_planted_for_the_role_is_never_installed(playbooks, control, base_vars, site, scratch, figures):
    # Each host and cache filled by the role with exactly the inputs of the run below (cache_dir is one of the lookup's, and of its answers' keys).
    answer_case, host_case = os.path.join(scratch, 'answer'), os.path.join(scratch, 'host')
    cases = [role_case('remembered answer: a second line (LD_PRELOAD=...)', answer_case),
             role_case('installed token file: a second line (LD_PRELOAD=...)', host_case)]
    for case in cases:
        os.makedirs(os.path.dirname(case['dest']), 0o700)
    seeded = run_cases(playbooks, 'role_cases.yml', base_vars, cases)[0]
    assert not any(result['failed'] for result in seeded.values())
    goods = dict((case['name'], kept_token(case['dest'])) for case in cases)
    good = goods[cases[0]['name']]
    hostile = good + '\nLD_PRELOAD=/tmp/x.so'
    # The remembered answer the role's lookup would give: hostile. The host has no token, so the role asks the lookup.
    assert plant_in_entries(cases[0]['cache_dir'], 'answer', hostile) >= 1
    for path in (cases[0]['dest'], cases[0]['dest'] + '.site', cases[0]['env_file']):
        os.unlink(path)
    # The token installed on the host: hostile.
    with open(cases[1]['dest'], 'w', encoding='utf-8') as handle:
        handle.write(goods[cases[1]['name']] + '\nLD_PRELOAD=/tmp/x.so\n')
    control.reset()
    start = counters(control)
    results, output = run_cases(playbooks, 'role_cases.yml', base_vars, cases)
    end = counters(control)
    rows = []
    unmet = []
    try:
        for case in cases:
            result = results[case['name']]
            environment = read_or_none(case['env_file'])
            installed = read_or_none(case['dest'])
            installed = installed and installed.strip()
            clean = (installed is not None and only_token_of_the_site(case['dest'], site) and environment == 'UNICORE_TOKEN=%s\n' % installed
                     and digest(installed) == digest(goods[case['name']]))
            rows.append({'part': 'planted', 'plugin': 'workflow_token role', 'case': case['name'], 'failed': bool(result['failed']),
                         'message': '', 'unchanged': None, 'replaced': clean})
            expect(unmet, result['failed'] is False, '%s: the role failed: %s' % (case['name'], result['msg']))
            expect(unmet, clean, '%s: the host does not hold exactly the token the cache kept, once in each file' % case['name'])
    finally:
        figures.record('planted_role', {'rows': rows, 'requests': end['site'] - start['site'], 'tokens_issued': end['issued'] - start['issued']})
    assert not unmet, unmet
    # The cache's token entry fits both: no token is issued for either.
    assert end['issued'] == start['issued']
    shown = hostile_content_shown(output, [hostile] + list(goods.values()))
    assert shown is None, shown


# ---------------------------------------------------------------- opaque tokens in headers

OPAQUE = 'opaque-4711-access\r\nX-Injected: yes'


@pytest.mark.parametrize('plugin', ['module', 'lookup'])
def test_a_bearer_token_or_an_access_token_with_cr_lf_is_refused_before_any_request(playbooks, control, base_vars, server, site, scratch,
                                                                                    figures, plugin):
    oidc = server['oidc']
    endpoint = oidc['token_endpoint']
    client = oidc['clients']['confidential']
    oidc_login = {'auth_method': 'oidc_server', 'oidc_token_endpoint': endpoint, 'oidc_client_id': client['id'],
                  'oidc_client_secret': client['secret'], 'username': oidc['users']['demouser']['username'],
                  'password': oidc['users']['demouser']['password'], 'oidc_store_refresh_token': False,
                  'oidc_refresh_token_file': os.path.join(scratch, 'refresh-tokens')}
    cases = [('bearer token with CR LF', {'auth_method': 'bearer', 'token': OPAQUE}, 'token must not contain white space', 0),
             ('OIDC access token with CR LF', oidc_login,
              'POST %s answered with an access_token that is empty or holds white space or a control character' % endpoint, 1)]
    control.reset()
    control.add_faults({'path_prefix': urlsplit(endpoint).path, 'method': 'POST', 'action': 'respond', 'status': 200,
                        'content_type': 'application/json', 'count': 1,
                        'body': json.dumps({'access_token': OPAQUE, 'token_type': 'Bearer', 'expires_in': 300})})
    rows = []
    unmet = []
    outputs = []
    try:
        for name, options, expected, oidc_requests in cases:
            if plugin == 'module':
                options = dict(options, dest=os.path.join(scratch, 'unicore.token'))
            else:
                options = dict(options, cache=False)
            start = counters(control)
            results, output = run_cases(playbooks, '%s_cases.yml' % plugin, base_vars, [{'name': name, 'options': options}])
            end = counters(control)
            outputs.append(output)
            result = results[name]
            rows.append({'part': 'header', 'plugin': plugin, 'case': name, 'failed': bool(result['failed']),
                         'message': excerpt(result['msg'], endpoint), 'site_requests': end['site'] - start['site'],
                         'oidc_requests': end['oidc'] - start['oidc']})
            expect(unmet, result['failed'] is True and expected in result['msg'], '%s: not refused with the expected message' % name)
            expect(unmet, end['site'] == start['site'], '%s: a request reached the site' % name)
            expect(unmet, end['oidc'] - start['oidc'] == oidc_requests, '%s: not %d requests to the provider' % (name, oidc_requests))
        expect(unmet, not os.path.exists(os.path.join(scratch, 'unicore.token')), 'a token file was written')
    finally:
        figures.record('headers_%s' % plugin, {'rows': rows})
    assert not unmet, unmet
    shown = hostile_content_shown('\n'.join(outputs), [OPAQUE, 'opaque-4711-access'])
    assert shown is None, shown

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup's remembered answers: exactly the same inputs get the same answer without the rules; anything else goes through them.

The lookup runs as a task runs it, with the real token cache; the ``site`` fixture
(conftest.py) answers the token requests. ``rules`` counts how often the lookup
works an answer out (``work_out_answer``), the only way to it besides a remembered answer.
"""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from ansible import constants as C
from ansible.errors import AnsibleLookupError

from ansible_collections.unicore.auth.plugins.lookup import unicore_token
from ansible_collections.unicore.auth.plugins.plugin_utils import _token_lookup
from ansible_collections.unicore.auth.tests.unit.plugins.lookup.conftest import LOGIN, PASSWORD, SITE


@pytest.fixture
def rules(monkeypatch):
    calls = []
    real_work_out_answer = _token_lookup.work_out_answer

    def work_out_answer(options, cache_dir, answer_key, warn):
        calls.append(cache_dir)
        return real_work_out_answer(options, cache_dir, answer_key, warn)
    monkeypatch.setattr(_token_lookup, 'work_out_answer', work_out_answer)
    return calls


def answer_entries(cache_dir):
    return sorted(name for name in os.listdir(cache_dir) if name.startswith('answer-'))


def test_the_same_inputs_get_the_remembered_answer_without_the_rules(site, lookup, rules):
    issued = site.will_issue()
    assert lookup() == lookup() == lookup() == issued
    assert len(rules) == 1
    assert len(site.requests) == 1


def test_an_answer_is_a_private_entry_that_reveals_no_input(site, lookup, cache_dir):
    issued = site.will_issue()
    lookup(min_validity=600)
    names = answer_entries(cache_dir)
    assert len(names) == 1
    entry = cache_dir / names[0]
    assert stat.S_IMODE(entry.lstat().st_mode) == 0o600
    answer = json.loads(entry.read_text())
    assert sorted(answer) == ['reusable_until', 'token', 'warnings']
    assert answer['token'] == issued and answer['warnings'] == []
    assert time.time() + 3600 - 600 - 5 < answer['reusable_until'] <= time.time() + 3600 - 600
    for name in os.listdir(cache_dir):
        assert 'demouser' not in name
        assert PASSWORD.encode('utf-8') not in (cache_dir / name).read_bytes(), name


@pytest.mark.parametrize('change, new_tokens', [
    ({'min_validity': 600}, 0),     # another answer, but the cached token fits it
    ({'timeout': 5}, 0),
    ({'limited': 'yes'}, 0),        # the same flag, spelt otherwise
    ({'password': 'another-password'}, 1),
    ({'lifetime': 7200}, 1),
])
def test_any_other_input_goes_through_the_rules(site, lookup, rules, change, new_tokens):
    first = site.will_issue(1)
    site.will_issue(2)
    assert lookup() == first
    second = lookup(**change)
    assert (second != first) == bool(new_tokens)
    assert len(rules) == 2
    assert len(site.requests) == 1 + new_tokens
    assert lookup(**change) == second
    assert len(rules) == 2


def test_a_flag_that_is_neither_true_nor_false_is_refused_after_an_answer_for_false(site, lookup):
    # Ansible's own conversion takes "perhaps" for false: the answer for limited=false must not be given to it.
    site.will_issue()
    lookup(limited=False)
    with pytest.raises(AnsibleLookupError) as error:
        lookup(limited='perhaps')
    assert str(error.value) == "unicore.auth.unicore_token: limited must be a boolean (true or false), got 'perhaps'"


def test_an_option_from_the_environment_is_an_input_too(site, lookup, rules, monkeypatch):
    site.will_issue(1)
    second = site.will_issue(2)
    lookup()
    monkeypatch.setenv('UNICORE_LIFETIME', '7200')
    assert lookup() == second
    assert len(rules) == 2
    assert site.requests[1].url.startswith(SITE + '/token?lifetime=7200')


@pytest.mark.parametrize('source', ['direct', 'environment'])
def test_a_token_file_is_answered_from_memory_only_while_it_holds_the_same_token(site, lookup, rules, monkeypatch, tmp_path, source):
    # The token in the file is the login: another token written there must never get the answer the first one got.
    token_file = tmp_path / 'token'
    token_file.write_text('first.bearer.token\n')
    given = {'token_file': str(token_file)} if source == 'direct' else {}
    if source == 'environment':
        monkeypatch.setenv('UNICORE_TOKEN_FILE', str(token_file))
    first = site.will_issue(1)
    second = site.will_issue(2)
    assert lookup(username=None, password=None, **given) == first
    assert lookup(username=None, password=None, **given) == first
    assert len(rules) == 1
    token_file.write_text('second.bearer.token\n')
    assert lookup(username=None, password=None, **given) == second
    assert len(rules) == 2
    assert [request.headers['Authorization'] for request in site.requests] == ['Bearer first.bearer.token', 'Bearer second.bearer.token']


def test_a_changed_config_file_is_another_input(site, lookup, rules, monkeypatch, tmp_path):
    # Options may come from its [unicore] section; Ansible reads it when ansible-playbook starts.
    config = tmp_path / 'ansible.cfg'
    config.write_text('[unicore]\nlifetime = 3600\n')
    monkeypatch.setattr(C, 'CONFIG_FILE', str(config))
    site.will_issue(serial=1)
    lookup()
    lookup()
    config.write_text('[unicore]\nlifetime = 7200\n')
    site.will_issue(serial=2)
    lookup()
    assert len(rules) == 2
    assert site.requests[1].url.startswith(SITE + '/token?lifetime=7200')


def test_another_home_directory_is_another_input(site, lookup, rules, monkeypatch, tmp_path):
    # A relative identity is a key file under ~/.uftp/.
    site.will_issue()
    lookup()
    monkeypatch.setenv('HOME', str(tmp_path / 'another-home'))
    lookup()
    assert len(rules) == 2


def test_an_answer_is_given_until_min_validity_before_the_token_expires(site, lookup, rules, monkeypatch):
    first = site.will_issue(1, valid_for=700)
    second = site.will_issue(2)
    assert lookup(min_validity=600) == lookup(min_validity=600) == first
    now = time.time()
    monkeypatch.setattr(time, 'time', lambda: now + 101)
    assert lookup(min_validity=600) == second
    assert len(rules) == 2
    assert len(site.requests) == 2


@pytest.mark.parametrize('content', [
    b'',
    b'{"token": ',
    b'[]',
    b'{"token": "", "reusable_until": 9999999999, "warnings": []}',
    b'{"token": "forged", "reusable_until": "later", "warnings": []}',
    b'{"token": "forged", "reusable_until": 9999999999}',
])
def test_a_damaged_answer_goes_through_the_rules_and_is_written_anew(site, lookup, rules, cache_dir, content):
    issued = site.will_issue()
    lookup()
    entry = cache_dir / answer_entries(cache_dir)[0]
    entry.write_bytes(content)
    assert lookup() == issued
    assert len(rules) == 2
    assert json.loads(entry.read_text())['token'] == issued
    assert len(site.requests) == 1


def test_an_answer_is_never_read_through_a_symbolic_link(site, lookup, rules, cache_dir, tmp_path):
    issued = site.will_issue()
    lookup()
    entry = cache_dir / answer_entries(cache_dir)[0]
    forged = tmp_path / 'forged'
    forged.write_text(json.dumps({'token': 'forged', 'reusable_until': time.time() + 3600, 'warnings': []}))
    entry.unlink()
    entry.symlink_to(forged)
    assert lookup() == issued
    assert len(rules) == 2


def test_answers_in_a_directory_others_can_write_to_are_not_given(site, lookup, rules, cache_dir):
    site.will_issue()
    lookup()
    cache_dir.chmod(0o777)
    with pytest.raises(AnsibleLookupError) as error:
        lookup()
    assert str(error.value) == ('unicore.auth.unicore_token: cache_dir: %s is writable by other users (mode 777); make it 0700'
                                % cache_dir)
    assert len(rules) == 2


def test_without_the_cache_nothing_is_remembered(site, lookup, rules, cache_dir):
    first = site.will_issue(1)
    second = site.will_issue(2)
    assert [lookup(cache=False), lookup(cache=False)] == [first, second]
    assert len(rules) == 2
    assert not cache_dir.exists()


def test_the_warnings_of_an_answer_are_given_with_it_each_time(site, lookup, rules, monkeypatch):
    warnings = []

    class Display:
        verbosity = 0

        def warning(self, message):
            warnings.append(message)
    monkeypatch.setattr(unicore_token, 'Display', Display)
    site.will_issue()
    plain = 'http://site.example:8080/DEMO-SITE/rest/core'
    assert lookup(url=plain, allow_http=True) == lookup(url=plain, allow_http=True)
    assert len(rules) == 1
    assert len(warnings) == 2
    assert warnings[0] == warnings[1]
    assert warnings[0].startswith('unicore.auth.unicore_token: url: %s is plain HTTP (allow_http is true)' % plain)


def test_a_remembered_answer_in_a_fresh_worker_imports_no_other_module_of_the_collection(site, lookup, cache_dir, fresh_python):
    # Ansible's collection loader compiles each collection module from source in every worker; the plugin file is the
    # one a remembered answer may need (docs/performance.md). This is the same lookup, loaded as Ansible loads it.
    issued = site.will_issue()
    assert lookup() == issued
    assert fresh_python([
        'import json, sys',
        'from ansible.parsing.dataloader import DataLoader',
        'from ansible.plugins.loader import init_plugin_loader, lookup_loader',
        'from ansible.template import Templar',
        'init_plugin_loader([sys.argv[1]])',
        'loader = DataLoader()',
        'lookup = lookup_loader.get("unicore.auth.unicore_token", loader=loader, templar=Templar(loader=loader))',
        'token = lookup.run([], variables={}, **json.loads(sys.stdin.read()))[0]',
        'print(json.dumps([token, sorted(name for name in sys.modules if name.startswith("ansible_collections.unicore.auth.plugins."))]))',
    ], stdin=json.dumps(dict(LOGIN, cache_dir=str(cache_dir)))) == [
        issued, ['ansible_collections.unicore.auth.plugins.lookup', 'ansible_collections.unicore.auth.plugins.lookup.unicore_token']]


def test_the_http_warning_is_given_also_when_no_token_comes_of_it(make_lookup, monkeypatch):
    warnings = []

    class Display:
        verbosity = 0

        def warning(self, message):
            warnings.append(message)
    monkeypatch.setattr(unicore_token, 'Display', Display)
    with pytest.raises(AnsibleLookupError):
        make_lookup({}).run([], variables={}, **dict(LOGIN, url='http://site.example:8080/DEMO-SITE/rest/core', allow_http=True, lifetime=0))
    assert len(warnings) == 1 and 'is plain HTTP' in warnings[0]


def test_a_plain_http_url_is_refused_before_any_request_unless_allowed(site, lookup, cache_dir):
    with pytest.raises(AnsibleLookupError) as error:
        lookup(url='http://site.example:8080/DEMO-SITE/rest/core')
    assert 'url: http://site.example:8080/DEMO-SITE/rest/core is not HTTPS' in str(error.value)
    assert 'allow_http: true' in str(error.value)
    assert site.requests == []

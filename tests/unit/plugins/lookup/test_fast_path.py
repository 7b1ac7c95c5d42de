# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the lookup's plugin file does on its own, before it imports the collection, kept equal to the rules it stands for.

The plugin file captures the options' sources, finds the cache directory and
reads remembered answers without importing the collection's modules (each of
which Ansible compiles anew in every forked worker). The cache directory and
the answers' names have twins among the rules; these tests keep the pairs equal.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible import constants as C

from ansible_collections.unicore.auth.plugins.lookup import unicore_token
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.plugin_utils import _token_cache
from ansible_collections.unicore.auth.plugins.plugin_utils._token_lookup import OptionSources, resolve_options
from ansible_collections.unicore.auth.tests.unit.plugins.ansible_core_compat import trust_as_template

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """``outside(environment, ini)``: the controller's environment has these variables, and Ansible's config file
    this text (no config file for an empty text)."""
    def set_up(environment, ini):
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        path = None
        if ini:
            path = tmp_path / 'conf' / 'ansible.cfg'
            path.parent.mkdir(exist_ok=True)
            path.write_text(ini)
        monkeypatch.setattr(C, 'CONFIG_FILE', None if path is None else str(path))
    return set_up


def task_variables(**values):
    return dict((name, trust_as_template(value) if isinstance(value, str) else value) for name, value in values.items())


def capture(make_lookup, variables, direct):
    lookup = make_lookup(variables)
    return unicore_token.capture_sources(lookup._templar, lookup._loader, variables, direct)


SOURCE_CASES = {
    'nothing': (({}, {}, {}, ''), ({}, {}, {}, {})),
    'direct only': (({'url': SITE, 'cache_dir': '', 'lifetime': 60}, {}, {}, ''),
                    ({'url': SITE, 'cache_dir': '', 'lifetime': 60}, {}, {}, {})),
    'templated variables': (({}, {'unicore_url': '{{ site }}', 'site': SITE, 'unicore_password': '{{ secret }}', 'secret': 's3cret',
                                  'unrelated': 'x'}, {}, ''),
                            ({}, {'unicore_url': SITE, 'unicore_password': 's3cret'}, {}, {})),
    'environment, blanks too': (({}, {}, {'UNICORE_URL': SITE, 'UNICORE_PASSWORD': '', 'UNRELATED': 'x'}, ''),
                                ({}, {}, {'UNICORE_URL': SITE, 'UNICORE_PASSWORD': ''}, {})),
    'ini with quotes and comments': (({}, {}, {}, '[defaults]\nforks = 5\n[unicore]\nurl = "%s" ; the site\ncache_dir = tokens\n' % SITE),
                                     ({}, {}, {}, {'url': SITE, 'cache_dir': 'tokens'})),
}


@pytest.mark.parametrize('case', sorted(SOURCE_CASES))
def test_the_plugin_captures_each_source_of_the_options_and_nothing_else(make_lookup, outside, case):
    (direct, variables, environment, ini), expected = SOURCE_CASES[case]
    outside(environment, ini)
    sources = capture(make_lookup, task_variables(**variables), direct)
    assert (sources['direct'], sources['variables'], sources['environment'], sources['ini']) == expected
    assert sources['config_file'] == C.CONFIG_FILE


CACHE_CASES = [
    ({'cache_dir': '/srv/tokens'}, {}, {}, ''),
    ({'cache_dir': '~/tokens'}, {}, {}, ''),
    ({'cache_dir': 'relative/tokens'}, {}, {}, ''),
    ({}, {'unicore_cache_dir': '/from/vars'}, {'UNICORE_CACHE_DIR': '/from/env'}, ''),
    ({}, {'unicore_cache_dir': '  '}, {'UNICORE_CACHE_DIR': '/from/env'}, ''),
    ({}, {}, {}, '[unicore]\ncache_dir = tokens\n'),
    ({}, {}, {}, '[unicore]\ncache_dir = "$HOME/tokens"\n'),
    ({}, {}, {'UNICORE_CACHE': 'no', 'UNICORE_CACHE_DIR': '/from/env'}, ''),
    ({'cache': 'yes'}, {'unicore_cache': 'no'}, {}, ''),
    ({}, {}, {}, '[unicore]\ncache = false\n'),
]


@pytest.mark.parametrize('direct, variables, environment, ini', CACHE_CASES)
def test_the_plugin_finds_the_cache_where_the_rules_resolve_cache_and_cache_dir(make_lookup, outside, direct, variables, environment, ini):
    outside(environment, ini)
    sources = capture(make_lookup, variables, direct)
    options = resolve_options(unicore_token.DEFINITIONS, OptionSources(**sources))
    expected = options.get_option('cache_dir') if options.get_option('cache') else None
    if options.get_option('cache') and expected is None:
        expected = os.path.join(os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'unicore.auth', 'tokens')
    assert unicore_token.cache_directory(sources) == expected


def test_a_cache_flag_neither_true_nor_false_finds_no_answer_and_the_rules_refuse_it(make_lookup):
    sources = capture(make_lookup, {}, {'cache': 'perhaps'})
    assert unicore_token.cache_directory(sources) is None
    with pytest.raises(UnicoreError) as error:
        resolve_options(unicore_token.DEFINITIONS, OptionSources(**sources))
    assert str(error.value) == "cache must be a boolean (true or false), got 'perhaps'"


def test_the_plugin_reads_the_answers_the_token_cache_remembers_under_the_same_name(tmp_path):
    cache = _token_cache.TokenCache(tmp_path / 'cache')
    answer_key = json.dumps({'sources': {'direct': {'url': SITE}}})
    # A token as a site issues it (sub, iat, exp): the cache keeps no other.
    token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbGQiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.b2xkLXNpZw'
    answer = {'token': token, 'reusable_until': 4102444800, 'warnings': ['a warning']}
    cache.remember(answer_key, answer)
    assert unicore_token.answer_name(cache.directory, answer_key) == cache.entry_name('answer', answer_key)
    assert unicore_token.remembered_answer(cache.directory, answer_key) == answer
    assert unicore_token.remembered_answer(cache.directory, answer_key + ' ') is None


# ---------------------------------------------------------------- the ansible-core internal

def test_the_definitions_are_registered_where_ansible_core_offers_it():
    assert unicore_token.register_option_definitions(unicore_token.DEFINITIONS) is True
    assert C.config.has_configuration_definition('lookup', unicore_token.__name__)


@pytest.mark.parametrize('missing', ['absent', 'other signature'])
def test_without_the_internal_nothing_is_registered_and_the_lookup_still_answers(make_lookup, monkeypatch, site, tmp_path, missing):
    if missing == 'absent':
        monkeypatch.delattr(type(C.config), 'initialize_plugin_configuration_definitions')
    else:
        monkeypatch.setattr(type(C.config), 'initialize_plugin_configuration_definitions', lambda self, plugin_type: None)
    assert unicore_token.register_option_definitions(unicore_token.DEFINITIONS) is False
    token = site.will_issue()
    assert make_lookup({}).run([], variables={}, url=SITE, username='demouser', password='pw', cache_dir=str(tmp_path / 'c')) == [token]

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Messages that name where an option came from: which words are options, and what is said of each."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.plugin_utils._option_origins import origins, with_origins
from ansible_collections.unicore.auth.plugins.plugin_utils._token_lookup import OptionSources


def definition(name):
    return {'vars': [{'name': 'unicore_' + name}], 'env': [{'name': 'UNICORE_' + name.upper()}],
            'ini': [{'key': name, 'section': 'unicore'}]}


DEFINITIONS = dict((name, definition(name)) for name in (
    'auth_method', 'ca_path', 'password', 'site', 'token', 'token_file', 'url', 'username', 'registry_url'))


def explained(message, direct=None, variables=None, environment=None, ini=None, entry=None, decides=()):
    sources = OptionSources(direct or {}, variables or {}, environment or {}, ini or {}, '/etc/ansible/ansible.cfg')
    return with_origins(message, DEFINITIONS, origins(DEFINITIONS, sources, entry, decides), '/etc/ansible/ansible.cfg')


@pytest.mark.parametrize('given, expected', [
    ({}, 'auth_method=password needs password (read from unicore_password or the environment variable UNICORE_PASSWORD)'),
    ({'variables': {'unicore_password': 'x'}}, 'auth_method=password needs password (from unicore_password)'),
    ({'environment': {'UNICORE_PASSWORD': 'x'}}, 'auth_method=password needs password (from the environment variable UNICORE_PASSWORD)'),
    ({'ini': {'password': 'x'}},
     'auth_method=password needs password (from password in the [unicore] section of /etc/ansible/ansible.cfg)'),
    # a variable wins over the environment, as the options are read
    ({'variables': {'unicore_password': 'x'}, 'environment': {'UNICORE_PASSWORD': 'y'}}, 'auth_method=password needs password (from unicore_password)'),
    # written in the very call that failed: nothing to add
    ({'direct': {'password': 'x'}}, 'auth_method=password needs password'),
    # a blank variable is not given (AWX injects an empty string for an input left blank)
    ({'variables': {'unicore_password': ''}}, 'auth_method=password needs password (read from unicore_password or the environment variable UNICORE_PASSWORD)'),
])
def test_an_option_is_followed_by_where_it_came_from_or_can_be_set(given, expected):
    assert explained('auth_method=password needs password', **given) == expected


def test_each_option_is_explained_once_and_a_value_is_not_an_option():
    # auth_method=password: the option is written with its value, and "password" there is the value
    assert explained('auth_method=password needs username and password; username and password must both be set',
                     variables={'unicore_username': 'demouser'}) == (
        'auth_method=password needs username (from unicore_username) and password (read from unicore_password or the '
        'environment variable UNICORE_PASSWORD); username and password must both be set')


def test_a_longer_name_is_not_read_as_a_shorter_one():
    assert explained('token_file: /x does not exist', variables={'unicore_token_file': '/x'}) == (
        'token_file (from unicore_token_file): /x does not exist')


@pytest.mark.parametrize('message', [
    'the site answered 503 and no token was issued',
    'GET https://host:8080/DEMO-SITE/rest/core/token answered 401',
    'the url of the site is https://host:8080/site/rest/core',
    'ca_path.pem and password_file are not options',
])
def test_words_that_are_not_an_option_named_are_left_alone(message):
    assert explained(message, variables={'unicore_token': 'x', 'unicore_site': 'S', 'unicore_url': 'u'}) == message


@pytest.mark.parametrize('message, expected', [
    ('token: it holds white space', 'token (from unicore_token): it holds white space'),
    ('auth_method=bearer needs token or token_file',
     'auth_method=bearer needs token (from unicore_token) or token_file (read from unicore_token_file or the environment '
     'variable UNICORE_TOKEN_FILE)'),
    ('site needs registry_url, the Registry that lists the site, or give url instead',
     'site (from unicore_site) needs registry_url (read from unicore_registry_url or the environment variable '
     'UNICORE_REGISTRY_URL), the Registry that lists the site, or give url (read from unicore_url or the environment variable '
     'UNICORE_URL) instead'),
])
def test_a_common_word_is_an_option_where_a_message_names_one(message, expected):
    assert explained(message, variables={'unicore_token': 'x', 'unicore_site': 'S'}) == expected


def test_a_site_entry_names_its_own_options_and_those_it_decides_alone():
    message = 'auth_method=password needs username and password'
    assert explained(message, variables={'unicore_password': 'shared'}, entry={'username': 'other'},
                     decides=('username', 'password')) == (
        'auth_method=password needs username (from the site entry) and password (not in the site entry, whose own '
        'settings replace the shared ones)')


def test_hint_to_set_an_option_names_its_variable():
    assert explained('unable to get local issuer certificate. Set ca_path to the CA that signed the site certificate') == (
        'unable to get local issuer certificate. Set ca_path (read from unicore_ca_path or the environment variable '
        'UNICORE_CA_PATH) to the CA that signed the site certificate')


@pytest.mark.parametrize('message, expected', [
    # a setting written out: the note follows its value, so that "allow_http: true" stays whole
    ('url: http://site is not HTTPS; set allow_http: true to allow it',
     'url (from unicore_url): http://site is not HTTPS; set allow_http: true (read from unicore_allow_http or the environment '
     'variable UNICORE_ALLOW_HTTP) to allow it'),
    # at the start of a clause, "name:" labels what follows
    ('it failed; ca_path: /x does not exist', 'it failed; ca_path (from unicore_ca_path): /x does not exist'),
])
def test_a_setting_written_out_stays_whole(message, expected):
    definitions = dict(DEFINITIONS, allow_http=definition('allow_http'))
    sources = OptionSources({}, {'unicore_url': 'http://site', 'unicore_ca_path': '/x'}, {}, {})
    assert with_origins(message, definitions, origins(definitions, sources)) == expected

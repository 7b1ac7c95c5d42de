# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore_options lookup: a site entry over the shared options, and a Registry site name passed on."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError

from ansible_collections.unicore.auth.plugins.module_utils._registry import Registry
from ansible_collections.unicore.auth.plugins.plugin_utils import _token_lookup

REGISTRY = 'https://host:8080/REGISTRY/rest/registries/default_registry'
SITE_URL = 'https://host:8080/DEMO-SITE/rest/core'
OTHER_URL = 'https://other:8080/OTHER-SITE/rest/core'


def run(options_lookup, variables, *terms, **kwargs):
    return options_lookup(variables).run(list(terms), variables=variables, **kwargs)[0]


def test_a_registry_site_name_is_passed_on_like_any_option(options_lookup):
    variables = {'unicore_registry_url': REGISTRY, 'unicore_site': 'PARTNER-SITE', 'unicore_username': 'demouser'}
    assert run(options_lookup, variables, 'registry_url', 'site', 'username') == {
        'registry_url': REGISTRY, 'site': 'PARTNER-SITE', 'username': 'demouser'}


@pytest.mark.parametrize('entry, expected', [
    # an entry that says where the site is replaces both ways of saying it, and keeps the shared Registry
    ({'url': SITE_URL}, {'url': SITE_URL, 'registry_url': REGISTRY}),
    ({'site': 'LONE-SITE'}, {'site': 'LONE-SITE', 'registry_url': REGISTRY}),
    # one that does not keeps the shared location
    ({'timeout': 5}, {'site': 'PARTNER-SITE', 'registry_url': REGISTRY, 'timeout': 5}),
])
def test_a_site_entry_that_says_where_the_site_is_replaces_url_and_site(options_lookup, entry, expected):
    variables = {'unicore_registry_url': REGISTRY, 'unicore_site': 'PARTNER-SITE'}
    assert run(options_lookup, variables, 'url', 'registry_url', 'site', 'timeout', site_entry=dict(entry, name='x')) == expected


def test_a_site_entry_must_be_a_dict(options_lookup):
    with pytest.raises(AnsibleLookupError, match='site_entry must be a dict'):
        run(options_lookup, {}, 'url', site_entry='DEMO-SITE')


def test_asked_for_url_alone_a_site_named_in_a_registry_is_its_url_there(options_lookup, monkeypatch, tmp_path):
    read = []

    def registry(options, warn):
        read.append(options.get_option('registry_url'))
        return Registry(REGISTRY, [{'type': 'CoreServices', 'href': SITE_URL}, {'type': 'CoreServices', 'href': OTHER_URL}])
    monkeypatch.setattr(_token_lookup, 'fetch_registry', lambda options, registry_url: registry(options, None))
    variables = {'unicore_registry_url': REGISTRY, 'unicore_site': 'DEMO-SITE', 'unicore_cache_dir': str(tmp_path / 'cache')}
    assert run(options_lookup, variables, 'url') == {'url': SITE_URL}
    assert run(options_lookup, variables, 'url', site_entry={'name': 'other', 'site': 'OTHER-SITE'}) == {'url': OTHER_URL}
    # kept in the cache: one read for both
    assert read == [REGISTRY]
    # asked for site as well, the options are passed on as given, for the module to find the url
    assert run(options_lookup, variables, 'url', 'site', 'registry_url') == {'site': 'DEMO-SITE', 'registry_url': REGISTRY}


def test_a_failure_message_names_where_each_option_came_from(options_lookup, monkeypatch):
    monkeypatch.setenv('UNICORE_CA_PATH', '/etc/ssl/site-ca.pem')
    variables = {'unicore_url': SITE_URL, 'unicore_username': 'demouser'}
    message = 'auth_method=password needs password; ca_path: /etc/ssl/site-ca.pem does not exist'
    assert options_lookup(variables).run([], variables=variables, failure=message) == [
        'auth_method=password needs password (read from unicore_password or the environment variable UNICORE_PASSWORD); '
        'ca_path (from the environment variable UNICORE_CA_PATH): /etc/ssl/site-ca.pem does not exist']


def test_a_failure_message_at_a_site_names_the_site_entry(options_lookup):
    variables = {'unicore_username': 'demouser', 'unicore_password': 'shared'}
    entry = {'name': 'other', 'url': OTHER_URL, 'token': 'its-own'}
    assert options_lookup(variables).run([], variables=variables, site_entry=entry, failure='token: it holds white space; username?') == [
        'token (from the site entry): it holds white space; username (not in the site entry, whose own settings replace the shared ones)?']


def test_an_option_of_the_wrong_type_is_named_with_its_variable(options_lookup):
    variables = {'unicore_url': SITE_URL, 'unicore_timeout': 'soon'}
    with pytest.raises(AnsibleLookupError, match=r"^unicore.auth.unicore_options: timeout \(from unicore_timeout\) must be a whole number"):
        run(options_lookup, variables, 'url', 'timeout')

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the test server's Registry never sends, and the refusals made before any request.

The Registry as the server lists it, anonymous and authenticated reads, unknown
sites, url with site, and the errors of a URL that is no Registry are shown
against the test server (integration target module_unicore_registry_info).
"""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._registry import Registry, options_with_site_url, read_registry_from_options

REGISTRY = 'https://registry.example:8080/REGISTRY/rest/registries/default_registry'
# Nothing listens there: a test that reached for the network would fail with a connection error, not its own message.
UNREACHABLE_REGISTRY = 'https://localhost:1/REGISTRY/rest/registries/default_registry'


def site(href, service_type='CoreServices'):
    return {'href': href, 'type': service_type}


# ---------------------------------------------------------------- naming sites as PyUNICORE does

@pytest.mark.parametrize('href, name, url', [
    ('https://gw.example:8080/SITE-A/rest/core', 'SITE-A', 'https://gw.example:8080/SITE-A/rest/core'),
    ('https://gw.example:8080/SITE-A/rest/core/', 'SITE-A', 'https://gw.example:8080/SITE-A/rest/core'),
    # a resource below the base: the site's url is the base
    ('https://gw.example:8080/SITE-A/rest/core/factories/default', 'SITE-A', 'https://gw.example:8080/SITE-A/rest/core'),
    # behind a path prefix: the segment right before /rest/core names the site
    ('https://gw.example/unicore/SITE-A/rest/core', 'SITE-A', 'https://gw.example/unicore/SITE-A/rest/core'),
    ('  https://gw.example/SITE-A/rest/core  ', 'SITE-A', 'https://gw.example/SITE-A/rest/core'),
])
def test_a_site_is_named_by_the_path_segment_before_rest_core(href, name, url):
    assert Registry(REGISTRY, [site(href)]).sites == [{'name': name, 'url': url}]


def test_core_services_entries_that_name_no_site_are_left_out_with_a_warning():
    entries = [site('https://gw.example/rest/core'), site('https://gw.example/SITE-A/rest/coreservices'), site(None),
               site('https://gw.example/SITE-B/rest/core')]
    registry = Registry(REGISTRY, entries)
    assert registry.sites == [{'name': 'SITE-B', 'url': 'https://gw.example/SITE-B/rest/core'}]
    assert registry.entries == entries
    warnings = registry.warnings()
    assert len(warnings) == 3
    assert warnings[0] == ('The Registry %s lists a CoreServices entry whose href (https://gw.example/rest/core) does not end in '
                           '/SITE/rest/core; it is left out of the sites' % REGISTRY)


def test_entries_that_are_not_objects_are_returned_as_sent_and_name_no_site():
    entries = ['https://gw.example/SITE-A/rest/core', None, site('https://gw.example/SITE-B/rest/core')]
    registry = Registry(REGISTRY, entries)
    assert registry.entries == entries
    assert [entry['name'] for entry in registry.sites] == ['SITE-B']
    assert registry.warnings() == []


def test_a_site_listed_twice_at_the_same_url_is_one_site():
    registry = Registry(REGISTRY, [site('https://gw.example/SITE-A/rest/core'), site('https://gw.example/SITE-A/rest/core/')])
    assert registry.sites == [{'name': 'SITE-A', 'url': 'https://gw.example/SITE-A/rest/core'}]
    assert registry.site_url('SITE-A') == 'https://gw.example/SITE-A/rest/core'


def test_a_name_listed_at_two_urls_is_refused_naming_both():
    registry = Registry(REGISTRY, [site('https://gw2.example/SITE-A/rest/core'), site('https://gw1.example/SITE-A/rest/core')])
    with pytest.raises(UnicoreError) as error:
        registry.site_url('SITE-A')
    assert str(error.value) == ('site: the Registry %s lists SITE-A at 2 URLs (https://gw1.example/SITE-A/rest/core, '
                                'https://gw2.example/SITE-A/rest/core); give url instead of site' % REGISTRY)


def test_an_empty_registry_says_it_lists_no_sites():
    with pytest.raises(UnicoreError, match='lists no site SITE-A; the sites it lists are: none$'):
        Registry.from_document(REGISTRY, {'entries': []}).site_url('SITE-A')


@pytest.mark.parametrize('document', [[], {'entries': {}}, {'Entries': []}, None])
def test_an_answer_without_an_entries_list_is_no_registry(document):
    with pytest.raises(UnicoreError, match='returned JSON without an "entries" list; is registry_url a UNICORE Registry'):
        Registry.from_document(REGISTRY, document)


def test_site_names_are_case_sensitive():
    registry = Registry(REGISTRY, [site('https://gw.example/DEMO-SITE/rest/core')])
    with pytest.raises(UnicoreError, match='lists no site demo-site; the sites it lists are: DEMO-SITE$'):
        registry.site_url('demo-site')


# ---------------------------------------------------------------- refused before any request

@pytest.mark.parametrize('given, message', [
    ({'registry_url': UNREACHABLE_REGISTRY},
     '^registry_url is set but site is not: name the site as the Registry lists it'),
    ({'registry_url': UNREACHABLE_REGISTRY, 'site': '  '}, '^site must not be blank'),
    ({'site': 'DEMO-SITE', 'registry_url': ''}, '^site needs registry_url'),
    ({'site': 'DEMO-SITE', 'registry_url': 'http://registry.example/REGISTRY/rest/registries/default_registry'},
     '^registry_url: http://registry.example/REGISTRY/rest/registries/default_registry is not HTTPS'),
    ({'site': 'DEMO-SITE', 'registry_url': 'ftp://registry.example/REGISTRY'},
     '^registry_url: ftp://registry.example/REGISTRY is not an https:// URL with a host name'),
    ({'site': 'DEMO-SITE', 'registry_url': 'https://demouser:Reg-Secret-1@registry.example/REGISTRY'},
     '^registry_url must not contain credentials'),
    ({'site': 'DEMO-SITE', 'registry_url': REGISTRY + '?x=1'}, 'must not have a query or fragment$'),
])
def test_unusable_site_options_are_refused_before_any_request(options, given, message):
    with pytest.raises(UnicoreError, match=message) as error:
        options_with_site_url(options(**given), warn=pytest.fail)
    assert 'Reg-Secret-1' not in str(error.value)


def test_url_beside_a_registry_url_without_site_is_used_as_given(options):
    given = options(url='https://gw.example/SITE-A/rest/core', registry_url=UNREACHABLE_REGISTRY)
    assert options_with_site_url(given, warn=pytest.fail) is given


def test_registry_auth_without_credentials_fails_before_any_request(options):
    with pytest.raises(UnicoreError, match='^no credentials given'):
        read_registry_from_options(options(registry_url=UNREACHABLE_REGISTRY, registry_auth=True), warn=pytest.fail)

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A UNICORE Registry: reading it, naming its sites, and the site url that ``registry_url`` + ``site`` stand for (internal to the collection).

A Registry answers ``GET registry_url`` with ``{"entries": [{"href": ".../SITE/rest/core",
"type": "CoreServices"}, ...]}``. A site is named as PyUNICORE names it: the path
segment before ``/rest/core`` of a ``CoreServices`` entry.
"""

from __future__ import annotations

import json
import re

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import check_plain_http, connection_keywords, plain_http_check
from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential, credential_from_options
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank
from ansible_collections.unicore.auth.plugins.module_utils._urls import checked_url, display_url

SITE_TYPE = 'CoreServices'
REGISTRY_EXAMPLE = 'https://host:8080/REGISTRY/rest/registries/default_registry'
URL_EXAMPLE = 'https://host:8080/DEMO-SITE/rest/core'
# ".../NAME/rest/core", possibly followed by more path: the site's url is the part up to /rest/core.
_SITE_HREF = re.compile(r'^(?P<url>https?://[^/?#\s]+(?:/[^?#\s]*)?/(?P<name>[^/?#\s]+)/rest/core)(?:[/?#].*)?$')


class Registry:
    """What a Registry listed: ``entries`` as sent, and ``sites``, its ``CoreServices`` entries as ``{name, url}`` sorted by name."""

    def __init__(self, url, entries):
        self.url = url
        self.entries = entries
        self.sites, self.unnamed = _sites_of(entries)

    @classmethod
    def from_document(cls, url, document):
        """The Registry that answered ``document`` (decoded JSON) at ``url``; UnicoreError when it is not a Registry's answer."""
        if not isinstance(document, dict) or not isinstance(document.get('entries'), list):
            raise UnicoreError('GET %s returned JSON without an "entries" list; is registry_url a UNICORE Registry (%s)?'
                               % (display_url(url), REGISTRY_EXAMPLE), url=url)
        return cls(url, document['entries'])

    def warnings(self):
        """What the user should know about the listing: CoreServices entries that name no site."""
        return ['The Registry %s lists a %s entry whose href (%s) does not end in /SITE/rest/core; it is left out of the sites'
                % (display_url(self.url), SITE_TYPE, href) for href in self.unnamed]

    def site_url(self, name):
        """The url of the site called ``name``; UnicoreError listing the known names for an unknown one."""
        urls = sorted(set(site['url'] for site in self.sites if site['name'] == name))
        if len(urls) == 1:
            return urls[0]
        if urls:
            raise UnicoreError('site: the Registry %s lists %s at %d URLs (%s); give url instead of site'
                               % (display_url(self.url), name, len(urls), ', '.join(urls)), url=self.url)
        known = ', '.join(sorted(set(site['name'] for site in self.sites))) or 'none'
        raise UnicoreError('site: the Registry %s lists no site %s; the sites it lists are: %s'
                           % (display_url(self.url), name, known), url=self.url)


def _sites_of(entries):
    """``([{name, url}] sorted by name, [hrefs of CoreServices entries that name no site]).``"""
    sites = []
    unnamed = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get('type') != SITE_TYPE:
            continue
        match = _SITE_HREF.match(str(entry.get('href', '')).strip())
        if match is None:
            unnamed.append(display_url(entry.get('href')))
            continue
        site = {'name': match.group('name'), 'url': display_url(match.group('url'))}
        if site not in sites:
            sites.append(site)
    return sorted(sites, key=lambda site: (site['name'], site['url'])), unnamed


def read_registry(transport, registry_url):
    """GET ``registry_url`` through ``transport``: the Registry, or UnicoreError naming the URL and the cause."""
    try:
        response = transport.get(registry_url, accept='application/json')
    except UnicoreError as error:
        raise _in_registry_terms(error, transport.credential.method)
    try:
        document = json.loads(response.text)
    except ValueError:
        raise UnicoreError('GET %s returned a body that is not JSON (Content-Type: %s, %d bytes); is registry_url a UNICORE Registry (%s)?'
                           % (display_url(registry_url), response.headers.get('Content-Type', 'none'), len(response.content),
                              REGISTRY_EXAMPLE), url=registry_url, status=response.status_code)
    return Registry.from_document(registry_url, document)


def _in_registry_terms(error, method):
    """The transport's error, or one that says what to do in Registry terms where a site's advice would mislead."""
    if error.status == 404:
        return UnicoreError('GET %s failed: HTTP 404: no Registry there; check registry_url (a UNICORE Registry is at %s)'
                            % (display_url(error.url), REGISTRY_EXAMPLE), url=error.url, status=error.status)
    if error.status in (401, 403) and method == 'anonymous':
        return UnicoreError('GET %s failed: HTTP %d: the Registry cannot be read anonymously; set registry_auth: true to send the credentials'
                            % (display_url(error.url), error.status), url=error.url, status=error.status)
    return error


def registry_transport(options):
    """The transport to the Registry: anonymous unless ``registry_auth``, without preferences (they select an account at a site)."""
    # Imported here: the lookups import this module also where they send no request (requests is not needed then).
    from ansible_collections.unicore.auth.plugins.module_utils._transport import Transport

    keywords = connection_keywords(options)
    if options.get_option_default('registry_auth', False):
        credential = credential_from_options(options)
    else:
        # Anonymous is anonymous: no Authorization header, and no TLS client certificate either.
        credential = AnonymousCredential()
        keywords.update(client_cert=None, client_key=None)
    # One read per run: a security session would never be used again.
    return Transport(credential, security_sessions=False, preferences=None, **keywords)


def checked_registry_url(options, warn):
    """``registry_url``, checked offline; http:// follows the rule of ``url`` (``allow_http``), ``warn(text)`` gives the warning."""
    registry_url = options.get_given('registry_url')
    if is_blank(registry_url):
        raise UnicoreError('registry_url is required: the UNICORE Registry, e.g. %s' % REGISTRY_EXAMPLE)
    registry_url = checked_url('registry_url', registry_url, REGISTRY_EXAMPLE)
    _warn_if(warn, plain_http_check('registry_url', registry_url, options.get_option_default('allow_http', False), reached='the Registry'))
    return registry_url


def fetch_registry(options, registry_url):
    """The Registry at the checked ``registry_url``, read once, as the options say (anonymously unless ``registry_auth``)."""
    transport = registry_transport(options)
    try:
        return read_registry(transport, registry_url)
    finally:
        transport.close()


def read_registry_from_options(options, warn):
    """The Registry at ``registry_url``, read once (``checked_registry_url``, then ``fetch_registry``)."""
    return fetch_registry(options, checked_registry_url(options, warn))


def site_in_registry(options):
    """``(registry_url, site)`` when the options name the site in a Registry, None when ``url`` is given: checked offline
    (the Registry's http:// rule is checked where it is read).

    ``url`` together with ``site`` is refused. ``url`` beside a ``registry_url``
    alone is used as given (``module_defaults`` may set ``registry_url`` for
    ``unicore_registry_info``).
    """
    url = options.get_given('url')
    site = options.get_given('site')
    registry_url = options.get_given('registry_url')
    if site is None:
        if url is not None:
            return None
        if registry_url is not None:
            raise UnicoreError('registry_url is set but site is not: name the site as the Registry lists it '
                               '(unicore.auth.unicore_registry_info lists them), or give url instead')
        raise UnicoreError('url is required: give url, the site REST base (e.g. %s), or registry_url and site, '
                           'the Registry and the name of the site in it' % URL_EXAMPLE)
    if url is not None:
        raise UnicoreError('url and site are mutually exclusive: give either url, or registry_url and site')
    site = str(site).strip()
    if not site:
        raise UnicoreError('site must not be blank: the name of a site as the Registry lists it, e.g. DEMO-SITE')
    if registry_url is None:
        raise UnicoreError('site needs registry_url, the Registry that lists the site (e.g. %s), or give url instead' % REGISTRY_EXAMPLE)
    return checked_url('registry_url', registry_url, REGISTRY_EXAMPLE), site


def options_with_site_url(options, warn, read=read_registry_from_options):
    """The options with the site's ``url``: as given, or found in the Registry (read once) when ``site`` names it.

    The one place where a module or a lookup gets its url; ``read(options,
    warn)`` reads the Registry (the lookups keep what it listed in their
    cache). An ``http://`` url, given or found, is refused unless
    ``allow_http``; ``warn(text)`` gives the warning for one it allows, at
    once, so that it shows also when the run fails later.
    """
    named = site_in_registry(options)
    if named is None:
        _warn_if(warn, check_plain_http(options))
        return options
    site = named[1]
    url = read(options, warn).site_url(site)
    _warn_if(warn, plain_http_check('site %s' % site, url, options.get_option_default('allow_http', False)))
    return options.with_values(url=url)


def _warn_if(warn, warning):
    if warning:
        warn(warning)

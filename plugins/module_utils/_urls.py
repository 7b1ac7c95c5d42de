# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Site and Registry URLs: checking them and showing them without credentials (internal to the collection).

Kept apart from the transport so that code that only checks a URL (the
lookup's cache hits) does not import ``requests``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank

# Everything between "scheme://" and the last "@" before any query or fragment:
# a user:password part, even one whose password holds a "/".
_USERINFO = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*://)[^?#]*@')


def display_url(url):
    """The URL for messages, without any user:password part."""
    return _USERINFO.sub(r'\1', str(url))


def checked_site_url(url):
    """The site base URL without a trailing slash; raise UnicoreError naming ``url`` when it is unusable."""
    if is_blank(url):
        raise UnicoreError('url is required: the site REST base, e.g. https://host:8080/DEMO-SITE/rest/core')
    return checked_url('url', url, 'https://host:8080/DEMO-SITE/rest/core')


def checked_url(option, url, example):
    """``url``, given as ``option``, without a trailing slash; UnicoreError naming ``option`` when it is unusable."""
    url = str(url).strip()
    if display_url(url) != url:
        raise UnicoreError('%s must not contain credentials; use username and password (or another auth option)' % option)
    try:
        parts = urlsplit(url)
        port_is_valid = parts.port is None or parts.port > 0  # .port raises ValueError for a bad port
    except ValueError:
        port_is_valid = False
    if not port_is_valid:
        raise UnicoreError('%s: %s has an invalid port' % (option, display_url(url)))
    if parts.scheme not in ('https', 'http') or not parts.hostname:
        raise UnicoreError('%s: %s is not an https:// URL with a host name, e.g. %s' % (option, display_url(url), example))
    if parts.query or parts.fragment:
        raise UnicoreError('%s: %s must not have a query or fragment' % (option, display_url(url)))
    return url.rstrip('/')

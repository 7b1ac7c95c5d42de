# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options: their argument spec and their offline checks (internal to the collection).

Documented by the ``unicore.auth.connection`` doc fragment. Nothing here imports
``requests``: the lookup checks these options on a cache hit too, where no
request is made.
"""

from __future__ import annotations

import os

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._key_files import check_key_file_mode
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank
from ansible_collections.unicore.auth.plugins.module_utils._urls import display_url

CONNECTION_ARGUMENT_SPEC = dict(
    # url, or registry_url + site: the modules check which is given (_registry.options_with_site_url).
    url=dict(type='str'),
    registry_url=dict(type='str'),
    site=dict(type='str'),
    registry_auth=dict(type='bool', default=False),
    allow_http=dict(type='bool', default=False),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path'),
    timeout=dict(type='int', default=30),
    retries=dict(type='int', default=3),
    security_sessions=dict(type='bool', default=True),
    security_session_dir=dict(type='path', default='~/.cache/unicore.auth/security-sessions'),
    preferences=dict(type='raw'),
)


def connection_keywords(options):
    """The connection options as keyword arguments of ``connection_settings`` and ``Transport``."""
    return dict(
        validate_certs=options.get_option_default('validate_certs', True),
        ca_path=options.get_given('ca_path'),
        client_cert=options.get_given('client_cert'),
        client_key=options.get_given('client_key'),
        timeout=options.get_option_default('timeout', 30),
        retries=options.get_option_default('retries', 3),
    )


def check_connection_options(options):
    """Refuse unusable connection options offline, even when no request is going to be made.

    (``preferences`` are checked by ``TokenRequest.from_options``.)
    """
    connection_settings(**connection_keywords(options))


def connection_settings(validate_certs=True, ca_path=None, client_cert=None, client_key=None, timeout=30, retries=3):
    """``(timeout, retries, verify, cert)`` as a Transport uses them; UnicoreError, naming the option, for one it refuses."""
    return (_positive_number('timeout', timeout), _non_negative_int('retries', retries),
            _verify_setting(validate_certs, ca_path), _cert_setting(client_cert, client_key))


def check_plain_http(options):
    """Refuse an ``http://`` url unless ``allow_http`` allows it; the warning to give for one it allows, else None."""
    return plain_http_check('url', options.get_given('url'), options.get_option_default('allow_http', False))


def plain_http_check(option, url, allow_http, reached='the site'):
    """Refuse the ``http://`` URL ``url`` of ``option`` unless ``allow_http``; the warning for one it allows, else None."""
    if url is None or not str(url).strip().lower().startswith('http://'):
        return None
    shown = display_url(str(url).strip())
    if not allow_http:
        raise UnicoreError('%s: %s is not HTTPS: credentials and tokens would cross the network unencrypted, and are not sent. '
                           'Use https://, or set allow_http: true if %s is reached through a trusted channel' % (option, shown, reached))
    return '%s: %s is plain HTTP (allow_http is true): credentials and tokens cross the network unencrypted' % (option, shown)


def _positive_number(option, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UnicoreError('%s must be a number of seconds, got %r' % (option, value))
    if number <= 0:
        raise UnicoreError('%s must be greater than 0, got %s' % (option, value))
    return number


def _non_negative_int(option, value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UnicoreError('%s must be a whole number, got %r' % (option, value))
    if number < 0:
        raise UnicoreError('%s must not be negative, got %s' % (option, value))
    return number


def _verify_setting(validate_certs, ca_path):
    if not validate_certs:
        return False
    if is_blank(ca_path):
        # What requests does with its environment, read once: these variables
        # name the bundle to trust when no ca_path is given.
        return os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE') or True
    ca_path = str(ca_path)
    if not os.path.exists(ca_path):
        raise UnicoreError('ca_path: %s does not exist' % ca_path)
    return ca_path


def _cert_setting(client_cert, client_key):
    if is_blank(client_cert):
        if not is_blank(client_key):
            raise UnicoreError('client_key is set but client_cert is not; give the certificate too')
        return None
    for option, path in (('client_cert', client_cert), ('client_key', client_key)):
        if not is_blank(path) and not os.path.isfile(str(path)):
            raise UnicoreError('%s: file %s does not exist' % (option, path))
    if is_blank(client_key):
        # Then the certificate's file holds the key too.
        check_key_file_mode('client_cert', str(client_cert))
        return str(client_cert)
    check_key_file_mode('client_key', str(client_key))
    return str(client_cert), str(client_key)

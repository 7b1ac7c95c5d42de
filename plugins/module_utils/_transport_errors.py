# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failed requests in words: what went wrong, and what to do about it (internal to the collection).

The transport sends; this turns a failure into the cause a user can act on,
found in the innermost exception or in the site's answer, never with a secret.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl

from ansible_collections.unicore.auth.plugins.module_utils._urls import display_url

try:
    import requests
except ImportError:
    # The transport reports the missing library; importing this must not fail before it can.
    requests = None


def describe_exception(exc, timeout):
    """A short cause for a failed request, from the innermost error."""
    if isinstance(exc, requests.exceptions.SSLError):
        return _describe_tls_error(_root_cause(exc))
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return 'could not connect within %g seconds (timeout)' % timeout
    if isinstance(exc, requests.exceptions.Timeout):
        return 'no response within %g seconds (timeout)' % timeout
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return 'not a valid URL'
    return _root_cause(exc)


def describe_slow_answer(timeout):
    """The cause for an answer that was still arriving when ``timeout``, the time a request may take in all, was up."""
    return ('the answer took longer than timeout=%g s in all: it was still arriving, too slowly (a site or a proxy that sends '
            'a little at a time is cut off there). Raise timeout if the site is only slow' % timeout)


def describe_large_answer(max_bytes, what, content_length=None):
    """The cause for an answer over ``max_bytes``, the most read for ``what``; ``content_length`` when it said so itself."""
    cause = 'the answer is larger than %s, the most this client reads for %s' % (_size(max_bytes), what)
    if content_length is not None:
        cause += ' (Content-Length: %d)' % content_length
    return cause + '; check that the URL is the one meant'


def _size(count):
    for unit, factor in (('MiB', 1024 * 1024), ('KiB', 1024)):
        if count >= factor and count % factor == 0:
            return '%d %s' % (count // factor, unit)
    return '%d bytes' % count


# What to do about a TLS failure, by a phrase OpenSSL uses for its cause.
_TLS_ADVICE = (
    ('unable to get local issuer certificate', 'Set ca_path to the CA that signed the site certificate (validate_certs: false only for tests)'),
    ('self-signed certificate', 'Set ca_path to the CA that signed the site certificate (validate_certs: false only for tests)'),
    ('self signed certificate', 'Set ca_path to the CA that signed the site certificate (validate_certs: false only for tests)'),
    ('hostname mismatch', 'The certificate is for another host name: use the host name the certificate names in url'),
    ('certificate has expired', "The site's certificate has expired: tell the site's administrators"),
    ('unknown ca', 'The site does not trust the CA of client_cert'),
    ('certificate required', 'The site wants a TLS client certificate: give client_cert'),
    # How a refused client certificate often shows with TLS 1.3: the site drops the connection.
    ('unexpected eof', 'The site closed the connection during the TLS handshake; a site that wants a TLS client '
                       'certificate does that when none or an untrusted one is given (client_cert)'),
    ('eof occurred in violation of protocol', 'The site closed the connection during the TLS handshake; a site that wants a TLS client '
                                              'certificate does that when none or an untrusted one is given (client_cert)'),
    ('wrong version number', 'The port does not speak TLS: check the scheme and port of url'),
)


def _describe_tls_error(cause):
    # OpenSSL names some reasons with underscores (TLSV1_ALERT_UNKNOWN_CA).
    lowered = cause.lower().replace('_', ' ')
    for phrase, advice in _TLS_ADVICE:
        if phrase in lowered:
            return 'TLS error: %s. %s' % (cause.rstrip('.'), advice)
    return 'TLS error: %s' % cause.rstrip('.')


def _root_cause(exc):
    seen = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return 'certificate verify failed: %s' % (current.verify_message or current.reason)
        if isinstance(current, ssl.SSLError):
            return getattr(current, 'reason', None) or str(current)
        if isinstance(current, socket.gaierror):
            return 'cannot resolve the host name'
        if isinstance(current, http.client.RemoteDisconnected):
            return 'the server closed the connection without a response'
        if isinstance(current, http.client.IncompleteRead):
            return 'the connection broke before the whole response arrived'
        if isinstance(current, OSError) and current.errno and current.errno > 0:
            return os.strerror(current.errno).lower()
        inner = _inner_exception(current)
        if inner is None:
            break
        current = inner
    text = str(current) or current.__class__.__name__
    if 'IncompleteRead' in text or 'Connection broken' in text:
        return 'the connection broke before the whole response arrived'
    return text


def _inner_exception(exc):
    reason = getattr(exc, 'reason', None)
    if isinstance(reason, BaseException):
        return reason
    for arg in getattr(exc, 'args', ()):
        if isinstance(arg, BaseException):
            return arg
    return exc.__cause__ or exc.__context__


def describe_status(url, response, method, preferences, hint=None):
    """The message for an answer of status 300 or more: the status, the site's own message, and what to do.

    ``method`` is the credential's auth_method and ``preferences`` the header
    sent, or None. ``hint`` is what to do when the caller knows better (the
    transport, about what its retries could not overcome); by default it
    follows from the status.
    """
    message = 'GET %s failed: HTTP %d' % (display_url(url), response.status_code)
    if response.reason:
        message += ' ' + response.reason
    server_message = _server_error_message(response)
    if server_message:
        message += ': %s' % server_message
    hint = hint or _hint(url, response, server_message, method, preferences)
    if hint:
        # The server's own message may already end a sentence.
        message += '%s %s' % ('' if message.endswith(('.', '!', '?')) else '.', hint)
    return message


def _hint(url, response, server_message, method, preferences):
    status = response.status_code
    if 300 <= status < 400:
        return ('The site redirects to %s; redirects are not followed so that credentials never go to another address. '
                'Set url to the final address' % display_url(response.headers.get('Location', 'an unnamed location')))
    if status in (401, 403):
        return _forbidden_hint(url, server_message, method, preferences)
    if status == 404:
        return 'No such resource: check url (a site base ends in /rest/core)'
    return None


def _forbidden_hint(url, server_message, method, preferences):
    if method == 'anonymous':
        return 'The site does not allow this anonymously: give credentials'
    named = _named_cause(server_message)
    if named:
        return named
    causes = ['the site refused the credentials (auth_method=%s)' % method]
    if preferences:
        causes.append('a requested preference (%s) is not available to this user' % preferences)
    if str(url).rstrip('/').endswith('/token'):
        if method in ('bearer', 'trusted_service'):
            causes.append('the token used to log in is not renewable, and only a renewable token can get a new one')
        # UNICORE accepts a login that maps to nobody, then refuses it a token.
        causes.append('the login maps to no user at this site (unicore.auth.unicore_access_info shows what it maps to)')
    return 'Most likely ' + ', or '.join(causes)


# Advice for a refusal whose cause the site's own message names, by a phrase of that message.
_NAMED_CAUSES = (
    ('non-renewable', 'Only a renewable token can get a new one: log in with the original credential, '
                      'or issue the token with renewable: true'),
    ('anonymous', 'The login maps to no user at this site (unicore.auth.unicore_access_info shows what it maps to)'),
)


def _named_cause(server_message):
    lowered = (server_message or '').lower()
    for phrase, advice in _NAMED_CAUSES:
        if phrase in lowered:
            return advice
    return None


def _server_error_message(response):
    if 'json' not in response.headers.get('Content-Type', ''):
        return None
    try:
        body = json.loads(response.text)
    except ValueError:
        return None
    if isinstance(body, dict) and body.get('errorMessage'):
        return str(body['errorMessage'])
    return None

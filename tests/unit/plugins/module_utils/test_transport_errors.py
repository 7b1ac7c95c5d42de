# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failed requests in words: the innermost cause of an exception, and what to do about it.

What a refused or redirected answer says is shown through the transport, in test_transport.py.
"""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest
import requests

from ansible_collections.unicore.auth.plugins.module_utils._transport_errors import describe_exception


def _verify_error(message):
    error = ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')
    error.verify_message = message
    return requests.exceptions.SSLError(error)


def _tls_alert(reason):
    error = ssl.SSLError(1, '[SSL: %s] alert' % reason)
    error.reason = reason
    return requests.exceptions.SSLError(error)


@pytest.mark.parametrize('exc, expected', [
    (requests.exceptions.ConnectionError(socket.gaierror(-2, 'Name or service not known')), 'cannot resolve the host name'),
    (requests.exceptions.ConnectionError(http.client.RemoteDisconnected('Remote end closed connection without response')),
     'the server closed the connection without a response'),
    (requests.exceptions.ReadTimeout('read timed out'), 'no response within 2.5 seconds (timeout)'),
    (_verify_error('unable to get local issuer certificate'),
     'TLS error: certificate verify failed: unable to get local issuer certificate. Set ca_path to the CA that signed the site certificate'),
    (_verify_error("Hostname mismatch, certificate is not valid for 'localhost'."),
     "TLS error: certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'. "
     'The certificate is for another host name'),
    (_verify_error('certificate has expired'), "TLS error: certificate verify failed: certificate has expired. The site's certificate has expired"),
    (_tls_alert('TLSV1_ALERT_UNKNOWN_CA'), 'TLS error: TLSV1_ALERT_UNKNOWN_CA. The site does not trust the CA of client_cert'),
    (_tls_alert('UNEXPECTED_EOF_WHILE_READING'),
     'TLS error: UNEXPECTED_EOF_WHILE_READING. The site closed the connection during the TLS handshake; a site that wants a TLS client '
     'certificate does that when none or an untrusted one is given (client_cert)'),
    (requests.exceptions.SSLError(ssl.SSLEOFError(8, 'EOF occurred in violation of protocol (_ssl.c:2427)')),
     'TLS error: EOF occurred in violation of protocol (_ssl.c:2427). The site closed the connection during the TLS handshake'),
    (_tls_alert('WRONG_VERSION_NUMBER'), 'TLS error: WRONG_VERSION_NUMBER. The port does not speak TLS: check the scheme and port of url'),
])
def test_a_failed_request_is_described_by_its_cause_and_what_to_do(exc, expected):
    assert describe_exception(exc, 2.5).startswith(expected)

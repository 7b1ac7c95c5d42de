# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures of the module_utils unit tests.

* ``options``/``credential``/``refusal``: build option adapters and credentials the
  way a module would (every option of the argument spec present, defaults filled in).
* ``private_keys``/``key_text``/``key_file``/``self_signed_cert``: keys made with
  ``cryptography``, written to ``tmp_path``.
* ``reply``/``scripted_transport``/``clock``/``sleeps``: a scripted site mounted as a
  ``requests`` adapter, so no test touches the network or really sleeps.
* ``deadline``: a test that would block (on a FIFO, say) fails after five seconds instead.
"""

from __future__ import annotations

import datetime
import http
import json
import signal

import pytest
import requests
from requests.adapters import BaseAdapter

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import unicore_argument_spec
from ansible_collections.unicore.auth.plugins.module_utils._credentials import credential_from_options
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter
from ansible_collections.unicore.auth.plugins.module_utils._transport import Transport

SECRET_OPTIONS = ('password', 'token', 'identity_content', 'identity_passphrase', 'hmac_secret', 'oidc_client_secret', 'oidc_otp',
                  'oidc_refresh_token')


# ---------------------------------------------------------------- options and credentials

@pytest.fixture
def options():
    """``options(**given)``: an adapter over module-like params (all spec keys, defaults filled in)."""
    def build(**given):
        params = {name: spec.get('default') for name, spec in unicore_argument_spec().items()}
        params.update(given)
        return OptionAdapter.from_dict(params)
    return build


@pytest.fixture
def credential(options):
    """``credential(**given)``: the validated credential that these options describe."""
    def build(**given):
        return credential_from_options(options(**given))
    return build


def secrets_in(given):
    """The secret strings hidden in the given options: secret option values and key file lines."""
    secrets = [str(given[name]) for name in SECRET_OPTIONS if given.get(name)]
    key_texts = [str(given['identity_content'])] if given.get('identity_content') else []
    for path_option in ('identity', 'client_key'):
        try:
            with open(str(given.get(path_option)), encoding='utf-8', errors='replace') as key_file:
                key_texts.append(key_file.read())
        except (OSError, TypeError):
            pass
    for text in key_texts:
        secrets.extend(line.strip() for line in text.splitlines()
                       if line.strip() and not line.startswith('-----'))
    return secrets


def assert_no_secret(message, secrets):
    for secret in secrets:
        assert secret not in message, 'a secret leaked into the error message: %r' % message


@pytest.fixture
def refusal(credential):
    """``refusal(**given)``: the error message for options that must be refused; checks it holds no secret."""
    def build(**given):
        with pytest.raises(UnicoreError) as error:
            credential(**given)
        message = str(error.value)
        assert_no_secret(message, secrets_in(given))
        return message
    return build


# ---------------------------------------------------------------- keys and certificates

@pytest.fixture(scope='session')
def private_keys():
    """One key of each type the tests need, generated once per run."""
    return {
        'rsa': rsa.generate_private_key(public_exponent=65537, key_size=2048),
        'ec-p256': ec.generate_private_key(ec.SECP256R1()),
        'ed25519': ed25519.Ed25519PrivateKey.generate(),
        'ec-p384': ec.generate_private_key(ec.SECP384R1()),
        'dsa': dsa.generate_private_key(key_size=2048),
        'ed448': ed448.Ed448PrivateKey.generate(),
    }


KEY_FORMATS = {
    'openssh': serialization.PrivateFormat.OpenSSH,
    'pkcs8': serialization.PrivateFormat.PKCS8,
    'traditional': serialization.PrivateFormat.TraditionalOpenSSL,
}


@pytest.fixture(scope='session')
def key_text(private_keys):
    """``key_text(kind, fmt='openssh', passphrase=None)``: the private key as PEM-armoured text."""
    def build(kind, fmt='openssh', passphrase=None):
        encryption = (serialization.BestAvailableEncryption(passphrase.encode('utf-8')) if passphrase
                      else serialization.NoEncryption())
        return private_keys[kind].private_bytes(serialization.Encoding.PEM, KEY_FORMATS[fmt], encryption).decode('ascii')
    return build


@pytest.fixture
def key_file(tmp_path, key_text):
    """``key_file(kind, fmt='openssh', passphrase=None, path=None)``: writes the key (mode 0600), returns its path as str."""
    def build(kind, fmt='openssh', passphrase=None, path=None):
        path = tmp_path / ('%s-%s.key' % (kind, fmt)) if path is None else path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key_text(kind, fmt, passphrase))
        path.chmod(0o600)
        return str(path)
    return build


@pytest.fixture
def self_signed_cert(tmp_path, private_keys):
    """A self-signed service certificate for the RSA key; returns (cert path, key path, subject DN)."""
    key = private_keys['rsa']
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, 'EU'),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'UNICORE'),
        x509.NameAttribute(NameOID.COMMON_NAME, 'Workflow Service'),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    cert_path = tmp_path / 'service-cert.pem'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / 'service-key.pem'
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return str(cert_path), str(key_path), 'CN=Workflow Service,O=UNICORE,C=EU'


# ---------------------------------------------------------------- a scripted site

class FakeAdapter(BaseAdapter):
    """Answers requests from a script of ``requests.Response`` objects and exceptions, and records them."""

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.requests = []
        self.send_kwargs = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        self.send_kwargs.append(kwargs)
        if not self.script:
            raise AssertionError('unexpected request %d: GET %s' % (len(self.requests), request.url))
        outcome = self.script.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        outcome.request = request
        outcome.url = request.url
        return outcome

    def close(self):
        pass

    @property
    def headers(self):
        """The headers of each request received, in order."""
        return [request.headers for request in self.requests]


def _standard_reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:  # UNICORE's own 432
        return ''


@pytest.fixture
def reply():
    """``reply(status=200, body='', headers=None, json_body=None, reason=None)``: a prepared response."""
    def build(status=200, body='', headers=None, json_body=None, reason=None):
        response = requests.Response()
        response.status_code = status
        response.reason = reason if reason is not None else _standard_reason(status)
        if json_body is not None:
            body = json.dumps(json_body)
            response.headers['Content-Type'] = 'application/json'
        response.headers.update(headers or {})
        response._content = body.encode('utf-8') if isinstance(body, str) else body
        response._content_consumed = True
        response.encoding = 'utf-8'
        return response
    return build


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sleeps():
    """The delays the transport asked to sleep, in order (it never really sleeps)."""
    return []


@pytest.fixture
def mount_site():
    """``mount_site(transport, script)``: answers the transport's requests from the script; returns the adapter."""
    def mount(transport, script):
        adapter = FakeAdapter(script)
        transport._http.mount('https://', adapter)
        transport._http.mount('http://', adapter)
        return adapter
    return mount


@pytest.fixture
def scripted_transport(clock, sleeps, mount_site):
    """``scripted_transport(credential, script, **transport_options)``: (transport, adapter) for a scripted site."""
    def build(credential, script, **transport_options):
        transport = Transport(credential, sleep=sleeps.append, clock=clock, **transport_options)
        return transport, mount_site(transport, script)
    return build


class Blocked(Exception):
    """What the deadline raises in a call that waits."""


@pytest.fixture
def deadline():
    """A test that blocks fails after five seconds instead of hanging."""
    def expire(signum, frame):
        raise Blocked('still waiting after 5 s')
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential kinds and the ``auth_method`` factory (internal to the collection).

One small class per kind: ``OPTIONS`` names the options it reads,
``from_options`` reads them, ``validate`` checks them without touching the
network, ``authorization_header`` gives the ``Authorization`` value (None for
none). The kinds that sign JWTs live in ``_jwt_credentials`` and are imported
only when chosen, so that a module that needs no JWT never imports
``cryptography`` or ``jwt``.
"""

from __future__ import annotations

import base64
import os

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank


class Credential:
    """Base of all credential kinds."""

    method = None
    # The options from_options reads.
    OPTIONS = ()

    def validate(self):
        """Offline checks; raise UnicoreError naming the option and the cause."""

    def authorization_header(self):
        """The Authorization header value, or None to send none."""
        return None

    def refusal_hint(self):
        """What in the credential itself may explain a refusal (401, 403), without showing it; or None."""
        return None

    def __repr__(self):
        # Never show field values: most of them are secrets.
        return '<%s credential>' % self.method


def _require(method, **values):
    missing = [name for name, value in values.items() if is_blank(value)]
    if missing:
        raise UnicoreError('auth_method=%s needs %s' % (method, ' and '.join(missing)))


class PasswordCredential(Credential):
    """``Authorization: Basic base64(username:password)``."""

    method = 'password'
    OPTIONS = ('username', 'password')

    def __init__(self, username, password):
        self.username = username
        self.password = password

    @classmethod
    def from_options(cls, options):
        return cls(options.get_given('username'), options.get_given('password'))

    def validate(self):
        _require(self.method, username=self.username, password=self.password)
        # The server splits the decoded value at the first ":"; a colon in the
        # user name would move part of it into the password.
        if ':' in self.username:
            raise UnicoreError('username must not contain ":" (HTTP Basic authentication splits user and password at the first colon)')

    def authorization_header(self):
        pair = ('%s:%s' % (self.username, self.password)).encode('utf-8')
        return 'Basic ' + base64.b64encode(pair).decode('ascii')

    def refusal_hint(self):
        # Sent as given, since a password may hold white space; but at its end it is most often a mistake.
        password = str(self.password)
        if password == password.rstrip():
            return None
        return ('The password ends with white space (%s), which is sent as part of it: ansible-vault encrypt_string keeps '
                'the newline of an Enter pressed before Ctrl-D. Encrypt it again without one '
                '(printf %%s \'...\' | ansible-vault encrypt_string --stdin-name unicore_password), if that was not meant'
                % ('a newline' if password.rstrip(' \t') != password.rstrip() else 'a space or tab'))


class _TokenCredential(Credential):
    """``Authorization: <scheme> <token>`` with the token sent as given."""

    scheme = None
    OPTIONS = ('token',)

    def __init__(self, token):
        self.token = token

    @classmethod
    def from_options(cls, options):
        return cls(_stripped(options.get_given('token')))

    def validate(self):
        _require(self.method, token=self.token)
        check_header_word('token', self.token)

    def authorization_header(self):
        return '%s %s' % (self.scheme, self.token)


class BasicTokenCredential(_TokenCredential):
    """``Authorization: Basic <value>`` with a value that is already encoded."""

    method = 'basic_token'
    scheme = 'Basic'


class BearerCredential(_TokenCredential):
    """``Authorization: Bearer <token>``: an OIDC access token or a UNICORE-issued token, given or read from ``token_file``."""

    method = 'bearer'
    scheme = 'Bearer'
    OPTIONS = ('token', 'token_file')

    @classmethod
    def from_options(cls, options):
        return cls(_stripped(given_token(options)))

    def validate(self):
        if is_blank(self.token):
            raise UnicoreError('auth_method=bearer needs token or token_file')
        super().validate()


# A token is a line of at most a few KiB (a UNICORE token with preferences, an OIDC access token with claims).
MAX_TOKEN_FILE_BYTES = 64 * 1024


def given_token(options):
    """The bearer token given: the ``token`` option, or what ``token_file`` holds; None when neither is given."""
    token = options.get_given('token')
    path = options.get_given('token_file')
    if path is None:
        return token
    if token is not None:
        raise UnicoreError('token and token_file are mutually exclusive; give the token once')
    return read_token_file(options, os.path.expanduser(str(path)))


def read_token_file(options, path):
    """The token in the file at ``path``, without the white space around it; UnicoreError naming the path, never its content."""
    check_readable_file('token_file', path)
    size = os.stat(path).st_size
    if size > MAX_TOKEN_FILE_BYTES:
        raise UnicoreError('token_file: %s is %d bytes, too long for a token (at most %d): is it the token file?'
                           % (path, size, MAX_TOKEN_FILE_BYTES))
    try:
        data = options.read_file(path)
    except OSError as exc:
        raise UnicoreError('token_file: cannot read %s: %s' % (path, (exc.strerror or str(exc)).lower()))
    try:
        token = data.decode('ascii').strip()
    except UnicodeDecodeError:
        token = None
    if token == '':
        raise UnicoreError('token_file: %s is empty; it should hold the token' % path)
    if token is None or not is_header_word(token):
        raise UnicoreError('token_file: %s does not hold a token: a token file holds one line of visible ASCII characters '
                           '(the token, as a site or an OIDC provider issued it)' % path)
    return token


class X509Credential(Credential):
    """A TLS client certificate; the transport presents it, no header is sent."""

    method = 'x509'
    OPTIONS = ('client_cert', 'client_key')

    def __init__(self, client_cert, client_key):
        self.client_cert = client_cert
        self.client_key = client_key

    @classmethod
    def from_options(cls, options):
        return cls(options.get_given('client_cert'), options.get_given('client_key'))

    def validate(self):
        _require(self.method, client_cert=self.client_cert)
        check_readable_file('client_cert', self.client_cert)
        if self.client_key is not None:
            check_readable_file('client_key', self.client_key)


class AnonymousCredential(Credential):
    """No credentials: the server runs the request as anonymous."""

    method = 'anonymous'

    @classmethod
    def from_options(cls, options):
        return cls()


def _stripped(value):
    # Tokens are often read from files that end in a newline.
    return None if value is None else str(value).strip()


def check_header_word(option, value, sent_in='the Authorization header'):
    # Sent in a header (or a form beside one): a line break would end it (and could add
    # another), other white space corrupt it, and what is not ASCII http.client
    # sends as another byte or fails on with a traceback. The value is a secret: never shown.
    if any(char.isspace() for char in value):
        raise UnicoreError('%s must not contain white space' % option)
    if not is_header_word(value):
        raise UnicoreError('%s must be visible ASCII characters only (it is sent in %s), but it holds a '
                           'control or non-ASCII character; check that it was copied unchanged' % (option, sent_in))


def is_header_word(value):
    """True when ``value`` can go into a header as one word: visible ASCII only, so no white space and no control character.

    The one rule for every secret the collection puts into a header (tokens,
    access tokens, signed JWTs, security session ids); ``check_header_word``
    says which option broke it.
    """
    return isinstance(value, str) and all('!' <= char <= '~' for char in value)


def check_readable_file(option, path):
    """Fail with the option name when ``path`` is not a readable regular file."""
    if not os.path.exists(path):
        raise UnicoreError('%s: file %s does not exist' % (option, path))
    if not os.path.isfile(path):
        raise UnicoreError('%s: %s is not a regular file' % (option, path))
    if not os.access(path, os.R_OK):
        raise UnicoreError('%s: file %s is not readable' % (option, path))


def resolve_identity_path(path):
    """Where a key file is, the way UNICORE's clients look for it.

    Absolute paths stay; ``~`` is the home directory; any other relative path
    is under ``~/.uftp/`` (PyUNICORE and the UFTP client do the same).
    """
    path = str(path)
    if path.startswith('~'):
        return os.path.expanduser(path)
    if os.path.isabs(path):
        return path
    return os.path.join(os.path.expanduser('~'), '.uftp', path)


class _LazyKind:
    """A kind of another module, imported by ``load()`` only when it is chosen.

    Its ``OPTIONS`` are stated here so that naming every kind's options imports
    no ``cryptography`` (nor the OIDC code); a unit test keeps them equal to the class's own.
    """

    def __init__(self, load, options):
        self._load = load
        self.OPTIONS = options

    def from_options(self, options):
        return self._load().from_options(options)


def _ssh_key_kind():
    from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import SshKeyCredential
    return SshKeyCredential


def _ssh_agent_kind():
    from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import SshAgentCredential
    return SshAgentCredential


def _trusted_service_kind():
    from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import TrustedServiceCredential
    return TrustedServiceCredential


def _oidc_server_kind():
    from ansible_collections.unicore.auth.plugins.module_utils._oidc_credentials import OidcServerCredential
    return OidcServerCredential


def _oidc_agent_kind():
    from ansible_collections.unicore.auth.plugins.module_utils._oidc_agent_credentials import OidcAgentCredential
    return OidcAgentCredential


# auth_method -> the kind it chooses, in the order the documentation lists them.
CREDENTIAL_KINDS = {
    'password': PasswordCredential,
    'bearer': BearerCredential,
    'basic_token': BasicTokenCredential,
    'ssh_key': _LazyKind(_ssh_key_kind, ('username', 'identity', 'identity_content', 'identity_passphrase', 'jwt_lifetime')),
    'ssh_agent': _LazyKind(_ssh_agent_kind, ('username', 'identity', 'identity_content', 'ssh_agent_socket', 'jwt_lifetime')),
    'trusted_service': _LazyKind(_trusted_service_kind, ('subject', 'issuer', 'identity', 'identity_content', 'identity_passphrase',
                                                         'hmac_secret', 'client_cert', 'client_key', 'jwt_lifetime')),
    'oidc_server': _LazyKind(_oidc_server_kind, ('username', 'password', 'oidc_token_endpoint', 'oidc_issuer', 'oidc_client_id',
                                                 'oidc_client_secret', 'oidc_client_auth', 'oidc_scope', 'oidc_otp', 'oidc_refresh_token',
                                                 'oidc_refresh_token_file', 'oidc_store_refresh_token')),
    'oidc_agent': _LazyKind(_oidc_agent_kind, ('oidc_agent_account', 'oidc_agent_socket', 'oidc_scope')),
    'x509': X509Credential,
    'anonymous': AnonymousCredential,
}

# Every option that decides which credential is sent: auth_method and what any kind reads.
CREDENTIAL_OPTIONS = ('auth_method',) + tuple(sorted(set(name for kind in CREDENTIAL_KINDS.values() for name in kind.OPTIONS)))


def auto_auth_method(options):
    """What ``auth_method: auto`` picks: token (or token_file), then an OIDC provider, then oidc-agent, then a key, then a password.

    The order is PyUNICORE's (a token wins), so defaults that carry a password
    can be overridden per task with a token. Anonymous access is never guessed.
    """
    if options.get_given('token') is not None or options.get_given('token_file') is not None:
        return 'bearer'
    if any(options.get_given(name) is not None for name in ('oidc_refresh_token', 'oidc_token_endpoint', 'oidc_issuer')):
        return 'oidc_server'
    if options.get_given('oidc_agent_account') is not None:
        return 'oidc_agent'
    if options.get_given('identity') is not None or options.get_given('identity_content') is not None:
        return 'ssh_key'
    if options.get_given('password') is not None:
        return 'password'
    if options.get_given('username') is not None:
        raise UnicoreError('username is set but no password, token or identity was given; '
                           'set password, or token, or identity/identity_content')
    raise UnicoreError('no credentials given: set username and password, token, identity, an OIDC provider (oidc_token_endpoint '
                       'or oidc_issuer) or oidc_agent_account (or client_cert with auth_method: x509); for anonymous access set '
                       'auth_method: anonymous')


def credential_from_options(options):
    """Build and validate the credential that the options describe."""
    method = options.get_option_default('auth_method', 'auto')
    method = auto_auth_method(options) if method == 'auto' else str(method)
    try:
        kind = CREDENTIAL_KINDS[method]
    except KeyError:
        raise UnicoreError('auth_method: unknown method "%s"; choose one of auto, %s' % (method, ', '.join(CREDENTIAL_KINDS)))
    credential = kind.from_options(options)
    credential.validate()
    return credential

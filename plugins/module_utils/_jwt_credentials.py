# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential kinds that sign a JWT: ``ssh_key``, ``ssh_agent`` and ``trusted_service`` (internal to the collection).

Imported only when one of them is chosen, because ``ssh_key`` and
``trusted_service`` need ``jwt`` and ``cryptography`` (``ssh_agent`` needs
neither: the agent signs).
"""

from __future__ import annotations

import base64
import json
import os
import time

from ansible_collections.unicore.auth.plugins.module_utils._credentials import Credential, check_readable_file, resolve_identity_path
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._key_files import check_key_file_mode
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank
from ansible_collections.unicore.auth.plugins.module_utils._private_keys import (
    certificate_subject_dn,
    load_private_key,
    read_key_file,
    require_cryptography,
    signing_algorithm,
)
from ansible_collections.unicore.auth.plugins.module_utils._ssh_agent import NOT_RUNNING, AgentKey, SshAgent, public_key_blob

try:
    import jwt
except ImportError:
    HAS_JWT = False
else:
    HAS_JWT = True

# UNICORE needs at least this many characters of shared secret for HS256.
MIN_HMAC_SECRET_LENGTH = 32
# A signed JWT cannot be revoked: one that leaks works until it expires. A new
# one is signed when needed, so a long lifetime saves nothing (UNICORE's clients use 300 s).
MAX_JWT_LIFETIME = 86400


class SignedJwtCredential(Credential):
    """Sends ``Authorization: Bearer <JWT>`` and signs a new JWT only when needed.

    Signing costs far more than a request on a kept-alive connection (about a
    millisecond for RSA-2048), so a JWT is reused until it is close to expiry.
    """

    def __init__(self, lifetime, clock=time.time):
        self.lifetime = lifetime
        self._clock = clock
        self._jwt = None
        self._jwt_expires = 0
        self.signing_key = None
        self.algorithm = None
        # Where the key came from, for messages: "identity: /path/key", "identity_content", ...
        self.key_source = None

    def validate(self):
        if not isinstance(self.lifetime, int) or self.lifetime <= 0:
            raise UnicoreError('jwt_lifetime must be a positive number of seconds, got %s' % self.lifetime)
        if self.lifetime > MAX_JWT_LIFETIME:
            raise UnicoreError('jwt_lifetime must be at most %d seconds (one day), got %d' % (MAX_JWT_LIFETIME, self.lifetime))
        self.require_libraries()

    def require_libraries(self):
        if not HAS_JWT:
            raise UnicoreError('auth_method=%s needs the Python library PyJWT' % self.method, missing_library='PyJWT')
        require_cryptography('auth_method=%s' % self.method)

    def refresh_margin(self):
        """Seconds before expiry at which a new JWT is signed."""
        return min(self.lifetime / 2.0, max(30, self.lifetime / 5.0))

    def claims(self, issued_at):
        raise NotImplementedError

    def authorization_header(self):
        now = self._clock()
        if self._jwt is None or self._jwt_expires - now < self.refresh_margin():
            issued_at = int(now)
            claims = self.claims(issued_at)
            self._jwt = self.sign(claims)
            self._jwt_expires = claims['exp']
        return 'Bearer ' + self._jwt

    def sign(self, claims):
        """The compact JWS of ``claims``."""
        try:
            return jwt.encode(claims, self.signing_key, algorithm=self.algorithm)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise UnicoreError('auth_method=%s: cannot sign the JWT with %s: %s' % (self.method, self.algorithm, exc.__class__.__name__))


def _key_from_identity(options):
    """``(key, source)`` from ``identity`` or ``identity_content``, or ``(None, None)`` when neither is given."""
    path = options.get_given('identity')
    content = options.get_given('identity_content')
    if path is not None and content is not None:
        raise UnicoreError('identity and identity_content are mutually exclusive; give the key once')
    passphrase = options.get_given('identity_passphrase')
    if content is not None:
        return load_private_key('identity_content', str(content), passphrase), 'identity_content'
    if path is not None:
        path = resolve_identity_path(path)
        check_readable_file('identity', path)
        check_key_file_mode('identity', path)
        try:
            data = options.read_file(path)
        except OSError as exc:
            raise UnicoreError('identity: cannot read key file %s: %s' % (path, (exc.strerror or str(exc)).lower()))
        source = 'identity: %s' % path
        return load_private_key(source, data, passphrase), source
    return None, None


class SshKeyCredential(SignedJwtCredential):
    """A JWT signed with the user's own key, checked against the keys registered for the user.

    Claims as PyUNICORE sends them: ``sub == iss == username``, ``etd: "false"``.
    """

    method = 'ssh_key'
    OPTIONS = ('username', 'identity', 'identity_content', 'identity_passphrase', 'jwt_lifetime')

    def __init__(self, username, signing_key, lifetime, clock=time.time, key_source='identity'):
        super().__init__(lifetime, clock)
        self.username = username
        self.signing_key = signing_key
        self.key_source = key_source

    @classmethod
    def from_options(cls, options):
        if options.get_given('identity') is None and options.get_given('identity_content') is None:
            raise UnicoreError('auth_method=ssh_key needs identity (a key file) or identity_content (the key itself)')
        require_cryptography('auth_method=ssh_key')
        username = options.get_given('username')
        key, source = _key_from_identity(options)
        return cls(None if username is None else str(username), key, options.get_option_default('jwt_lifetime', 300), key_source=source)

    def validate(self):
        super().validate()
        if is_blank(self.username):
            raise UnicoreError('auth_method=ssh_key needs username (the UNICORE user whose public key is registered)')
        self.algorithm = signing_algorithm(self.key_source, self.signing_key)

    def claims(self, issued_at):
        return {
            'sub': self.username,
            'iss': self.username,
            'iat': issued_at,
            'exp': issued_at + self.lifetime,
            'etd': 'false',
        }


class SshAgentCredential(SshKeyCredential):
    """The JWT of ``ssh_key``, signed by a key that ssh-agent holds: the private key never reaches Ansible.

    ``identity``, when given, names the agent key that signs: a public key file,
    or a private key file with its ``.pub`` beside it (only the public one is
    read); ``identity_content`` may be that public key's line instead (the
    collection's playbooks hand a key file of the controller on so). Without
    either, the first RSA, EC P-256 or Ed25519 key of the agent signs.
    """

    method = 'ssh_agent'
    OPTIONS = ('username', 'identity', 'identity_content', 'ssh_agent_socket', 'jwt_lifetime')

    def __init__(self, username, identity, socket_path, lifetime, timeout, clock=time.time, public_key=None):
        super().__init__(username, None, lifetime, clock, key_source='ssh-agent')
        self.identity = identity
        self.public_key = public_key
        self.socket_path = socket_path
        self.timeout = timeout
        self.wanted_blob = None

    @classmethod
    def from_options(cls, options):
        username = options.get_given('username')
        identity = options.get_given('identity')
        public_key = options.get_given('identity_content')
        if identity is not None and public_key is not None:
            raise UnicoreError('identity and identity_content are mutually exclusive; name the agent key once')
        socket_path = options.get_given('ssh_agent_socket') or os.environ.get('SSH_AUTH_SOCK') or None
        return cls(None if username is None else str(username), None if identity is None else resolve_identity_path(identity),
                   socket_path, options.get_option_default('jwt_lifetime', 300), options.get_option_default('timeout', 30),
                   public_key=None if public_key is None else str(public_key))

    def require_libraries(self):
        """The agent signs; the JWT is put together here: neither PyJWT nor cryptography is needed."""

    def validate(self):
        SignedJwtCredential.validate(self)
        if is_blank(self.username):
            raise UnicoreError('auth_method=ssh_agent needs username (the UNICORE user whose public key is registered)')
        if is_blank(self.socket_path):
            raise UnicoreError(NOT_RUNNING)
        if self.identity is not None:
            self.wanted_blob = _agent_identity_blob(self.identity)
        elif self.public_key is not None:
            self.wanted_blob = public_key_blob(self.public_key.strip().split('\n')[0])
            if self.wanted_blob is None or '\n' in self.public_key.strip():
                # Never shown: it may be a private key given by mistake.
                raise UnicoreError('identity_content: with auth_method=ssh_agent it is the public key of the agent key that signs '
                                   '(one line, ssh-ed25519 AAAA...), not a private key')

    def sign(self, claims):
        agent = SshAgent(os.path.expanduser(str(self.socket_path)), self.timeout)
        key = self._signing_key(agent)
        header = {'alg': key.algorithm, 'typ': 'JWT'}
        signing_input = _base64url(json.dumps(header, separators=(',', ':')).encode('ascii')) + '.' + \
            _base64url(json.dumps(claims, separators=(',', ':')).encode('utf-8'))
        return signing_input + '.' + _base64url(agent.sign(key, signing_input.encode('ascii')))

    def _signing_key(self, agent):
        keys = agent.keys()
        for key in keys:
            if (key.blob == self.wanted_blob) if self.wanted_blob is not None else key.usable:
                if not key.usable:
                    raise UnicoreError('identity: the agent key %s is of a type UNICORE cannot check (RSA, EC P-256 or Ed25519 only)' % key)
                return key
        held = ', '.join(str(key) for key in keys) or 'no keys (ssh-add adds them)'
        if self.wanted_blob is not None:
            raise UnicoreError('identity: ssh-agent at %s does not hold the key of %s (%s); it holds %s'
                               % (agent.path, self.identity, AgentKey(self.wanted_blob).fingerprint, held))
        raise UnicoreError('ssh-agent at %s holds no RSA, EC P-256 or Ed25519 key; it holds %s' % (agent.path, held))


def _agent_identity_blob(path):
    """The public key blob that ``identity`` names: the file itself when it is a public key, else ``<path>.pub``."""
    for candidate in (path, path + '.pub'):
        try:
            with open(candidate, 'rb') as key_file:
                first_line = key_file.readline(65536).decode('ascii', 'replace')
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UnicoreError('identity: cannot read %s: %s' % (candidate, (exc.strerror or str(exc)).lower()))
        blob = public_key_blob(first_line)
        if blob is not None:
            return blob
    raise UnicoreError('identity: with auth_method=ssh_agent it names the agent key that signs: a public key file '
                       '(ssh-ed25519 AAAA...), or a private key file with its .pub beside it; found neither at %s' % path)


def _base64url(data):
    return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')


class TrustedServiceCredential(SignedJwtCredential):
    """A delegation JWT (``etd: "true"``) that a trusted service signs on a user's behalf.

    ``sub`` is the user's DN and ``iss`` the service's DN; the server checks the
    signature against the issuer's certificate, or against its shared HMAC secret.
    """

    method = 'trusted_service'
    OPTIONS = ('subject', 'issuer', 'identity', 'identity_content', 'identity_passphrase', 'hmac_secret', 'client_cert', 'client_key',
               'jwt_lifetime')

    def __init__(self, subject, issuer, signing_key, algorithm, lifetime, clock=time.time, key_source='the service key'):
        super().__init__(lifetime, clock)
        self.subject = subject
        self.issuer = issuer
        self.signing_key = signing_key
        self.algorithm = algorithm
        self.key_source = key_source

    @classmethod
    def from_options(cls, options):
        subject = options.get_given('subject')
        issuer = options.get_given('issuer')
        lifetime = options.get_option_default('jwt_lifetime', 300)
        hmac_secret = options.get_given('hmac_secret')
        has_identity = options.get_given('identity') is not None or options.get_given('identity_content') is not None
        if hmac_secret is not None:
            if has_identity:
                raise UnicoreError('auth_method=trusted_service signs with one key: give hmac_secret or identity/identity_content, not both')
            return cls(subject, issuer, str(hmac_secret), 'HS256', lifetime)
        require_cryptography('auth_method=trusted_service')
        key, source = _key_from_identity(options)
        if key is None:
            client_key = options.get_given('client_key')
            if client_key is None:
                raise UnicoreError('auth_method=trusted_service needs the service key: client_key (with client_cert), '
                                   'identity, identity_content, or hmac_secret')
            check_readable_file('client_key', client_key)
            check_key_file_mode('client_key', client_key)
            source = 'client_key: %s' % client_key
            key = load_private_key(source, read_key_file('client_key', client_key), options.get_given('identity_passphrase'))
            client_cert = options.get_given('client_cert')
            if issuer is None and client_cert is not None:
                check_readable_file('client_cert', client_cert)
                issuer = certificate_subject_dn('client_cert', client_cert)
        return cls(subject, issuer, key, None, lifetime, key_source=source)

    def validate(self):
        super().validate()
        if is_blank(self.subject):
            raise UnicoreError('auth_method=trusted_service needs subject (the DN of the user the service acts for)')
        if is_blank(self.issuer):
            raise UnicoreError('auth_method=trusted_service needs issuer: the DN of the service that signs for the user, '
                               'as the site knows it. It defaults to the subject of client_cert only when the service signs with client_key')
        if self.algorithm == 'HS256':
            if len(self.signing_key) < MIN_HMAC_SECRET_LENGTH:
                raise UnicoreError('hmac_secret must have at least %d characters (UNICORE refuses shorter HMAC secrets)'
                                   % MIN_HMAC_SECRET_LENGTH)
        else:
            self.algorithm = signing_algorithm(self.key_source, self.signing_key)

    def claims(self, issued_at):
        # UNICORE treats a delegation JWT like an issued token: without
        # renewable "true" the site refuses to issue a token to it (403). The
        # service may sign a new delegation at any time, so it adds no power.
        return {
            'sub': str(self.subject),
            'iss': str(self.issuer),
            'iat': issued_at,
            'exp': issued_at + self.lifetime,
            'etd': 'true',
            'renewable': 'true',
        }

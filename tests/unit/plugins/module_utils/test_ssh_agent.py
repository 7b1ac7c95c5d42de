# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method: ssh_agent: the JWT the agent signs verifies with the key, and answers no real agent gives on demand.

A scripted agent here signs with keys made by ``cryptography``, so that the
JWT can be checked with PyJWT against the public key, and answers as no real
agent does when asked (an old agent's SHA-1 RSA signature, a message that ends
early, a stranger on the socket); the integration tests use the real ssh-agent.
"""

from __future__ import annotations

import os
import socket
import struct
import tempfile
import threading

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ansible_collections.unicore.auth.plugins.module_utils._credentials import CREDENTIAL_KINDS
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import SshAgentCredential
from ansible_collections.unicore.auth.plugins.module_utils._ssh_agent import NOT_RUNNING, AgentKey


def ssh_string(data):
    return struct.pack('>I', len(data)) + data


def mpint(number):
    return ssh_string(number.to_bytes((number.bit_length() + 8) // 8, 'big'))


def openssh_public(key):
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode('ascii')


def key_blob(key):
    import base64
    return base64.b64decode(openssh_public(key).split()[1])


def agent_signature(key, data, rsa_format):
    if isinstance(key, rsa.RSAPrivateKey):
        digest = hashes.SHA256() if rsa_format == b'rsa-sha2-256' else hashes.SHA1()
        return ssh_string(rsa_format) + ssh_string(key.sign(data, padding.PKCS1v15(), digest))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return ssh_string(b'ecdsa-sha2-nistp256') + ssh_string(mpint(r) + mpint(s))
    return ssh_string(b'ssh-ed25519') + ssh_string(key.sign(data))


class ScriptedAgent:
    """Holds ``keys``; answers each connection with the protocol, or with ``raw`` bytes when given."""

    def __init__(self, path, keys, rsa_format=b'rsa-sha2-256', raw=None, refuse_sign=False):
        self.path = path
        self.keys = keys
        self.rsa_format = rsa_format
        self.raw = raw
        self.refuse_sign = refuse_sign
        self.requests = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(path)
        self._server.listen(5)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                connection, _address = self._server.accept()
            except OSError:
                return
            with connection:
                length = struct.unpack('>I', connection.recv(4))[0]
                message = b''
                while len(message) < length:
                    message += connection.recv(length - len(message))
                self.requests.append(message[0])
                connection.sendall(self.raw if self.raw is not None else self._answer(message))

    def _answer(self, message):
        if message[0] == 11:
            body = struct.pack('>BI', 12, len(self.keys)) + b''.join(ssh_string(key_blob(key)) + ssh_string(b'comment') for key in self.keys)
        elif self.refuse_sign:
            body = bytes([5])
        else:
            offset = 1
            blob_length = struct.unpack('>I', message[offset:offset + 4])[0]
            blob = message[offset + 4:offset + 4 + blob_length]
            offset += 4 + blob_length
            data_length = struct.unpack('>I', message[offset:offset + 4])[0]
            data = message[offset + 4:offset + 4 + data_length]
            key = next(key for key in self.keys if key_blob(key) == blob)
            body = bytes([14]) + ssh_string(agent_signature(key, data, self.rsa_format))
        return struct.pack('>I', len(body)) + body

    def close(self):
        self._server.close()


@pytest.fixture(scope='module')
def keys():
    return {'rsa': rsa.generate_private_key(public_exponent=65537, key_size=2048), 'ec': ec.generate_private_key(ec.SECP256R1()),
            'ed25519': ed25519.Ed25519PrivateKey.generate(), 'ec384': ec.generate_private_key(ec.SECP384R1())}


@pytest.fixture
def agent():
    directory = tempfile.mkdtemp(prefix='sa-')  # a short path: a socket's name must fit in 108 bytes
    started = []

    def start(keys, **script):
        scripted = ScriptedAgent(os.path.join(directory, 'sock%d' % len(started)), keys, **script)
        started.append(scripted)
        return scripted
    yield start
    for scripted in started:
        scripted.close()
        os.unlink(scripted.path)
    os.rmdir(directory)


@pytest.fixture
def agent_credential(credential, monkeypatch):
    monkeypatch.delenv('SSH_AUTH_SOCK', raising=False)

    def build(**given):
        return credential(**dict(dict(auth_method='ssh_agent', username='demouser'), **given))
    return build


def public_file(tmp_path, key, name='id.pub'):
    path = tmp_path / name
    path.write_text(openssh_public(key) + ' someone@host\n')
    return str(path)


def test_the_kind_is_listed_with_its_own_options():
    assert CREDENTIAL_KINDS['ssh_agent'].OPTIONS == SshAgentCredential.OPTIONS


@pytest.mark.parametrize('name, algorithm', [('rsa', 'RS256'), ('ec', 'ES256'), ('ed25519', 'EdDSA')])
def test_the_agent_signs_the_jwt_of_ssh_key_and_it_verifies_with_the_public_key(agent, agent_credential, keys, tmp_path, name, algorithm):
    held = [keys['ed25519'], keys['rsa'], keys['ec']]
    scripted = agent(held)
    login = agent_credential(ssh_agent_socket=scripted.path, identity=public_file(tmp_path, keys[name]), jwt_lifetime=120)
    token = login.authorization_header()[len('Bearer '):]
    assert jwt.get_unverified_header(token) == {'alg': algorithm, 'typ': 'JWT'}
    claims = jwt.decode(token, keys[name].public_key(), algorithms=[algorithm])
    assert claims['sub'] == claims['iss'] == 'demouser' and claims['etd'] == 'false' and claims['exp'] - claims['iat'] == 120
    # the JWT is reused until it is close to expiry: one list and one sign request
    assert login.authorization_header() == 'Bearer ' + token
    assert scripted.requests == [11, 13]


def test_without_identity_the_first_key_of_a_type_unicore_checks_signs(agent, agent_credential, keys):
    scripted = agent([keys['ec384'], keys['ec'], keys['rsa']])
    token = agent_credential(ssh_agent_socket=scripted.path).authorization_header()[len('Bearer '):]
    jwt.decode(token, keys['ec'].public_key(), algorithms=['ES256'])


def test_a_private_key_file_names_the_agent_key_by_its_pub_beside_it(agent, agent_credential, keys, tmp_path):
    scripted = agent([keys['ed25519'], keys['rsa']])
    public_file(tmp_path, keys['rsa'], 'id_rsa.pub')
    (tmp_path / 'id_rsa').write_text('-----BEGIN OPENSSH PRIVATE KEY-----\nnot read\n')
    token = agent_credential(ssh_agent_socket=scripted.path, identity=str(tmp_path / 'id_rsa')).authorization_header()[len('Bearer '):]
    jwt.decode(token, keys['rsa'].public_key(), algorithms=['RS256'])


def test_the_public_key_line_as_identity_content_names_the_agent_key(agent, agent_credential, keys):
    # What the collection's playbooks make of an identity file on the controller.
    scripted = agent([keys['ed25519'], keys['rsa']])
    login = agent_credential(ssh_agent_socket=scripted.path, identity_content=openssh_public(keys['rsa']) + ' jdoe@host\n')
    jwt.decode(login.authorization_header()[len('Bearer '):], keys['rsa'].public_key(), algorithms=['RS256'])


def test_a_private_key_as_identity_content_is_refused_without_showing_it(agent_credential, keys):
    private = keys['rsa'].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                        serialization.NoEncryption()).decode('ascii')
    with pytest.raises(UnicoreError) as error:
        agent_credential(ssh_agent_socket='/run/agent.sock', identity_content=private)
    assert 'it is the public key of the agent key that signs' in str(error.value)
    assert private.splitlines()[1] not in str(error.value)


def test_a_held_key_of_another_type_is_refused_by_name(agent, agent_credential, keys, tmp_path):
    scripted = agent([keys['ec384']])
    with pytest.raises(UnicoreError, match=r'the agent key ecdsa-sha2-nistp384 SHA256:\S+ is of a type UNICORE cannot check'):
        agent_credential(ssh_agent_socket=scripted.path, identity=public_file(tmp_path, keys['ec384'])).authorization_header()


def test_an_agent_without_usable_keys_says_what_it_holds(agent, agent_credential, keys):
    with pytest.raises(UnicoreError, match=r'holds no RSA, EC P-256 or Ed25519 key; it holds ecdsa-sha2-nistp384 SHA256:'):
        agent_credential(ssh_agent_socket=agent([keys['ec384']]).path).authorization_header()
    with pytest.raises(UnicoreError, match=r'it holds no keys \(ssh-add adds them\)'):
        agent_credential(ssh_agent_socket=agent([]).path).authorization_header()


def test_the_fingerprint_is_the_one_ssh_keygen_shows(keys):
    import base64
    import hashlib
    blob = key_blob(keys['ed25519'])
    assert str(AgentKey(blob)) == 'ssh-ed25519 SHA256:' + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip('=')


def test_an_old_agent_that_signs_rsa_with_sha1_is_refused(agent, agent_credential, keys):
    scripted = agent([keys['rsa']], rsa_format=b'ssh-rsa')
    with pytest.raises(UnicoreError, match='signed with ssh-rsa instead of rsa-sha2-256'):
        agent_credential(ssh_agent_socket=scripted.path).authorization_header()


def test_a_refused_signature_names_the_key(agent, agent_credential, keys):
    scripted = agent([keys['ed25519']], refuse_sign=True)
    with pytest.raises(UnicoreError, match=r'refused to sign with ssh-ed25519 SHA256:\S+ \(a key added with ssh-add -c'):
        agent_credential(ssh_agent_socket=scripted.path).authorization_header()


@pytest.mark.parametrize('raw, expected', [
    (struct.pack('>IB', 1, 99), 'answered message type 99'),
    (struct.pack('>IBI', 5, 12, 3), 'ends too early'),
    (b'HTTP/1.1 400 Bad Request\r\n\r\n', 'did not answer as ssh-agent does'),
    (b'\x00\x00', 'the agent closed the connection'),
])
def test_an_answer_that_is_not_the_agents_is_refused(agent, agent_credential, keys, raw, expected):
    scripted = agent([keys['rsa']], raw=raw)
    with pytest.raises(UnicoreError, match=expected):
        agent_credential(ssh_agent_socket=scripted.path).authorization_header()


def test_without_a_socket_the_error_says_to_start_the_agent(agent_credential):
    with pytest.raises(UnicoreError) as error:
        agent_credential()
    assert str(error.value) == NOT_RUNNING


def test_an_identity_that_is_no_public_key_is_refused_offline(agent_credential, tmp_path):
    (tmp_path / 'notes').write_text('hello\n')
    with pytest.raises(UnicoreError, match='a public key file .* or a private key file with its .pub beside it; found neither'):
        agent_credential(ssh_agent_socket='/run/agent.sock', identity=str(tmp_path / 'notes'))


def test_neither_pyjwt_nor_cryptography_is_needed(agent_credential, monkeypatch):
    from ansible_collections.unicore.auth.plugins.module_utils import _jwt_credentials, _private_keys
    monkeypatch.setattr(_jwt_credentials, 'HAS_JWT', False)
    monkeypatch.setattr(_private_keys, 'HAS_CRYPTOGRAPHY', False)
    agent_credential(ssh_agent_socket='/run/agent.sock')

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client side of the ssh-agent protocol, as much as JWT signing needs (internal to the collection).

Two requests of draft-miller-ssh-agent: list the identities, sign data with one.
Written here rather than taken from paramiko, whose ``Agent`` finds the socket
only through ``SSH_AUTH_SOCK`` (``ssh_agent_socket`` would have to change the
process environment) and would add paramiko, PyNaCl and bcrypt to every host
for four message types. Signatures come back in SSH's format and leave here in
the one JWS wants (RFC 7518 3.4: ECDSA as the fixed-width ``r || s``).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError

REQUEST_IDENTITIES = 11
IDENTITIES_ANSWER = 12
SIGN_REQUEST = 13
SIGN_RESPONSE = 14
FAILURE = 5
RSA_SHA2_256 = 2
# An answer lists keys and comments; a megabyte is far more than any agent sends.
MAX_MESSAGE_BYTES = 1024 * 1024
NOT_RUNNING = 'ssh-agent is not running: start it and set SSH_AUTH_SOCK, or set ssh_agent_socket'

# key type -> (JWS algorithm, signature format asked for, sign flags)
SIGNING = {
    'ssh-rsa': ('RS256', 'rsa-sha2-256', RSA_SHA2_256),
    'ecdsa-sha2-nistp256': ('ES256', 'ecdsa-sha2-nistp256', 0),
    'ssh-ed25519': ('EdDSA', 'ssh-ed25519', 0),
}


class AgentKey:
    """A public key the agent holds: its SSH blob and what a message may show of it (type and fingerprint)."""

    def __init__(self, blob):
        self.blob = blob
        try:
            self.key_type = _Reader(blob).string().decode('ascii')
        except (UnicodeDecodeError, UnicoreError):
            self.key_type = 'unknown'
        self.fingerprint = 'SHA256:' + base64.b64encode(hashlib.sha256(blob).digest()).decode('ascii').rstrip('=')

    @property
    def usable(self):
        return self.key_type in SIGNING

    @property
    def algorithm(self):
        return SIGNING[self.key_type][0]

    def __str__(self):
        return '%s %s' % (self.key_type, self.fingerprint)


class SshAgent:
    """One connection per request to the agent at ``path``."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout

    def keys(self):
        """The keys the agent holds, in its order."""
        reader = self._request(REQUEST_IDENTITIES, b'', IDENTITIES_ANSWER, 'list its keys')
        count = reader.uint32()
        keys = []
        for _index in range(count):
            keys.append(AgentKey(reader.string()))
            reader.string()  # the comment, often a file name: not needed, never shown
        return keys

    def sign(self, key, data):
        """The JWS signature of ``data`` by ``key`` (an AgentKey of ``keys()``)."""
        _algorithm, signature_format, flags = SIGNING[key.key_type]
        payload = _string(key.blob) + _string(data) + struct.pack('>I', flags)
        reader = _Reader(self._request(SIGN_REQUEST, payload, SIGN_RESPONSE, 'sign with %s' % key).string())
        returned_format = reader.string().decode('ascii', 'replace')
        if returned_format != signature_format:
            raise UnicoreError('ssh-agent at %s signed with %s instead of %s (an agent too old for RS256): use OpenSSH 7.2 or newer'
                               % (self.path, returned_format, signature_format))
        signature = reader.string()
        if key.key_type == 'ecdsa-sha2-nistp256':
            numbers = _Reader(signature)
            return _fixed_width(numbers.mpint(), 32) + _fixed_width(numbers.mpint(), 32)
        return signature

    def _request(self, message_type, payload, expected, what):
        message = struct.pack('>IB', len(payload) + 1, message_type) + payload
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(self.timeout)
                connection.connect(self.path)
                connection.sendall(message)
                length = struct.unpack('>I', _receive(connection, 4))[0]
                if not 0 < length <= MAX_MESSAGE_BYTES:
                    raise UnicoreError('ssh_agent_socket: %s did not answer as ssh-agent does: is it its socket?' % self.path)
                answer = _receive(connection, length)
        except socket.timeout:
            raise UnicoreError('ssh-agent at %s did not answer within %s s (timeout)' % (self.path, self.timeout))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise UnicoreError('%s (no agent listens at %s: %s)' % (NOT_RUNNING, self.path, error.strerror))
        except OSError as error:
            raise UnicoreError('ssh_agent_socket: cannot talk to ssh-agent at %s: %s' % (self.path, error.strerror or error))
        if answer[0] == FAILURE:
            raise UnicoreError('ssh-agent at %s refused to %s (a key added with ssh-add -c needs a confirmation, '
                               'a locked agent is unlocked with ssh-add -X)' % (self.path, what))
        if answer[0] != expected:
            raise UnicoreError('ssh_agent_socket: %s answered message type %d to "%s": is it the socket of ssh-agent?'
                               % (self.path, answer[0], what))
        return _Reader(answer[1:])


def public_key_blob(line):
    """The key blob of an OpenSSH public key line (``type base64 [comment]``), or None when it is not one."""
    fields = line.split()
    if len(fields) < 2:
        return None
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (ValueError, TypeError):
        return None
    return blob if AgentKey(blob).key_type == fields[0] else None


def _string(data):
    return struct.pack('>I', len(data)) + data


def _fixed_width(number, width):
    return number.to_bytes(width, 'big')


def _receive(connection, size):
    chunks = []
    while size:
        chunk = connection.recv(min(size, 65536))
        if not chunk:
            raise ConnectionResetError(104, 'the agent closed the connection')
        chunks.append(chunk)
        size -= len(chunk)
    return b''.join(chunks)


class _Reader:
    """SSH wire format: uint32, string, mpint."""

    def __init__(self, data):
        self.data = data
        self.offset = 0

    def _take(self, size):
        if self.offset + size > len(self.data):
            raise UnicoreError('ssh-agent sent a message that ends too early')
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def uint32(self):
        return struct.unpack('>I', self._take(4))[0]

    def string(self):
        return self._take(self.uint32())

    def mpint(self):
        return int.from_bytes(self.string(), 'big', signed=True)

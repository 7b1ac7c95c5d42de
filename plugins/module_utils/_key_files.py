# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private key files that others may read are refused, as ssh refuses them (internal to the collection)."""

from __future__ import annotations

import os
import stat

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError

# How an ansible-vault encrypted file begins: it holds the key encrypted, not the
# key, and is often 0644 in a git checkout; the lookup's loader decrypts it in memory.
VAULT_HEADER = b'$ANSIBLE_VAULT;'


def check_key_file_mode(option, path):
    """Refuse the key file at ``path`` when its group or others may access it (ssh's UNPROTECTED PRIVATE KEY FILE).

    As ssh does, a link is followed and only a file of the user's own is
    checked: only its owner can chmod it (a mounted secret is often root's, 0644).
    """
    try:
        status = os.stat(path)
    except OSError as exc:
        raise UnicoreError('%s: cannot read key file %s: %s' % (option, path, (exc.strerror or str(exc)).lower()))
    if not status.st_mode & 0o077 or status.st_uid != os.getuid() or _is_vault_encrypted(path):
        return
    raise UnicoreError('%s: %s is accessible by other users (mode %04o); make it 0600 (chmod 600 %s), as ssh requires of a private key'
                       % (option, path, stat.S_IMODE(status.st_mode), path))


def _is_vault_encrypted(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read(len(VAULT_HEADER)) == VAULT_HEADER
    except OSError:
        return False  # refused then for its mode, too open either way

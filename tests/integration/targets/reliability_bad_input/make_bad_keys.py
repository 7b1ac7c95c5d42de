# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the unusable private keys of the bad input catalogue into a scratch directory.

    python make_bad_keys.py OUT_DIR VALID_PEM_KEY

dsa.pem (a DSA key), ec_p384.pem (EC on the wrong curve), ed448.pem (an
unsupported Edwards curve), truncated.pem (the first half of VALID_PEM_KEY),
empty.pem (no bytes) and unreadable.pem (a valid key, mode 0000). Generated at
test time: no unusable key is kept in the repository.
"""

from __future__ import annotations

import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448


def pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def write(directory, name, data, mode=0o600):
    path = os.path.join(directory, name)
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chmod(path, mode)


def main(out_dir, valid_key):
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    with open(valid_key, 'rb') as handle:
        valid = handle.read()
    write(out_dir, 'dsa.pem', pem(dsa.generate_private_key(key_size=2048)))
    write(out_dir, 'ec_p384.pem', pem(ec.generate_private_key(ec.SECP384R1())))
    write(out_dir, 'ed448.pem', pem(ed448.Ed448PrivateKey.generate()))
    # Cut in the middle of the base64 body: the PEM header is intact, the key is not.
    write(out_dir, 'truncated.pem', valid[:len(valid) // 2])
    write(out_dir, 'empty.pem', b'')
    write(out_dir, 'unreadable.pem', valid, mode=0)


if __name__ == '__main__':
    main(*sys.argv[1:])

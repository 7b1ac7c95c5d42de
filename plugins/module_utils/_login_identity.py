# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whose login the options describe, as the key of what is kept for it (internal to the collection).

One rule for everything kept on a machine for a login: the lookup's token
cache and Registry listings, and the security sessions kept between runs.
Secrets are part of it, so that a wrong password never gets what a right one
opened; whoever keeps something under it stores only a keyed hash of it.
"""

from __future__ import annotations

from ansible_collections.unicore.auth.plugins.module_utils._credentials import CREDENTIAL_OPTIONS, given_token

# The options that say whose login it is: what the credential kinds read, but
# how long a self-signed JWT lives, where (whether) refresh tokens are kept and
# which socket reaches an agent (OIDC_SOCK and SSH_AUTH_SOCK may name it as
# well), which say nothing about that. A token_file stands for the token it
# holds, which takes the place of the token option's value.
IDENTITY_OPTIONS = tuple(name for name in CREDENTIAL_OPTIONS
                         if name not in ('jwt_lifetime', 'oidc_refresh_token_file', 'oidc_store_refresh_token', 'oidc_agent_socket',
                                         'ssh_agent_socket', 'token_file'))


def login_fields(options):
    """Whose login the options describe, as a dict of strings: the identity options, with the token a token_file holds."""
    fields = dict((name, _text(options.get_given(name))) for name in IDENTITY_OPTIONS)
    fields['token'] = _text(given_token(options))
    return fields


def verify_fields(verify):
    """How a certificate is checked (``connection_settings``' verify), as identity fields: whether, and with which CA bundle."""
    return {'validate_certs': verify is not False, 'ca_path': None if isinstance(verify, bool) else verify}


def _text(value):
    return None if value is None else str(value)

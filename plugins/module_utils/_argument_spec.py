# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared argument spec: connection, authentication and token options (internal to the collection).

Documented by the ``unicore.auth.connection``, ``unicore.auth.credentials`` and
``unicore.auth.token`` doc fragments; a unit test keeps them in step. The
connection options are declared with their checks, in ``_connection_options``.
"""

from __future__ import annotations

import copy

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import CONNECTION_ARGUMENT_SPEC
from ansible_collections.unicore.auth.plugins.module_utils._credentials import CREDENTIAL_KINDS

AUTH_METHODS = ('auto',) + tuple(CREDENTIAL_KINDS)

AUTH_ARGUMENT_SPEC = dict(
    auth_method=dict(type='str', default='auto', choices=list(AUTH_METHODS)),
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
    token=dict(type='str', no_log=True),
    token_file=dict(type='path'),
    identity=dict(type='path'),
    identity_content=dict(type='str', no_log=True),
    identity_passphrase=dict(type='str', no_log=True),
    jwt_lifetime=dict(type='int', default=300),
    subject=dict(type='str'),
    issuer=dict(type='str'),
    hmac_secret=dict(type='str', no_log=True),
    ssh_agent_socket=dict(type='path'),
    oidc_token_endpoint=dict(type='str', no_log=False),
    oidc_issuer=dict(type='str'),
    oidc_client_id=dict(type='str'),
    oidc_client_secret=dict(type='str', no_log=True),
    oidc_client_auth=dict(type='str', default='post', choices=['post', 'basic']),
    oidc_scope=dict(type='str'),
    oidc_otp=dict(type='str', no_log=True),
    oidc_refresh_token=dict(type='str', no_log=True),
    oidc_refresh_token_file=dict(type='path', default='~/.cache/unicore.auth/oidc-refresh-tokens', no_log=False),
    oidc_store_refresh_token=dict(type='bool', default=True, no_log=False),
    oidc_agent_account=dict(type='str'),
    oidc_agent_socket=dict(type='path'),
)

# The properties of an issued token, shared by unicore_auth_token and the unicore_token lookup.
TOKEN_ARGUMENT_SPEC = dict(
    lifetime=dict(type='int', default=3600),
    renewable=dict(type='bool', default=False),
    limited=dict(type='bool', default=True),
    min_validity=dict(type='int'),
)


def unicore_argument_spec(**extra):
    """A fresh copy of the shared spec, extended by a module's own options."""
    spec = copy.deepcopy(CONNECTION_ARGUMENT_SPEC)
    spec.update(copy.deepcopy(AUTH_ARGUMENT_SPEC))
    spec.update(extra)
    return spec

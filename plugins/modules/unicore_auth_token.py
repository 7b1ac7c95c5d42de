#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: unicore_auth_token
short_description: Issue a UNICORE authentication token and keep it idempotently
version_added: 0.1.0
description:
  - Issues a UNICORE authentication token (a JWT signed by the site) for the login given by the credential options,
    so that workflows can authenticate with the token instead of the user's real secret.
  - Keeps the token in O(dest) and reuses it while it fits the request and is valid for at least O(min_validity).
    Then the module returns it with C(changed=false) and makes B(no request) to the site.
  - Tokens are O(limited) to the issuing site unless asked otherwise, and renewable only when asked for.
  - The token is returned B(in clear) in RV(token). Register the result with C(no_log=true).
options:
  dest:
    description:
      - Path of the token file on the host the module runs on. The file holds the bare token.
      - Written atomically with O(mode), never through a symbolic link; a failed run leaves an existing file untouched.
      - Must be a regular file, or not exist yet; a symbolic link, FIFO, device or socket there is refused.
      - Its directory must not be writable by other users, who could replace the token file, or swap it for a link, between
        the module's checks and its use. So it must be neither group- nor world-writable, and be owned by the user running
        the module or by root. A sticky directory of that user or of root, such as C(/tmp), is accepted when O(dest) and
        C(<dest>.site), where they exist, belong to the user running the module.
      - What the module learnt about the issuing site is kept beside it in C(<dest>.site), so that a later run can tell
        without a request whether the kept token comes from this site, and judge it by the site's clock (see O(min_validity)).
    type: path
  mode:
    description:
      - Permissions of the token file, as an octal string such as V('0600').
    type: raw
    default: '0600'
  force:
    description:
      - Issue a new token even when the kept one fits.
    type: bool
    default: false
  state:
    description:
      - V(present) keeps a fitting token at O(dest) or issues one.
      - V(absent) removes the token file O(dest) and its record; no request is made.
    type: str
    choices: [present, absent]
    default: present
  renew_with_token:
    description:
      - Renew a renewable token kept at O(dest) by authenticating with that token itself, so no password or key is needed.
      - Works while the kept token is still valid; once it has expired, the credential options are used instead.
    type: bool
    default: false
  return_token:
    description:
      - Return the token in RV(token).
      - Set to V(false) with O(dest), where the token is kept. The result then holds no secret and the task needs no
        C(no_log), so a run shows whether a token was issued or kept, its RV(claims) and until when it is valid.
      - V(false) without O(dest) is refused, since the token would be issued and lost.
    type: bool
    default: true
extends_documentation_fragment:
  - unicore.auth.connection
  - unicore.auth.credentials
  - unicore.auth.token
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Never issues a token. Reports whether one would be issued, and returns a kept token that is still valid.
  diff_mode:
    support: full
    details: Shows the claims of the token at O(dest) before and after the run (who, which site, uid, expiry), never the token.
  platform:
    platforms: posix
notes:
  - A kept token fits when it has the requested O(renewable) and O(limited) properties, comes from the same site,
    and is valid for at least O(min_validity).
  - Without O(dest), a token given in O(token) with O(auth_method=bearer) is the kept token.
    Its issuer is not checked, since that would take a request; the caller named the site.
    Ansible masks a returned value equal to a C(no_log) input, so such a token comes back masked; the caller already has it.
  - With O(registry_url) and O(site) in place of O(url), every run reads the Registry once, also a run that keeps
    the token and makes no request to the site.
  - The action group C(unicore.auth.unicore) covers this module.
requirements:
  - requests
  - PyJWT and cryptography for O(auth_method=ssh_key) and O(auth_method=trusted_service)
seealso:
  - module: unicore.auth.unicore_access_info
  - module: unicore.auth.unicore_registry_info
  - plugin: unicore.auth.unicore_token
    plugin_type: lookup
  - plugin: unicore.auth.token_info
    plugin_type: filter
author:
  - unicore.auth maintainers (@unicore-auth)
"""

EXAMPLES = r"""
# With dest and return_token: false the result holds no secret: no no_log needed, and the run shows what happened.
- name: Keep a limited one-hour token for the workflow runner
  unicore.auth.unicore_auth_token:
    url: https://unicore.example.org:8080/DEMO-SITE/rest/core
    username: demouser
    password: "{{ vault_unicore_password }}"
    lifetime: 3600
    dest: /etc/workflow/unicore.token
    return_token: false
  register: kept

- name: Say whether a token was issued, and until when it is valid
  ansible.builtin.debug:
    msg: "{{ 'New token' if kept.issued else 'Kept token' }} for {{ kept.claims.sub }}, valid until {{ kept.expires_at }}"
  when: kept.claims is truthy

- name: Issue a token that the other sites of the Registry accept too, and use it
  unicore.auth.unicore_auth_token:
    registry_url: https://unicore.example.org:8080/REGISTRY/rest/registries/default_registry
    site: DEMO-SITE
    username: demouser
    identity: ~/.uftp/id_ed25519
    limited: false
  register: issued
  no_log: true

- name: Log in at a partner site of the same Registry with the issued token
  unicore.auth.unicore_access_info:
    registry_url: https://unicore.example.org:8080/REGISTRY/rest/registries/default_registry
    site: PARTNER-SITE
    token: "{{ issued.token }}"

- name: Keep a renewable token fresh without the password (after a first run with the password)
  unicore.auth.unicore_auth_token:
    url: https://unicore.example.org:8080/DEMO-SITE/rest/core
    renewable: true
    renew_with_token: true
    lifetime: 86400
    min_validity: 21600
    dest: /var/lib/jupyterhub/unicore.token
    return_token: false

- name: Remove the token file
  unicore.auth.unicore_auth_token:
    url: https://unicore.example.org:8080/DEMO-SITE/rest/core
    dest: /etc/workflow/unicore.token
    state: absent
"""

RETURN = r"""
token:
  description:
    - The token, in clear. Register the task with C(no_log) and keep it out of logs, or use O(return_token=false) with O(dest).
    - Null with O(state=absent), and in check mode when no valid token is kept.
  returned: unless O(return_token=false)
  type: str
issued:
  description: Whether a new token was issued by this run.
  returned: always
  type: bool
  sample: true
claims:
  description: The token's claims, read without checking the signature (only the site can).
  returned: when a token is returned
  type: dict
  contains:
    sub:
      description: The DN of the user the token stands for.
      type: str
      sample: CN=Demo User,O=UNICORE,C=EU
    iss:
      description: The DN of the issuing site.
      type: str
      sample: CN=DEMO-SITE,O=UNICORE,C=EU
    iat:
      description: When the token was issued, in seconds since the epoch.
      type: int
    exp:
      description: When the token expires, in seconds since the epoch.
      type: int
    renewable:
      description: Whether the token can get a new token.
      type: bool
    limited:
      description: Whether only the issuing site accepts the token.
      type: bool
    uid:
      description: The uid selected when the token was issued.
      type: str
      sample: demouser
    preferences:
      description: The selection the token was issued for (uid, group, role), as the site wrote it; newer servers only.
      type: str
      sample: uid:demouser,group:hpc
expires_at:
  description: When the token expires, ISO 8601 in UTC.
  returned: when a token is returned
  type: str
  sample: "2026-11-26T18:30:00Z"
expires_in:
  description: Seconds until the token expires.
  returned: when a token is returned
  type: int
  sample: 3599
"""

from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import TOKEN_ARGUMENT_SPEC
from ansible_collections.unicore.auth.plugins.module_utils._module import run_unicore_module, unicore_module
from ansible_collections.unicore.auth.plugins.module_utils._token_keeping import keep_auth_token

TOKEN_FILE_OPTIONS = dict(
    dest=dict(type='path'),
    mode=dict(type='raw', default='0600'),
    force=dict(type='bool', default=False),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    renew_with_token=dict(type='bool', default=False),
    return_token=dict(type='bool', default=True),
)


def main():
    module = unicore_module(dict(TOKEN_ARGUMENT_SPEC, **TOKEN_FILE_OPTIONS), required_if=[('state', 'absent', ['dest'])])
    run_unicore_module(module, lambda options: keep_auth_token(options, module.check_mode))


if __name__ == '__main__':
    main()

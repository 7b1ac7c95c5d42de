#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: unicore_access_info
short_description: Show what a login at a UNICORE site maps to
version_added: 0.1.0
description:
  - Logs in to a UNICORE site with any credential kind UNICORE accepts and returns what the login maps to
    there, that is the user's DN, role, selected and available uids, groups and queues, and how the site authenticated it.
  - Use it as a preflight before provisioning a workflow, or to find out which O(preferences) a user may select.
  - Read only; it never changes anything at the site.
options:
  require_authenticated:
    description:
      - Fail when real credentials are accepted but map to no user at the site (role C(anonymous)).
      - Set to V(false) to report such a login instead. Has no effect with O(auth_method=anonymous).
    type: bool
    default: true
extends_documentation_fragment:
  - unicore.auth.connection
  - unicore.auth.credentials
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode runs it as usual.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - When the site refuses a requested preference, the error lists the uids, groups and roles the user may select,
    from a second call made without preferences.
  - The action group C(unicore.auth.unicore) covers this module, so O(url) (or O(registry_url) and O(site)) and the
    credentials can be set once with C(module_defaults).
requirements:
  - requests
  - PyJWT and cryptography for O(auth_method=ssh_key) and O(auth_method=trusted_service)
seealso:
  - module: unicore.auth.unicore_auth_token
  - module: unicore.auth.unicore_registry_info
  - plugin: unicore.auth.unicore_token
    plugin_type: lookup
  - name: UNICORE REST API
    description: The UNICORE documentation of the REST API, its authentication and user preferences.
    link: https://unicore-docs.readthedocs.io/en/latest/user-docs/rest-api/index.html
author:
  - unicore.auth maintainers (@unicore-auth)
"""

EXAMPLES = r"""
- name: Check that the login works and maps to a user
  unicore.auth.unicore_access_info:
    url: https://unicore.example.org:8080/DEMO-SITE/rest/core
    username: demouser
    password: "{{ vault_unicore_password }}"
  register: login

- name: Show the uids and groups the user may select
  ansible.builtin.debug:
    msg: "{{ login.access_info.available_uids }} / {{ login.access_info.available_groups }}"

- name: Check that the project group can be selected, logging in with an SSH key
  unicore.auth.unicore_access_info:
    url: https://unicore.example.org:8080/DEMO-SITE/rest/core
    username: demouser
    identity: ~/.uftp/id_ed25519
    identity_passphrase: "{{ vault_key_passphrase }}"
    preferences:
      group: project1

- name: Check the login at a site named as the Registry lists it (the Registry is read once, anonymously)
  unicore.auth.unicore_access_info:
    registry_url: https://unicore.example.org:8080/REGISTRY/rest/registries/default_registry
    site: DEMO-SITE
    username: demouser
    password: "{{ vault_unicore_password }}"

- name: Set the site and credentials once for every unicore.auth module
  module_defaults:
    group/unicore.auth.unicore:
      url: https://unicore.example.org:8080/DEMO-SITE/rest/core
      token: "{{ vault_oidc_access_token }}"
  block:
    - name: Log in with an OIDC access token
      unicore.auth.unicore_access_info:
"""

RETURN = r"""
access_info:
  description: What the login maps to at the site.
  returned: success
  type: dict
  contains:
    dn:
      description: The DN the site knows the user by.
      type: str
      sample: CN=Demo User,O=UNICORE,C=EU
    role:
      description: The selected role; C(anonymous) when the login maps to no user.
      type: str
      sample: user
    available_roles:
      description: The roles the user may select.
      type: list
      elements: str
      sample: [user, admin]
    uid:
      description: The selected uid (Unix login); null when the login maps to none.
      type: str
      sample: demouser
    available_uids:
      description: The uids the user may select.
      type: list
      elements: str
      sample: [demouser, demo2]
    group:
      description: The selected primary group.
      type: str
      sample: users
    available_groups:
      description: The groups the user may select.
      type: list
      elements: str
      sample: [users, hpc, project1]
    supplementary_groups:
      description: The selected supplementary groups.
      type: list
      elements: str
      sample: []
    queues:
      description: The batch queues available to the user; empty when the site reports none.
      type: list
      elements: str
      sample: [batch, fast]
    authentication_method:
      description: How the site authenticated the login, such as C(PASSWORD_FILE), C(OAUTH), C(SSHKEY), C(ETD) or C(X509).
      type: str
      sample: PASSWORD_FILE
    raw:
      description: The site's C(client) object exactly as sent.
      type: dict
      sample: {"dn": "CN=Demo User,O=UNICORE,C=EU", "role": {"selected": "user", "availableRoles": ["user"]}}
server:
  description: The UNICORE server that answered.
  returned: success
  type: dict
  contains:
    version:
      description: The server's version.
      type: str
      sample: 10.2.0
    dn:
      description: The server's DN, the issuer of the tokens it issues.
      type: str
      sample: CN=DEMO-SITE,O=UNICORE,C=EU
"""

from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
from ansible_collections.unicore.auth.plugins.module_utils._login_mapping import fetch_access_info
from ansible_collections.unicore.auth.plugins.module_utils._module import run_unicore_module, unicore_module


def access_info(options):
    client = UnicoreClient.from_options(options)
    try:
        info, server = fetch_access_info(client, options.get_option('require_authenticated'))
    finally:
        client.transport.close()
    return {'changed': False, 'access_info': info, 'server': server}


def main():
    module = unicore_module({'require_authenticated': {'type': 'bool', 'default': True}})
    run_unicore_module(module, access_info)


if __name__ == '__main__':
    main()

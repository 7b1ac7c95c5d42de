#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: unicore_registry_info
short_description: List the sites of a UNICORE Registry
version_added: 0.1.0
description:
  - Reads a UNICORE Registry and returns the sites it lists, by name and URL, and every entry as the Registry sent it.
  - A site's name is the one that O(site) takes in the other modules of the collection, in place of O(url).
  - The Registry is read anonymously, as UCC does since UNICORE 10.3, unless O(registry_auth) is set; then the credentials are sent.
  - Read only; it never changes anything.
options:
  registry_url:
    description:
      - The UNICORE Registry, for example C(https://host:8080/REGISTRY/rest/registries/default_registry).
      - An C(http://) URL is refused unless O(allow_http) is set.
    required: true
  registry_auth:
    description:
      - Send the credentials (and O(client_cert)) to the Registry. Only then are the credential options used.
      - By default the Registry is read anonymously, without credentials and without a TLS client certificate.
  url:
    description:
      - Ignored; this module reads the Registry at O(registry_url). Accepted so that C(module_defaults) for the
        C(unicore.auth.unicore) action group can set it for the other modules.
  site:
    description:
      - Ignored; this module lists every site. Accepted for the same reason as O(url).
  preferences:
    description:
      - Ignored; preferences select an account at a site and are never sent to the Registry.
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
  - O(ca_path), O(validate_certs), O(timeout) and O(retries) apply to the Registry as they do to a site.
  - The action group C(unicore.auth.unicore) covers this module.
requirements:
  - requests
  - PyJWT and cryptography for O(registry_auth=true) with O(auth_method=ssh_key) or O(auth_method=trusted_service)
seealso:
  - module: unicore.auth.unicore_access_info
  - module: unicore.auth.unicore_auth_token
  - name: UNICORE Registry
    description: The UNICORE documentation of the Registry, which lists the services of a UNICORE federation.
    link: https://unicore-docs.readthedocs.io/en/latest/admin-docs/registry/index.html
author:
  - unicore.auth maintainers (@unicore-auth)
"""

EXAMPLES = r"""
- name: List the sites of the Registry
  unicore.auth.unicore_registry_info:
    registry_url: https://unicore.example.org:8080/REGISTRY/rest/registries/default_registry
  register: registry

- name: Show the site names
  ansible.builtin.debug:
    msg: "{{ registry.sites | map(attribute='name') | list }}"

- name: Read a Registry that wants a login
  unicore.auth.unicore_registry_info:
    registry_url: https://unicore.example.org:8080/REGISTRY/rest/registries/default_registry
    registry_auth: true
    username: demouser
    password: "{{ vault_unicore_password }}"
  register: registry

- name: Check the login at every site the Registry lists
  unicore.auth.unicore_access_info:
    url: "{{ item.url }}"
    username: demouser
    password: "{{ vault_unicore_password }}"
  loop: "{{ registry.sites }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
sites:
  description:
    - The sites the Registry lists, its C(CoreServices) entries, sorted by name.
    - C(CoreServices) entries whose address does not end in C(/SITE/rest/core) are left out, with a warning.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The site's name, the path segment before C(/rest/core), as PyUNICORE names sites; what O(site) takes.
      type: str
      sample: DEMO-SITE
    url:
      description: The site's REST base, what O(url) takes.
      type: str
      sample: https://unicore.example.org:8080/DEMO-SITE/rest/core
  sample:
    - name: DEMO-SITE
      url: https://unicore.example.org:8080/DEMO-SITE/rest/core
    - name: PARTNER-SITE
      url: https://unicore.example.org:8080/PARTNER-SITE/rest/core
entries:
  description: Every entry of the Registry exactly as sent, in its order, sites and other services alike.
  returned: success
  type: list
  elements: dict
  sample:
    - href: https://unicore.example.org:8080/DEMO-SITE/rest/core
      type: CoreServices
    - href: https://unicore.example.org:8080/WORKFLOW/rest/workflows
      type: WorkflowServices
"""

from ansible_collections.unicore.auth.plugins.module_utils._module import run_unicore_module, unicore_module
from ansible_collections.unicore.auth.plugins.module_utils._registry import read_registry_from_options


def registry_info(options, warn):
    registry = read_registry_from_options(options, warn)
    return {'changed': False, 'sites': registry.sites, 'entries': registry.entries, 'warnings': registry.warnings()}


def main():
    module = unicore_module({'registry_url': {'type': 'str', 'required': True}})
    run_unicore_module(module, lambda options: registry_info(options, module.warn), at_site=False)


if __name__ == '__main__':
    main()

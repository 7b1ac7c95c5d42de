# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: unicore_token
short_description: Get a UNICORE authentication token, issued once and shared by every host and task
version_added: 0.1.0
description:
  - Returns a UNICORE authentication token (a JWT signed by the site) for the login given by the credential options,
    as a one-element list.
  - Ansible runs a lookup once per host and task, each time in a fresh process. To keep a play from asking the site
    for a token every time, issued tokens are kept in a controller-side cache shared by all forks of a run and by later runs.
    N hosts times M tasks with the same credential and token options cost one token.
  - A cached token is reused while it has the requested properties and is valid for at least O(min_validity).
  - Options can also come from C(unicore_*) variables, C(UNICORE_*) environment variables and the C([unicore]) section
    of C(ansible.cfg), in that order of precedence after direct arguments. Values from variables are templated,
    so vault-encrypted variables work.
options:
  cache:
    description:
      - Keep issued tokens in O(cache_dir) and reuse them.
      - With V(false), every call issues a new token.
    type: bool
    default: true
    env:
      - name: UNICORE_CACHE
    ini:
      - section: unicore
        key: cache
    vars:
      - name: unicore_cache
  cache_dir:
    description:
      - Directory of the token cache on the controller. Created with mode C(0700).
      - Refused when it belongs to another user, is writable by others, or is a symbolic link.
      - Entries are C(0600) files named by a keyed hash, holding only issued tokens, never a credential.
      - Defaults to C(unicore.auth/tokens) in C($XDG_CACHE_HOME), or in C(~/.cache) when that is not set.
    type: path
    env:
      - name: UNICORE_CACHE_DIR
    ini:
      - section: unicore
        key: cache_dir
    vars:
      - name: unicore_cache_dir
extends_documentation_fragment:
  - unicore.auth.connection
  - unicore.auth.connection.plugins
  - unicore.auth.credentials
  - unicore.auth.credentials.plugins
  - unicore.auth.token
  - unicore.auth.token.plugins
notes:
  - O(identity) is read through Ansible's loader, so it may name a vault-encrypted key file; it is decrypted in memory only.
  - The token is returned in clear. Use C(no_log) on tasks that show or register it.
  - Using the lookup in a variable that many tasks read runs it once per read; the cache keeps that to one token,
    but setting the token once with C(ansible.builtin.set_fact) and C(run_once) saves the lookups too.
seealso:
  - module: unicore.auth.unicore_auth_token
  - module: unicore.auth.unicore_access_info
  - plugin: unicore.auth.token_info
    plugin_type: filter
author:
  - unicore.auth maintainers (@unicore-auth)
"""

EXAMPLES = r"""
- name: Use a token in a workflow's API calls without handing out the password
  ansible.builtin.uri:
    url: https://unicore.example.org:8080/DEMO-SITE/rest/core/jobs
    headers:
      Authorization: "Bearer {{ lookup('unicore.auth.unicore_token', url=unicore_site, username='demouser', password=vault_unicore_password) }}"
  no_log: true

- name: Hand a token to every workflow host; with unicore_url, unicore_username, unicore_password set as variables
  ansible.builtin.copy:
    content: "{{ lookup('unicore.auth.unicore_token', lifetime=7200) }}"
    dest: /etc/workflow/unicore.token
    mode: '0600'
  no_log: true
"""

RETURN = r"""
_raw:
  description: The token, as a one-element list.
  type: list
  elements: str
"""

import json
import os

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._urls import plain_http_warning
from ansible_collections.unicore.auth.plugins.plugin_utils._lookup_options import lookup_options
from ansible_collections.unicore.auth.plugins.plugin_utils._token_source import token_for

# The option definitions of DOCUMENTATION with its doc fragments merged in, as
# JSON; tests/scripts/lookup_option_definitions.py writes it from the
# documentation and a unit test checks that the two agree.
OPTION_DEFINITIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'plugin_utils', 'unicore_token_options.json')


def _register_option_definitions():
    """Give Ansible the option definitions before its plugin loader parses the documentation.

    Ansible loads a lookup anew in a forked worker for every host and task, and
    would parse DOCUMENTATION and its six doc fragments as YAML each time: about
    40 % of what a cached token costs (docs/performance.md). The loader skips
    that for a plugin whose definitions are registered already. Where this
    internal of ansible-core is missing, the documentation is parsed as usual.
    """
    try:
        with open(OPTION_DEFINITIONS, encoding='utf-8') as handle:
            definitions = json.load(handle)
        C.config.initialize_plugin_configuration_definitions('lookup', __name__, definitions)
    except (AttributeError, OSError, ValueError):
        pass


_register_option_definitions()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError('unicore.auth.unicore_token takes no positional terms; give url= and the credential options')
        try:
            options = lookup_options(self, variables, kwargs)
            insecure = plain_http_warning(options)
            if insecure:
                Display().warning('unicore.auth.unicore_token: %s' % insecure)
            return [token_for(options)]
        except UnicoreError as error:
            raise AnsibleLookupError('unicore.auth.unicore_token: %s' % error.message)

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: unicore_options
short_description: The unicore.auth options as the unicore_token lookup finds them, to pass on to a module
version_added: 0.1.0
description:
  - Returns, as a one-element list, a dict of the connection, credential and token options that are given
    as arguments of this lookup, as C(unicore_*) variables, as C(UNICORE_*) environment variables or in the
    C([unicore]) section of C(ansible.cfg), in that order of precedence, exactly as P(unicore.auth.unicore_token#lookup) reads them.
    Options given nowhere are left out, so a module's defaults apply; blank values count as not given.
  - Values are typed and checked as the P(unicore.auth.unicore_token#lookup) lookup checks them; values from variables are templated,
    so vault-encrypted variables work. O(identity) is the absolute path of the key file on the controller
    (a relative path is under C(~/.uftp/)).
  - Meant for roles and playbooks that hand the options to M(unicore.auth.unicore_access_info) or M(unicore.auth.unicore_auth_token),
    for example through C(module_defaults), so that no play restates where an option comes from.
  - "Where O(url) is asked for but O(site) is not (O(_terms) names C(url) and not C(site)), and the site is given by O(registry_url)
    and O(site) instead: O(url) is the site's url as the Registry lists it, read on the controller and kept in the cache of the
    P(unicore.auth.unicore_token#lookup) lookup for at most 10 minutes, for a role that needs the url itself."
options:
  _terms:
    description:
      - The names of the options wanted.
      - When none is named, the connection and credential options, which every module of the collection takes
        (the options of the C(group/unicore.auth.unicore) action group); the token options only when named.
    type: list
    elements: str
  site_entry:
    description:
      - A site entry (a dict, as in C(access_check_sites) of the C(unicore.auth.access_check) role) whose own options
        come first. Its connection options win one by one, except where the site is. An entry with O(url) or O(site) replaces
        both of those given elsewhere, so that a site named in a Registry is not also given a url, and the other way round.
        Its credentials replace the others as a whole; when it gives any
        credential option (such as O(username), O(password), O(token), O(identity)), none given elsewhere is used,
        so that no site is sent a secret meant for another.
      - Keys that are not options of this lookup (C(name), C(uid), C(group), ...) are left out.
    type: dict
  failure:
    description:
      - The failure message of a module that was given these options, such as C(ansible_failed_result.msg) in the
        C(rescue) of a block. The lookup then returns that message, with each option it names followed by where this
        lookup read the option (C(password (from unicore_password))), or where it can be set when it is given nowhere
        (C(needs password (read from unicore_password or the environment variable UNICORE_PASSWORD))), so that a playbook's
        or a role's user reads the names they write. Nothing else is returned then, and nothing is checked.
    type: str
extends_documentation_fragment:
  - unicore.auth.connection
  - unicore.auth.connection.plugins
  - unicore.auth.credentials
  - unicore.auth.credentials.plugins
  - unicore.auth.token
  - unicore.auth.token.plugins
notes:
  - The result holds the secrets that are given (passwords, tokens, keys). Use C(no_log) on tasks that show or register it,
    and keep it in task variables rather than facts.
seealso:
  - plugin: unicore.auth.unicore_token
    plugin_type: lookup
  - module: unicore.auth.unicore_access_info
author:
  - unicore.auth maintainers (@unicore-auth)
"""

EXAMPLES = r"""
- name: Log in, and on failure say which unicore_* variable or UNICORE_* environment variable each option came from
  module_defaults:
    unicore.auth.unicore_access_info: "{{ lookup('unicore.auth.unicore_options') }}"
  block:
    - name: Ask the site what the login maps to
      unicore.auth.unicore_access_info:
  rescue:
    - name: Fail naming the variables
      ansible.builtin.fail:
        msg: "{{ lookup('unicore.auth.unicore_options', failure=ansible_failed_result.msg | default('the login failed')) }}"

- name: Check the login with the site and credentials of the unicore_* variables or UNICORE_* environment
  unicore.auth.unicore_access_info:
  module_defaults:
    unicore.auth.unicore_access_info: "{{ lookup('unicore.auth.unicore_options') }}"

- name: Show which site the play talks to
  ansible.builtin.debug:
    msg: "{{ lookup('unicore.auth.unicore_options', 'url').url | default('no site set') }}"
"""

RETURN = r"""
_raw:
  description:
    - A one-element list holding the dict of the given options.
    - With O(failure), a one-element list holding the message with the options' origins.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import TOKEN_ARGUMENT_SPEC
from ansible_collections.unicore.auth.plugins.module_utils._credentials import CREDENTIAL_OPTIONS
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.lookup.unicore_token import HostFactError, cache_directory, capture_sources, source_names
from ansible_collections.unicore.auth.plugins.plugin_utils._option_origins import origins, with_origins
from ansible_collections.unicore.auth.plugins.plugin_utils._token_lookup import OptionSources, loader_file_reader, resolve_options, site_url_in_registry

OWN_OPTIONS = ('_terms', 'site_entry', 'failure')
# Where a site is: an entry that gives one of them replaces both.
LOCATION_OPTIONS = ('url', 'site')


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        site = kwargs.pop('site_entry', None) or {}
        failure = kwargs.pop('failure', None)
        definitions = dict((name, definition) for name, definition in self.option_definitions.items() if name not in OWN_OPTIONS)
        unknown = sorted(set(terms or ()).union(kwargs) - set(definitions))
        if unknown:
            raise AnsibleLookupError('unicore.auth.unicore_options: unknown option(s) %s; the options are listed by '
                                     'ansible-doc -t lookup unicore.auth.unicore_options' % ', '.join(unknown))
        if not isinstance(site, dict):
            raise AnsibleLookupError('unicore.auth.unicore_options: site_entry must be a dict (a site entry), got %s' % type(site).__name__)
        if failure is not None:
            return [self._with_origins(str(failure), definitions, variables, kwargs, site)]
        names = terms or [name for name in definitions if name not in TOKEN_ARGUMENT_SPEC]
        wanted = dict((name, definitions[name]) for name in names)
        try:
            given = self._given_for_site(wanted, variables, kwargs, site)
            if 'url' in wanted and 'site' not in wanted and 'url' not in given:
                url = self._url_in_registry(definitions, variables, kwargs, site)
                if url is not None:
                    given['url'] = url
        except HostFactError as error:
            raise AnsibleLookupError('unicore.auth.unicore_options: %s' % error)
        except UnicoreError as error:
            raise AnsibleLookupError('unicore.auth.unicore_options: %s' % self._with_origins(error.message, definitions, variables, kwargs, site))
        return [given]

    def _with_origins(self, message, definitions, variables, kwargs, site):
        """``message`` with each option it names followed by where this lookup reads it (see ``_option_origins``)."""
        try:
            sources = capture_sources(self._templar, self._loader, variables or {}, kwargs)
        except (HostFactError, AnsibleError):
            return message  # the options' own error is the one to tell
        entry = dict((name, value) for name, value in site.items() if name in definitions)
        decides = set(CREDENTIAL_OPTIONS) if set(CREDENTIAL_OPTIONS).intersection(entry) else set()
        if set(LOCATION_OPTIONS).intersection(entry):
            decides.update(LOCATION_OPTIONS)
        found = origins(definitions, OptionSources(**sources), entry, decides)
        return with_origins(message, definitions, found, sources['config_file'])

    def _url_in_registry(self, definitions, variables, kwargs, site):
        """The url of the site that ``registry_url`` + ``site`` name, where the unicore_token lookup would find it; None when none is named.

        Read from the Registry, which the unicore_token lookup's cache keeps, for
        a role that must know the url on the controller (the workflow_token role's kept-token check).
        """
        location = dict((name, definitions[name]) for name in LOCATION_OPTIONS)
        if not self._given_for_site(location, variables, kwargs, site).get('site'):
            return None  # and no other option is read, nor refused
        sources = capture_sources(self._templar, self._loader, variables or {}, kwargs)
        given = self._given_for_site(definitions, variables, kwargs, site, sources)
        options = resolve_options(definitions, OptionSources(given, {}, {}, {}), file_reader=loader_file_reader(self._loader))
        return site_url_in_registry(options, cache_directory(sources), Display().warning)

    def _given_for_site(self, definitions, variables, kwargs, site, sources=None):
        """The options of ``definitions`` that are given, the site entry's over the others.

        Captured as the unicore_token lookup captures its options, from the sources of these options only (unless ``sources``).
        """
        if sources is None:
            sources = capture_sources(self._templar, self._loader, variables or {}, kwargs,
                                      source_names(definitions, 'vars'), source_names(definitions, 'env'))
        given = resolve_options(definitions, OptionSources(**sources), only_given=True)
        if site:
            # The site entry's own values are typed and checked as if given directly.
            own = dict((name, site[name]) for name in definitions if name in site)
            given = for_site(given, resolve_options(definitions, OptionSources(own, {}, {}, {}), only_given=True))
        return given


def for_site(shared, own):
    """The options for a site: its own connection options over the shared ones, and its own credentials or else the shared ones."""
    credentials = set(CREDENTIAL_OPTIONS)
    source = own if credentials.intersection(own) else shared
    replaced = set(LOCATION_OPTIONS) if set(LOCATION_OPTIONS).intersection(own) else set()
    options = dict((name, value) for name, value in shared.items() if name not in credentials and name not in replaced)
    options.update((name, value) for name, value in own.items() if name not in credentials)
    options.update((name, value) for name, value in source.items() if name in credentials)
    return options

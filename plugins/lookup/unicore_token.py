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
      - Entries are C(0600) files named by a keyed hash, holding only issued tokens (and until when each may be given again), never a credential.
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

import contextlib
import hashlib
import json
import os
import stat
import time

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

# The option definitions of DOCUMENTATION with its doc fragments merged in, as
# JSON; tests/scripts/lookup_option_definitions.py writes it from the
# documentation and a unit test checks that the two agree.
OPTION_DEFINITIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'plugin_utils', 'unicore_token_options.json')

# Bump when what an answer depends on, or its entry, changes: older answers are then not found.
ANSWER_FORMAT = 1


def _load_option_definitions():
    with open(OPTION_DEFINITIONS, encoding='utf-8') as handle:
        return json.load(handle)


def _register_option_definitions(definitions):
    """Give Ansible the option definitions before its plugin loader parses the documentation.

    Ansible loads a lookup anew in a forked worker for every host and task, and
    would parse DOCUMENTATION and its six doc fragments as YAML each time: about
    13 ms, three times what a remembered answer costs in all (docs/performance.md).
    The loader skips that for a plugin whose definitions are registered already.
    Where this internal of ansible-core is missing, the documentation is parsed as usual.
    """
    try:
        C.config.initialize_plugin_configuration_definitions('lookup', __name__, definitions)
    except AttributeError:
        pass


def _source_names(definitions, source):
    return frozenset(entry['name'] for definition in definitions.values() for entry in definition.get(source) or [])


_DEFINITIONS = _load_option_definitions()
_register_option_definitions(_DEFINITIONS)
# The variable and environment names the options are read from.
OPTION_VARIABLES = _source_names(_DEFINITIONS, 'vars')
OPTION_ENVIRONMENT = _source_names(_DEFINITIONS, 'env')


class LookupModule(LookupBase):
    """Answers from the remembered answers when it can, else works the answer out.

    Ansible loads this file in a fresh worker for every host and task. It is
    the one file of the collection that Python's bytecode cache serves there:
    Ansible's collection loader compiles every other module of a collection from
    source on each import, which would cost a cached token several times what the
    rest of the lookup does (docs/performance.md). So this file reads the options
    and looks up the answer remembered for exactly these inputs, and imports the
    collection's code only to work out an answer, where all the rules are.
    """

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError('unicore.auth.unicore_token takes no positional terms; give url= and the credential options')
        unknown = sorted(set(kwargs) - set(self.option_definitions))
        if unknown:
            # Ansible would drop them silently: a misspelt lifetime= would give a token of the default lifetime.
            raise AnsibleLookupError('unicore.auth.unicore_token: unknown option(s) %s; the options are listed by '
                                     'ansible-doc -t lookup unicore.auth.unicore_token' % ', '.join(unknown))
        option_variables = self.templated_option_variables(variables or {})
        with self._blank_environment_hidden():
            cache_dir = self._cache_dir(option_variables, kwargs)
        answer_key = None if cache_dir is None else self._answer_key(option_variables, kwargs)
        answer = None if answer_key is None else _remembered_answer(cache_dir, answer_key)
        if answer is None:
            self.set_options_from(option_variables, kwargs)
            answer = self._work_out_answer(option_variables, kwargs, cache_dir, answer_key)
        else:
            for warning in answer['warnings']:
                _warn(warning)
        return [answer['token']]

    def templated_option_variables(self, variables):
        """The option variables (``unicore_*``) among ``variables``, templated; blank ones left out, as not given.

        Ansible hands a lookup the variables untemplated (``"{{ vault_password }}"``),
        and ``set_options`` would type-check the template string.
        """
        option_variables = {}
        for name in OPTION_VARIABLES:
            if name in variables:
                value = self._templar.template(variables[name])
                if not _is_blank(value):
                    option_variables[name] = value
        return option_variables

    def set_options_from(self, option_variables, direct):
        """Set every option from its documented sources, with their precedence: direct, ``vars:``, ``env:``, ``ini:``."""
        with self._blank_environment_hidden():
            self.set_options(var_options=option_variables, direct=direct)

    @contextlib.contextmanager
    def _blank_environment_hidden(self):
        """Hide blank ``UNICORE_*`` variables while options are read.

        AWX injects an empty string for an input left blank; Ansible would check
        it against the option's type and choices (``auth_method: ''`` fails)
        instead of treating it as not given. The lookup runs in a worker process
        of its own, and the variables are put back at once.
        """
        hidden = dict((name, os.environ.pop(name)) for name in OPTION_ENVIRONMENT if _is_blank(os.environ.get(name)))
        try:
            yield
        finally:
            os.environ.update(hidden)

    def _cache_dir(self, option_variables, direct):
        """The token cache's directory (``cache_dir``, or its default place), or None with ``cache: false``.

        Read before, and without, setting all the options: Ansible resolves only
        these two here, where setting all 27 took half of what a remembered answer cost.
        """
        def get_option(name):
            return C.config.get_config_value_and_origin(name, plugin_type='lookup', plugin_name=self._load_name,
                                                        variables=option_variables, direct=direct)[0]
        if not get_option('cache'):
            return None
        cache_dir = get_option('cache_dir')
        # A blank path given directly is not given, rather than the current directory Ansible makes of it.
        if cache_dir is None or _is_blank(direct.get('cache_dir')):
            base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
            return os.path.join(base, 'unicore.auth', 'tokens')
        return os.path.abspath(os.path.expanduser(str(cache_dir)))

    @staticmethod
    def _answer_key(option_variables, direct):
        """Everything the answer depends on but time and the site, as text; None when it cannot be put in JSON.

        The options' sources as given, before Ansible reads them: the arguments,
        the option variables, the ``UNICORE_*`` environment, and the config file
        that holds the ``[unicore]`` section; and what relative paths and the
        defaults depend on. It holds the secrets, so it is only ever hashed.
        """
        environment = dict((name, os.environ[name]) for name in OPTION_ENVIRONMENT if name in os.environ)
        try:
            inputs = {'format': ANSWER_FORMAT, 'direct': direct, 'variables': option_variables, 'environment': environment,
                      'config': C.CONFIG_FILE and [C.CONFIG_FILE, _digest(C.CONFIG_FILE)],
                      'cwd': os.getcwd(), 'home': os.environ.get('HOME')}
            return json.dumps(inputs, sort_keys=True, separators=(',', ':'), default=str)
        except (OSError, TypeError, ValueError):
            return None

    def _work_out_answer(self, option_variables, direct, cache_dir, answer_key):
        """The answer by the rules: the options checked, the token from the token cache or the site."""
        # Imported here: a remembered answer needs none of this (see the class's docstring).
        from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
        from ansible_collections.unicore.auth.plugins.module_utils._urls import plain_http_warning
        from ansible_collections.unicore.auth.plugins.plugin_utils._lookup_options import lookup_options
        from ansible_collections.unicore.auth.plugins.plugin_utils._token_cache import TokenCache
        from ansible_collections.unicore.auth.plugins.plugin_utils._token_source import token_for

        try:
            options = lookup_options(self, option_variables, direct)
            insecure = plain_http_warning(options)
            if insecure:
                _warn(insecure)  # at once: also when no token comes of it
            token, reusable_until = token_for(options, cache_dir)
            answer = {'token': token, 'reusable_until': reusable_until, 'warnings': [insecure] if insecure else []}
            if answer_key is not None and reusable_until is not None and reusable_until > time.time():
                self._remember(TokenCache(cache_dir), answer_key, answer)
            return answer
        except UnicoreError as error:
            raise AnsibleLookupError('unicore.auth.unicore_token: %s' % error.message)

    @staticmethod
    def _remember(cache, answer_key, answer):
        try:
            name = _answer_name(cache.directory, answer_key)
        except (OSError, ValueError):
            return  # changed under the lookup's feet since the token cache checked it: the next lookup will tell
        cache.write_entry(name, answer)


def _warn(message):
    Display().warning('unicore.auth.unicore_token: %s' % message)


def _is_blank(value):
    return isinstance(value, str) and value.strip() == ''


def _remembered_answer(cache_dir, answer_key):
    """The answer remembered for ``answer_key`` while it may still be given, else None.

    Anything unusual (a directory that is not private, no key yet, a damaged or
    stale entry) is left to the rules, which report or repair it.
    """
    try:
        name = _answer_name(cache_dir, answer_key)
        answer = json.loads(_read_private(os.path.join(cache_dir, name)))
        if isinstance(answer['token'], str) and answer['token'] and isinstance(answer['warnings'], list) \
                and time.time() < answer['reusable_until']:
            return answer
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _answer_name(cache_dir, answer_key):
    """The entry name of an answer: a hash keyed with the cache's secret (BLAKE2b, a MAC), so it reveals nothing of the inputs.

    Only a private directory holds answers to give; the token cache (TokenCache)
    refuses any other with the reason, when the rules work the answer out.
    """
    status = os.lstat(cache_dir)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise OSError('not a private directory')
    secret = _read_private(os.path.join(cache_dir, 'cache.key'))  # the token cache's KEY_FILE, which it creates
    return 'answer-' + hashlib.blake2b(answer_key.encode('utf-8'), key=secret, digest_size=32).hexdigest()


def _digest(path):
    return hashlib.sha256(_read(path)).hexdigest()


def _read_private(path):
    """The bytes of a file of the token cache, never through a symbolic link."""
    return _read(path, getattr(os, 'O_NOFOLLOW', 0))


def _read(path, flags=0):
    # os.read rather than a file object: in a fresh worker each new kind of object costs (docs/performance.md).
    descriptor = os.open(path, os.O_RDONLY | flags)
    try:
        chunks = []
        while True:
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return b''.join(chunks)
            chunks.append(chunk)
    finally:
        os.close(descriptor)

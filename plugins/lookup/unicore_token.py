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
  - A site named by O(registry_url) and O(site) is looked up in the Registry at most once per playbook run (the listing is kept
    in the cache for at most 10 minutes), so N hosts times M tasks cost one Registry read as well.
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
      - Entries are C(0600) files named by a keyed hash, holding only issued tokens (and until when each may be given again), never a credential,
        and what a Registry listed (O(registry_url)), which is read again after 10 minutes.
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
  - While a cached token fits, no credential is read at all, so a vault-encrypted key file (or password) whose vault
    password is missing goes unnoticed until the token must be renewed. Test a changed vault setup with O(cache=false).
  - The token is returned in clear. Use C(no_log) on tasks that show or register it.
  - Ansible evaluates lookups on the controller in check mode too, so under C(--check) the lookup still issues a token
    when no cached one fits, as it must to return one. Nothing is changed on the hosts, but the site counts a token issued.
    Where that matters, skip the task in check mode with a C(when) condition on C(ansible_check_mode).
  - Using the lookup in a variable that many tasks read runs it once per read; the cache keeps that to one token,
    but setting the token once with C(ansible.builtin.set_fact) and C(run_once) saves the lookups too.
  - At C(-v) and above, the lookup says once per playbook run and token how it got the token, for which site, and until when
    (UTC), never the token itself. V(issued) a new one; V(renewed) the cached one, which had less than O(min_validity) left,
    or the renewable bearer token (O(token), O(token_file)) with itself; V(reused) the cached token, or the token of a remembered answer.
    For example, after the lookup's name, C(issued a token for https://host:8080/DEMO-SITE/rest/core
    \(CN=Demo User,O=UNICORE,C=EU\), valid until 2026-12-06T21:30:00Z).
  - The forks of a run agree on who says it through empty marker files in a private directory of the user's in the
    temporary directory (C(unicore.auth-<uid>-reported)), removed after a day. At verbosity 0 none of this is done.
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

import configparser
import hashlib
import json
import os
import re
import stat
import time

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

# The option definitions of DOCUMENTATION with its doc fragments merged in, as
# JSON; `make lookup-definitions` writes it from the documentation, and a unit
# test checks that the two agree.
OPTION_DEFINITIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'plugin_utils', '_unicore_token_options.json')

# Bump when what an answer depends on, or its entry, changes: older answers are then not found.
ANSWER_FORMAT = 4
# More than a token file may hold (_credentials.MAX_TOKEN_FILE_BYTES), so that a longer file is told apart too.
MAX_TOKEN_FILE_READ = 64 * 1024 + 1
# Without ca_path, these name the CA bundle that verifies the site (_connection_options._verify_setting).
CA_BUNDLE_ENVIRONMENT = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')
# The shape of a UNICORE token, the twin of _token_claims.TOKEN_SHAPE (a unit test keeps them equal): a
# remembered answer whose token has any other is no answer, and the rules, which check the whole token, work it out.
TOKEN_SHAPE = re.compile(r'[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+')


def _load_option_definitions():
    with open(OPTION_DEFINITIONS, encoding='utf-8') as handle:
        return json.load(handle)


def register_option_definitions(definitions):
    """Give Ansible the option definitions before its plugin loader parses the documentation; True when it took them.

    The one use of an ansible-core internal in the lookup:
    ``ConfigManager.initialize_plugin_configuration_definitions``, the same on
    ansible-core 2.16.19, 2.17.14, 2.18.19 and 2.19.14. The plugin loader parses DOCUMENTATION and its
    doc fragments as YAML for a plugin whose definitions are not registered yet,
    in every forked worker (docs/performance.md has what that costs). Where the
    internal is missing or takes other arguments, the loader parses the
    documentation as usual: slower, with the same options, which this plugin
    reads from ``definitions`` in any case.
    """
    register = getattr(C.config, 'initialize_plugin_configuration_definitions', None)
    if register is None:
        return False
    try:
        register('lookup', __name__, definitions)
    except TypeError:
        return False
    return True


def source_names(definitions, source):
    # Sorted, so that messages name variables in the same order every time.
    return tuple(sorted(set(entry['name'] for definition in definitions.values() for entry in definition.get(source) or [])))


DEFINITIONS = _load_option_definitions()
register_option_definitions(DEFINITIONS)
# The variable and environment names the options are read from.
OPTION_VARIABLES = source_names(DEFINITIONS, 'vars')
OPTION_ENVIRONMENT = source_names(DEFINITIONS, 'env')
INI_SECTION = 'unicore'


class LookupModule(LookupBase):
    """Answers from the remembered answers when it can, else works the answer out.

    Ansible loads this file in a fresh worker for every host and task. It is
    the one file of the collection that Python's bytecode cache serves there:
    Ansible's collection loader compiles every other module of a collection from
    source on each import (docs/performance.md). So this file captures the
    options' sources and looks up the answer remembered for exactly those
    inputs, and imports the collection's code only to work out an answer, where
    all the rules are (plugins/plugin_utils/_token_lookup.py).
    """

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError('unicore.auth.unicore_token takes no positional terms; give url= and the credential options')
        unknown = sorted(set(kwargs) - set(DEFINITIONS))
        if unknown:
            # Ansible would drop them silently: a misspelt lifetime= would give a token of the default lifetime.
            raise AnsibleLookupError('unicore.auth.unicore_token: unknown option(s) %s; the options are listed by '
                                     'ansible-doc -t lookup unicore.auth.unicore_token' % ', '.join(unknown))
        try:
            sources = capture_sources(self._templar, self._loader, variables or {}, kwargs)
        except HostFactError as error:
            raise AnsibleLookupError('unicore.auth.unicore_token: %s' % error)
        cache_dir = cache_directory(sources)
        answer_key = None if cache_dir is None else _answer_key(sources)
        answer = None if answer_key is None else remembered_answer(cache_dir, answer_key)
        if answer is None:
            answer = self._work_out_answer(sources, cache_dir, answer_key)
        else:
            for warning in answer['warnings']:
                _warn(warning)
            if Display().verbosity >= 1:
                _tell_remembered(sources, answer)
        return [answer['token']]

    def _work_out_answer(self, sources, cache_dir, answer_key):
        """The answer by the rules: the options resolved and checked, the token from the token cache or the site."""
        # Imported here: a remembered answer needs none of this (see the class's docstring).
        from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
        from ansible_collections.unicore.auth.plugins.plugin_utils._option_origins import origins, with_origins
        from ansible_collections.unicore.auth.plugins.plugin_utils._token_lookup import OptionSources, loader_file_reader, resolve_options, work_out_answer

        option_sources = OptionSources(**sources)
        try:
            options = resolve_options(DEFINITIONS, option_sources, file_reader=loader_file_reader(self._loader))
            return work_out_answer(options, cache_dir, answer_key, _warn)
        except UnicoreError as error:
            # Named as the user wrote them: "needs password (read from unicore_password or ...)".
            message = with_origins(error.message, DEFINITIONS, origins(DEFINITIONS, option_sources), sources['config_file'])
            raise AnsibleLookupError('unicore.auth.unicore_token: %s' % message)


def _tell_remembered(sources, answer):
    """At -v, once per run and token: that a remembered answer gave the token, for which site, until when."""
    # Imported at -v only, as the rules are: verbosity 0 costs nothing more.
    from ansible_collections.unicore.auth.plugins.plugin_utils._lookup_feedback import REMEMBERED, report

    report(REMEMBERED, told_site(sources), answer['token'])


def told_site(sources):
    """The site as the options name it, for what the lookup says at -v: its url, or its name in a Registry; None when neither is given.

    An answer is only remembered for options that name the site in one of these
    ways (the rules refuse both at once), as given: the Registry is not read here.
    """
    url, dummy = _first_given(sources, 'url')
    if url is not None and str(url).strip():
        return str(url).strip().rstrip('/')
    registry_url, dummy = _first_given(sources, 'registry_url')
    site, dummy = _first_given(sources, 'site')
    if registry_url is not None and site is not None:
        return 'site %s of the Registry %s' % (str(site).strip(), str(registry_url).strip().rstrip('/'))
    return None


def _warn(message):
    Display().warning('unicore.auth.unicore_token: %s' % message)


class HostFactError(Exception):
    """An option's variable is, or is templated from, a fact that the managed host reported."""


def capture_sources(templar, loader, variables, direct, variable_names=OPTION_VARIABLES, environment_names=OPTION_ENVIRONMENT):
    """The options' sources, as ``OptionSources`` takes them: ``{direct, variables, environment, ini, config_file}``.

    ``variables`` are the task's, as Ansible hands them to a lookup:
    untemplated (``"{{ vault_password }}"``), and with the facts the host
    reported among them. The unicore_options lookup captures its sources here
    too, so that both read options in one way.
    """
    return {'direct': direct,
            'variables': option_variables(templar, loader, variables, variable_names),
            'environment': dict((name, os.environ[name]) for name in environment_names if name in os.environ),
            'ini': _ini_section(C.CONFIG_FILE),
            'config_file': C.CONFIG_FILE}


def option_variables(templar, loader, variables, names):
    """The option variables (``unicore_*``) among ``variables``, templated without the host's facts; HostFactError for one that is a fact.

    A managed host chooses its facts: what it gathers, what its modules return,
    what the fact cache brings back. None of it may choose where the controller
    sends credentials or whose token it asks for, so a variable whose value is
    a fact of the host is refused, and the others are templated with the
    host's facts left out: a template that reads one fails as undefined.
    """
    given = [name for name in names if name in variables]
    if not given:
        return {}
    facts = variables.get('ansible_facts') or {}
    if not facts:
        return dict((name, templar.template(variables[name])) for name in given)
    host = variables.get('inventory_hostname', 'the host')
    reported = [name for name in given if name in facts and facts[name] == variables[name]]
    if reported:
        raise HostFactError('%s %s that host %s reported, and a managed host must never choose the options of the controller '
                            '(where credentials go, whose token is asked for). Find out why %s reports %s; a fact outranks the '
                            'inventory and the UNICORE_* environment variables, but not the play, role or extra vars'
                            % (_listed(reported), 'is a fact' if len(reported) == 1 else 'are facts', host, host,
                               'it' if len(reported) == 1 else 'them'))
    fact_free = templar_without_facts(templar, loader, variables, facts)
    templated = {}
    for name in given:
        try:
            templated[name] = fact_free.template(variables[name])
        except AnsibleError as error:
            raise HostFactError('%s cannot be templated without the facts that host %s reported (%s): options are never taken from '
                                'a managed host\'s facts. Give what the template reads a name that no fact of %s has'
                                % (name, host, getattr(error, 'message', error), host))
    return templated


def _listed(names):
    return names[0] if len(names) == 1 else '%s and %s' % (', '.join(names[:-1]), names[-1])


def templar_without_facts(templar, loader, variables, facts):
    """A templar whose variables are ``variables`` without the host's facts.

    Facts are in ``ansible_facts`` (named without their ``ansible_`` prefix)
    and, as Ansible injects them, at the top level under their own names;
    ``vars`` holds them all again. ``Templar.copy_with_new_env`` keeps the
    task's templating settings (checked on ansible-core 2.16.19, 2.17.14,
    2.18.19 and 2.19.14); where it is missing, a new ``Templar`` with the same loader does.
    """
    kept = dict((name, value) for name, value in variables.items()
                if name not in ('ansible_facts', 'vars') and name not in facts
                and not (name.startswith('ansible_') and name[len('ansible_'):] in facts))
    copy = getattr(templar, 'copy_with_new_env', None)
    if copy is not None:
        return copy(available_variables=kept)
    from ansible.template import Templar
    return Templar(loader=loader, variables=kept)


def _ini_section(config_file):
    """The ``[unicore]`` section of Ansible's config file as a dict of strings, read as Ansible reads the file."""
    if not config_file:
        return {}
    parser = configparser.ConfigParser(inline_comment_prefixes=(';',))
    try:
        with open(config_file, encoding='utf-8') as handle:
            parser.read_string(handle.read())
    except (OSError, UnicodeError, configparser.Error):
        return {}  # Ansible itself has read it, and said what was wrong
    section = parser.items(INI_SECTION) if parser.has_section(INI_SECTION) else ()
    # Ansible takes the quotes off a value in its ini file.
    return dict((key, value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in '\'"' else value) for key, value in section)


def _first_given(sources, name):
    """``(value, where)`` of one of the lookup's own options (cache, cache_dir) as ``OptionSources.raw_value`` finds it.

    Blank variables, environment and ini values count as not given; a unit test keeps the two alike.
    """
    if name in sources['direct']:
        return sources['direct'][name], 'direct'
    for source, key, where in ((sources['variables'], 'unicore_' + name, 'var'), (sources['environment'], 'UNICORE_' + name.upper(), 'env'),
                               (sources['ini'], name, 'ini')):
        value = source.get(key)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return value, where
    return None, None


def cache_directory(sources):
    """The token cache's directory (``cache_dir``, or its default place), or None with ``cache: false``.

    A ``cache`` that is neither true nor false gives None too: the rules refuse it, naming it.
    """
    cache, dummy = _first_given(sources, 'cache')
    if cache is not None:
        try:
            if not boolean(cache, strict=True):
                return None
        except TypeError:
            return None
    path, where = _first_given(sources, 'cache_dir')
    # A blank path given directly is not given either, rather than the current directory.
    if path is None or (isinstance(path, str) and not path.strip()):
        base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
        return os.path.join(base, 'unicore.auth', 'tokens')
    path = os.path.expanduser(os.path.expandvars(str(path).strip()))
    # As for every path option: one from the config file is relative to that file.
    base = os.path.dirname(sources['config_file']) if where == 'ini' and sources['config_file'] else os.getcwd()
    return os.path.normpath(os.path.join(base, path))


def _answer_key(sources):
    """Everything the answer depends on but time and the site, as text; None when it cannot be put in JSON.

    The options' sources as given, and what relative paths and the defaults
    depend on, and the CA bundles requests trusts when no ca_path is given. It
    holds the secrets, so it is only ever hashed.
    """
    try:
        return json.dumps({'format': ANSWER_FORMAT, 'sources': sources, 'cwd': os.getcwd(), 'home': os.environ.get('HOME'),
                           'ca_bundles': [os.environ.get(name) for name in CA_BUNDLE_ENVIRONMENT],
                           'token_files': _token_files(sources)},
                          sort_keys=True, separators=(',', ':'), default=str)
    except (OSError, TypeError, ValueError):
        return None


def _token_files(sources):
    """A digest of each file that a source names as token_file: a token read from a file is only answered while the file is unchanged.

    Every source's value counts, not only the one that wins, so that this
    needs none of the rules of precedence; a file that cannot be read here is
    left to the rules to report.
    """
    named = [sources['direct'].get('token_file'), sources['variables'].get('unicore_token_file'),
             sources['environment'].get('UNICORE_TOKEN_FILE'), sources['ini'].get('token_file')]
    digests = {}
    for path in (str(value) for value in named if value):
        with open(os.path.expanduser(path), 'rb') as token_file:
            digests[path] = hashlib.blake2b(token_file.read(MAX_TOKEN_FILE_READ)).hexdigest()
    return digests


def remembered_answer(cache_dir, answer_key):
    """The answer remembered for ``answer_key`` while it may still be given, else None.

    Anything unusual (a directory that is not private, no key yet, a damaged or
    stale entry) is left to the rules, which report or repair it.
    """
    try:
        answer = json.loads(_read_private(os.path.join(cache_dir, answer_name(cache_dir, answer_key))))
        # Only a token of a UNICORE token's shape is given: one with a line break would add a line wherever it is written.
        if isinstance(answer['token'], str) and TOKEN_SHAPE.fullmatch(answer['token']) and isinstance(answer['warnings'], list) \
                and time.time() < answer['reusable_until']:
            return answer
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def answer_name(cache_dir, answer_key):
    """The name TokenCache gives the answer entry for ``answer_key`` (its ``entry_name(key, 'answer', answer_key)``).

    Only a private directory holds answers to give; TokenCache refuses any
    other with the reason, when the rules work the answer out.
    """
    status = os.lstat(cache_dir)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise OSError('not a private directory')
    key = _read_private(os.path.join(cache_dir, 'cache.key'))  # TokenCache's KEY_FILE, which it creates
    return 'answer-' + hashlib.blake2b(answer_key.encode('utf-8'), key=key, digest_size=32).hexdigest()


def _read_private(path):
    """The bytes of a file of the token cache, never through a symbolic link."""
    # os.read rather than a file object: in a fresh worker each new kind of object costs (docs/performance.md).
    descriptor = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
    try:
        chunks = []
        while True:
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return b''.join(chunks)
            chunks.append(chunk)
    finally:
        os.close(descriptor)

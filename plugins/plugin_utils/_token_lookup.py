# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller-side plugins do beyond a remembered answer: options from their sources, a token from the cache or the site
(internal to the collection).

The unicore_token lookup comes here when no remembered answer serves; the
unicore_options lookup comes here for the option values the roles and
playbooks pass on. Both resolve options in the one way documented for the
lookup: a direct argument, else the ``unicore_*`` variable, else the
``UNICORE_*`` environment variable, else the ``[unicore]`` section of
``ansible.cfg``, else the documented default. A blank value counts as not
given (AWX injects an empty string for an input left blank).
"""

from __future__ import annotations

import os
import time

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.display import Display

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import connection_keywords, connection_settings
from ansible_collections.unicore.auth.plugins.module_utils._credentials import resolve_identity_path
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._kept_token import reason_to_replace
from ansible_collections.unicore.auth.plugins.module_utils._login_identity import login_fields, verify_fields
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter, is_blank
from ansible_collections.unicore.auth.plugins.module_utils._registry import (
    Registry,
    checked_registry_url,
    fetch_registry,
    options_with_site_url,
    site_in_registry,
)
from ansible_collections.unicore.auth.plugins.module_utils._site_clock import offset_warning
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest
from ansible_collections.unicore.auth.plugins.module_utils._urls import checked_site_url
from ansible_collections.unicore.auth.plugins.plugin_utils._token_cache import TokenCache


class OptionSources:
    """The places an option's value may come from, captured once per lookup call (by ``unicore_token.capture_sources``).

    ``direct``: the lookup's keyword arguments; ``variables``: the templated
    ``unicore_*`` variables; ``environment``: the ``UNICORE_*`` environment
    variables; ``ini``: the ``[unicore]`` section of ``config_file``
    (Ansible's config file). Blank values are left out, as not given, except
    direct ones: an argument given as ``''`` means "none".
    """

    def __init__(self, direct, variables, environment, ini, config_file=None):
        self.direct = dict(direct)
        self.variables = _given(variables)
        self.environment = _given(environment)
        self.ini = _given(ini)
        self.config_file = config_file

    def raw_value(self, name, definition):
        """``(value, where)`` of the option as its first source in precedence gives it; ``(None, None)`` when none does."""
        value, where, dummy_key = self.found(name, definition)
        return value, where

    def found(self, name, definition):
        """``(value, where, key)``: the option's value from its first source in precedence, that source
        (``direct``, ``var``, ``env``, ``ini``) and the option's name there; ``(None, None, None)`` when none gives it."""
        if name in self.direct:
            return self.direct[name], 'direct', name
        for source, names, where in ((self.variables, definition.get('vars'), 'var'),
                                     (self.environment, definition.get('env'), 'env'),
                                     (self.ini, definition.get('ini'), 'ini')):
            for entry in names or ():
                key = entry['key'] if where == 'ini' else entry['name']
                if key in source:
                    return source[key], where, key
        return None, None, None


def _given(values):
    return dict((name, value) for name, value in values.items() if not is_blank(value))


def resolve_options(definitions, sources, file_reader=None, only_given=False):
    """The options as an OptionAdapter: each from its first source, typed and checked; UnicoreError naming the option.

    With ``only_given``, a dict of the options some source gives, and nothing else.
    """
    values = {}
    for name, definition in definitions.items():
        raw, where = sources.raw_value(name, definition)
        if raw is None and only_given:
            continue
        values[name] = typed_value(name, definition, definition.get('default') if raw is None else raw, where, sources.config_file)
    return values if only_given else OptionAdapter.from_dict(values, file_reader=file_reader)


def typed_value(name, definition, value, where, config_file):
    """``value`` as the option's documented type; None for a blank value."""
    if is_blank(value):
        return None
    kind = definition.get('type', 'str')
    if kind == 'bool':
        return _boolean(name, value)
    if kind == 'int':
        value = _integer(name, value)
    elif kind == 'path':
        value = _path(name, value, where, config_file)
    elif kind == 'str':
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise UnicoreError('%s must be a string, got a %s' % (name, type(value).__name__))
        value = str(value)  # ansible-core 2.19 hands tagged str subclasses around
    choices = definition.get('choices')
    if choices and value not in choices:
        raise UnicoreError('%s must be one of %s, got %r' % (name, ', '.join(choices), value))
    return value


def _boolean(name, value):
    """Only true or false in their usual spellings: Ansible's lenient conversion takes "perhaps" for false."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise UnicoreError('%s must be a boolean (true or false), got %r' % (name, str(value)))


def _integer(name, value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise UnicoreError('%s must be a whole number (int), got %r' % (name, str(value)))


def _path(name, value, where, config_file):
    value = str(value).strip()
    if name == 'identity':
        # UNICORE's clients look for a relative key file under ~/.uftp/.
        return resolve_identity_path(value)
    value = os.path.expanduser(os.path.expandvars(value))
    # As Ansible does: a relative path in the config file is relative to that file.
    base = os.path.dirname(config_file) if where == 'ini' and config_file else os.getcwd()
    return os.path.normpath(os.path.join(base, value))


def cache_identity_fields(options, url, request, verify):
    """Everything that decides who a token is for and what it allows, as a dict of strings: the token cache's key.

    Secrets are part of it so that a wrong password never gets a token someone
    else cached; the cache only ever stores a keyed hash of it. ``verify`` is
    how the site's certificate is checked (``connection_settings``: the CA
    bundle, also one named by ``REQUESTS_CA_BUNDLE``): a token is only ever
    given to a run that trusts the same certificates as the run it was issued to.
    """
    fields = login_fields(options)
    fields.update(verify_fields(verify))
    fields.update(url=url, preferences=request.preferences, lifetime=request.lifetime, renewable=request.renewable, limited=request.limited)
    return fields


def work_out_answer(options, cache_dir, answer_key, warn):
    """The lookup's answer by the rules: ``{'token', 'reusable_until', 'warnings'}``.

    The token comes from the token cache in ``cache_dir`` (issued at most once
    per cache entry), or from the site with ``cache_dir`` None. An answer that
    may be given again is remembered under ``answer_key`` (None: not at all).
    """
    warnings = []
    # What the lookup says at -v (_lookup_feedback), imported only then: verbosity 0 costs nothing more.
    feedback = None
    if Display().verbosity >= 1:
        from ansible_collections.unicore.auth.plugins.plugin_utils import _lookup_feedback as feedback

    def warn_now(text):
        warn(text)  # at once: also when no token comes of it
        warnings.append(text)

    # What needs no request first: where the site is (a url given, with its http:// warning), the request asked for.
    in_registry = site_in_registry(options) is not None
    if not in_registry:
        options = options_with_site_url(options, warn_now)
    request = TokenRequest.from_options(options)
    request.validate()
    verify = connection_settings(**connection_keywords(options))[2]
    # A token got without checking the site's certificate may come from anyone: it is never kept, nor given again.
    cache = None if cache_dir is None or verify is False else TokenCache(cache_dir)
    if in_registry:
        options = options_with_site_url(options, warn_now, read=registry_reader(cache, verify))
    url = checked_site_url(options.get_option('url'))
    renews_given_token = []

    def issue():
        # Imported on a cache miss only: a hit costs no key loading, no import of
        # requests or cryptography, and no request.
        from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient, transport_from_options
        from ansible_collections.unicore.auth.plugins.module_utils._credentials import credential_from_options

        credential = credential_from_options(options)
        client = UnicoreClient(url, transport_from_options(options, credential))
        try:
            token = request.issue(client)
        finally:
            client.transport.close()
        skew = offset_warning(client.clock_offset, url)
        if skew:
            # Once, where the token is issued; not among the answer's warnings, which are given with every reuse.
            warn(skew)
        if feedback is not None and is_renewable_unicore_token(credential):
            renews_given_token.append(True)
        return token, token_info(token)['iss'], client.clock_offset

    told = []

    def tell_issued(token, replaced):
        """At -v, once per run and token: issued, or renewed (a cached token grown too old, or the given one with itself)."""
        reason = None
        if replaced is not None:
            outcome, reason = feedback.RENEWED_CACHED, reason_to_replace(request, replaced)
        elif renews_given_token:
            outcome = feedback.RENEWED_GIVEN
        else:
            outcome = feedback.ISSUED
        feedback.report(outcome, url, token, reason)
        told.append(outcome)

    if cache is None:
        token, dummy_issuer, offset = issue()
        if feedback is not None:
            tell_issued(token, None)
    else:
        token, offset = cache.get_or_issue(cache_identity_fields(options, url, request, verify), request, issue,
                                           issued=None if feedback is None else tell_issued)
        if feedback is not None and not told:
            feedback.report(feedback.CACHED, url, token)
    # On this machine's clock: until when the site's clock says the token is still valid for min_validity.
    reusable_until = request.reusable_until(token_info(token))
    if reusable_until is not None:
        reusable_until -= offset
    answer = {'token': token, 'reusable_until': reusable_until, 'warnings': warnings}
    if cache is not None and answer_key is not None and reusable_until is not None and reusable_until > time.time():
        cache.remember(answer_key, answer)
    if cache is not None and cache.unkept is not None:
        # Once, after every write was tried; not among the answer's warnings, which are kept with it.
        warn(cache.unkept_warning())
    return answer


def is_renewable_unicore_token(credential):
    """True when ``credential`` is a renewable UNICORE token sent as the bearer token: what the site issues then is its renewal.

    The site refuses a non-renewable UNICORE token here (403), and an OIDC access
    token carries no ``renewable`` claim.
    """
    if getattr(credential, 'method', None) != 'bearer':
        return False
    try:
        return token_info(credential.token)['renewable']
    except UnicoreError:
        return False


def site_url_in_registry(options, cache_dir, warn):
    """The url of the site that ``registry_url`` + ``site`` name, with the Registry kept in the token cache in ``cache_dir`` (None: not kept)."""
    verify = connection_settings(**connection_keywords(options))[2]
    cache = None if cache_dir is None or verify is False else TokenCache(cache_dir)
    url = options_with_site_url(options, warn, read=registry_reader(cache, verify)).get_option('url')
    if cache is not None and cache.unkept is not None:
        warn(cache.unkept_warning('what the Registry listed', 'the Registry'))
    return url


def registry_reader(cache, verify):
    """``read(options, warn)`` for ``options_with_site_url``: the Registry as the token cache keeps it, read when it has no fresh copy.

    Kept by its url and how it is read: the certificates it is checked with
    and, with ``registry_auth``, the login, whose listing may differ.
    """
    def read(options, warn):
        registry_url = checked_registry_url(options, warn)
        if cache is None:
            return fetch_registry(options, registry_url)
        identity = dict(verify_fields(verify), registry_url=registry_url, registry_auth=bool(options.get_option_default('registry_auth', False)))
        if identity['registry_auth']:
            identity['login'] = login_fields(options)

        def fetch():
            registry = fetch_registry(options, registry_url)
            return registry.url, registry.entries
        return Registry(*cache.get_or_read_registry(identity, fetch))
    return read


def loader_file_reader(loader):
    """``read(path)``: a file's bytes through Ansible's loader, which decrypts a vault-encrypted file."""
    def read(path):
        try:
            return read_through_loader(loader, str(path))
        except AnsibleError as error:
            raise OSError(getattr(error, 'message', None) or 'cannot be read')
    return read


def read_through_loader(loader, path):
    """The bytes of ``path``, vault-decrypted in memory by the loader.

    ``DataLoader.get_text_file_contents`` is public from ansible-core 2.19 on
    (checked on 2.19.14; 2.16.19, 2.17.14 and 2.18.19 lack it). There the public way is
    ``get_real_file``, which decrypts a vaulted file into a private temporary
    copy that ``cleanup_tmp_file`` removes at once.
    """
    read_text = getattr(loader, 'get_text_file_contents', None)
    if read_text is not None:
        return read_text(path).encode('utf-8')
    real_path = loader.get_real_file(path, decrypt=True)
    try:
        with open(real_path, 'rb') as handle:
            return handle.read()
    finally:
        loader.cleanup_tmp_file(real_path)

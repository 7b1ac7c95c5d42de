# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token doc fragment, and the modules' and the lookup's documented options against what their code really takes.

Documentation is merged the way Ansible merges it (``add_fragments``); only the
lookup of fragments by name is a stand-in, because that needs the collection finder.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util

import pytest
import yaml

from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.plugins.doc_fragments import action_common_attributes
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.unicore.auth.plugins.doc_fragments import connection, credentials, token
from ansible_collections.unicore.auth.plugins.lookup import unicore_token as lookup_plugin
from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import TOKEN_ARGUMENT_SPEC, unicore_argument_spec
from ansible_collections.unicore.auth.plugins.module_utils._credentials import CREDENTIAL_OPTIONS
from ansible_collections.unicore.auth.plugins.modules import unicore_access_info, unicore_auth_token
from ansible_collections.unicore.auth.tests.unit.plugins.ansible_core_compat import trust_as_template

COLLECTION_PACKAGE = 'ansible_collections.unicore.auth.plugins'
FRAGMENTS = {
    'unicore.auth.connection': connection.ModuleDocFragment,
    'unicore.auth.credentials': credentials.ModuleDocFragment,
    'unicore.auth.token': token.ModuleDocFragment,
    'ansible.builtin.action_common_attributes': action_common_attributes.ModuleDocFragment,
}
MODULES = {'unicore_access_info': unicore_access_info, 'unicore_auth_token': unicore_auth_token}


class FragmentLoader:
    """Finds doc fragments by FQCN, as the real fragment loader does."""

    def get(self, name, *args, **kwargs):
        fragment = FRAGMENTS.get(name)
        return None if fragment is None else type('ModuleDocFragment', (fragment,), {'ansible_name': name})


def merged_documentation(plugin):
    documentation = yaml.load(trust_as_template(plugin.DOCUMENTATION), Loader=AnsibleLoader)
    add_fragments(documentation, plugin.__file__, fragment_loader=FragmentLoader(), is_module=plugin.__name__.split('.')[-2] == 'modules')
    return documentation


def described(doc):
    """What a documented option promises: type, default, required, choices, elements."""
    return (doc.get('type', 'str'), doc.get('default'), bool(doc.get('required')), doc.get('choices'), doc.get('elements'))


def declared(spec):
    return (spec.get('type', 'str'), spec.get('default'), bool(spec.get('required')), spec.get('choices'), spec.get('elements'))


def token_fragment(section):
    return yaml.safe_load(getattr(token.ModuleDocFragment, section))['options']


# ---------------------------------------------------------------- the token fragment

def test_the_token_fragment_documents_exactly_the_token_argument_spec():
    documented = token_fragment('DOCUMENTATION')
    assert sorted(documented) == sorted(TOKEN_ARGUMENT_SPEC)
    for name, doc in documented.items():
        assert described(doc) == declared(TOKEN_ARGUMENT_SPEC[name]), name
        assert doc.get('description'), name


def test_the_token_options_are_not_also_in_the_shared_spec():
    assert set(TOKEN_ARGUMENT_SPEC) & set(unicore_argument_spec()) == set()


def test_the_token_fragments_plugins_section_covers_exactly_its_options():
    assert sorted(token_fragment('PLUGINS')) == sorted(token_fragment('DOCUMENTATION'))


@pytest.mark.parametrize('name', sorted(TOKEN_ARGUMENT_SPEC))
def test_every_token_option_reads_unicore_env_var_unicore_var_and_ini_section(name):
    # UNICORE_<OPTION>, never an ANSIBLE_ prefix: AWX refuses to inject those.
    sources = token_fragment('PLUGINS')[name]
    assert sources == {'env': [{'name': 'UNICORE_%s' % name.upper()}],
                       'vars': [{'name': 'unicore_%s' % name}],
                       'ini': [{'section': 'unicore', 'key': name}]}


# ---------------------------------------------------------------- modules: documentation = argument spec

class SpecCaptured(Exception):
    pass


def real_argument_spec(module, monkeypatch):
    """The argument spec ``main()`` builds: what it hands to ``unicore_module``, merged as unicore_module merges it."""
    captured = {}

    def capture(extra_options, **module_kwargs):
        captured.update(spec=unicore_argument_spec(**extra_options), kwargs=module_kwargs)
        raise SpecCaptured()
    monkeypatch.setattr(module, 'unicore_module', capture)
    with pytest.raises(SpecCaptured):
        module.main()
    return captured['spec'], captured['kwargs']


@pytest.mark.parametrize('name', sorted(MODULES))
def test_each_module_documents_exactly_its_argument_spec(name, monkeypatch):
    spec, dummy = real_argument_spec(MODULES[name], monkeypatch)
    documented = merged_documentation(MODULES[name])['options']
    assert sorted(documented) == sorted(spec)
    for option, doc in documented.items():
        assert described(doc) == declared(spec[option]), option
        assert doc.get('description'), option


@pytest.mark.parametrize('name, fragments', [
    ('unicore_access_info', ['unicore.auth.connection', 'unicore.auth.credentials']),
    ('unicore_auth_token', ['unicore.auth.connection', 'unicore.auth.credentials', 'unicore.auth.token']),
])
def test_each_module_uses_the_shared_fragments_and_not_their_plugins_sections(name, fragments):
    used = yaml.safe_load(MODULES[name].DOCUMENTATION)['extends_documentation_fragment']
    assert [fragment for fragment in used if fragment.startswith('unicore.auth.')] == fragments


def test_the_token_module_takes_the_token_options_from_the_shared_spec(monkeypatch):
    spec, kwargs = real_argument_spec(unicore_auth_token, monkeypatch)
    for name, option in TOKEN_ARGUMENT_SPEC.items():
        assert spec[name] == option, name
    assert kwargs == {'required_if': [('state', 'absent', ['dest'])]}


def test_the_secrets_of_the_modules_are_no_log_and_nothing_else_is(monkeypatch):
    for module in MODULES.values():
        spec, dummy = real_argument_spec(module, monkeypatch)
        assert {name for name, option in spec.items() if option.get('no_log')} == {
            'password', 'token', 'identity_content', 'identity_passphrase', 'hmac_secret', 'oidc_client_secret', 'oidc_otp', 'oidc_refresh_token'}


# ---------------------------------------------------------------- the lookup: documentation = what it reads

# The option adapter's readers, and the plugin file's reader of its own options (cache, cache_dir) from their sources.
READERS = ('get_option', 'get_option_default', 'get_given', '_first_given')


def _source_path(module_name):
    return importlib.import_module(module_name).__file__


def _collection_imports(tree):
    """The collection modules a file imports, at the top or inside functions (lazy imports count)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(COLLECTION_PACKAGE + '.'):
            for alias in node.names:
                # "from package import module" imports that module; "from module import name" the module itself.
                submodule = '%s.%s' % (node.module, alias.name)
                yield submodule if _is_module(submodule) else node.module


def _is_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False  # a name inside a module, not a module


def _called_name(func):
    """``get_option`` for ``options.get_option(...)`` and for a local ``get_option(...)``."""
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', None)


def options_read_by(module_name):
    """Every option name the module and the collection code it imports read through the option adapter."""
    seen, pending, names = set(), [module_name], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        with open(_source_path(current), encoding='utf-8') as handle:
            tree = ast.parse(handle.read())
        pending.extend(_collection_imports(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node.func) in READERS:
                # The option's name is the first string given (_first_given takes the sources first).
                given = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
                names.update(given[:1])
    return names, seen


def test_the_lookup_documents_exactly_the_options_its_code_reads():
    read, modules = options_read_by(lookup_plugin.__name__)
    assert COLLECTION_PACKAGE + '.module_utils._jwt_credentials' in modules  # the lazily imported credential kinds count
    # The lookup's cache identity reads the credential options by name from a tuple.
    read |= set(CREDENTIAL_OPTIONS)
    documented = merged_documentation(lookup_plugin)['options']
    assert sorted(read) == sorted(documented)


def test_the_lookup_documents_the_shared_and_token_options_like_the_modules():
    documented = merged_documentation(lookup_plugin)['options']
    for name, spec in dict(unicore_argument_spec(), **TOKEN_ARGUMENT_SPEC).items():
        assert described(documented[name]) == declared(spec), name


def test_every_lookup_option_reads_unicore_env_var_unicore_var_and_ini_section():
    for name, doc in merged_documentation(lookup_plugin)['options'].items():
        assert doc.get('env') == [{'name': 'UNICORE_%s' % name.upper()}], name
        assert doc.get('vars') == [{'name': 'unicore_%s' % name}], name
        assert doc.get('ini') == [{'section': 'unicore', 'key': name}], name


def test_the_module_only_options_are_not_lookup_options(monkeypatch):
    documented = set(merged_documentation(lookup_plugin)['options'])
    for module in MODULES.values():
        spec, dummy = real_argument_spec(module, monkeypatch)
        module_only = set(spec) - set(unicore_argument_spec()) - set(TOKEN_ARGUMENT_SPEC)
        assert module_only and not module_only & documented

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option adapter reads module params and plugin options alike."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter


class FakePlugin:
    """Behaves like AnsiblePlugin.get_option/set_option: KeyError for an option it does not define."""

    def __init__(self, **defined):
        self._options = dict(defined)

    def get_option(self, name):
        if name not in self._options:
            raise KeyError('Requested entry (plugin_type: lookup plugin: fake, setting: %s ) was not defined' % name)
        return self._options[name]

    def set_option(self, name, value):
        self._options[name] = value


class FakeModule:
    def __init__(self, **params):
        self.params = params


def adapter_over(kind, **values):
    if kind == 'dict':
        return OptionAdapter.from_dict(dict(values))
    if kind == 'module':
        return OptionAdapter.from_ansible_module(FakeModule(**values))
    return OptionAdapter.from_plugin(FakePlugin(**values))


ADAPTER_KINDS = ('dict', 'module', 'plugin')


@pytest.mark.parametrize('kind', ADAPTER_KINDS)
def test_get_option_returns_the_value_as_given(kind):
    options = adapter_over(kind, url='https://site.example/rest/core', timeout=30, password='')
    assert options.get_option('url') == 'https://site.example/rest/core'
    assert options.get_option('timeout') == 30
    assert options.get_option('password') == ''


@pytest.mark.parametrize('kind', ADAPTER_KINDS)
def test_get_option_of_an_undefined_option_raises_key_error(kind):
    with pytest.raises(KeyError):
        adapter_over(kind, url='https://site.example').get_option('no_such_option')


@pytest.mark.parametrize('kind', ADAPTER_KINDS)
def test_has_option_tells_defined_from_undefined_options(kind):
    options = adapter_over(kind, token=None)
    assert options.has_option('token') is True
    assert options.has_option('no_such_option') is False


@pytest.mark.parametrize('kind', ADAPTER_KINDS)
def test_get_option_default_falls_back_for_undefined_and_none(kind):
    options = adapter_over(kind, retries=None, timeout=5)
    assert options.get_option_default('retries', 3) == 3
    assert options.get_option_default('no_such_option', 'fallback') == 'fallback'
    assert options.get_option_default('timeout', 30) == 5


@pytest.mark.parametrize('kind', ADAPTER_KINDS)
def test_get_given_treats_empty_string_as_unset(kind):
    # AWX injects '' for a credential field the user left blank.
    options = adapter_over(kind, password='', token=None, username='alice')
    assert options.get_given('password') is None
    assert options.get_given('token') is None
    assert options.get_given('no_such_option') is None
    assert options.get_given('username') == 'alice'


@pytest.mark.parametrize('kind', ADAPTER_KINDS)
def test_get_given_keeps_false_and_zero(kind):
    options = adapter_over(kind, validate_certs=False, retries=0)
    assert options.get_given('validate_certs') is False
    assert options.get_given('retries') == 0


def test_set_option_on_a_dict_adapter_changes_the_dict():
    params = {'token': None}
    OptionAdapter.from_dict(params).set_option('token', 'abc')
    assert params == {'token': 'abc'}


def test_set_option_on_a_plugin_adapter_goes_to_the_plugin():
    plugin = FakePlugin(token=None)
    options = OptionAdapter.from_plugin(plugin)
    options.set_option('token', 'abc')
    assert plugin.get_option('token') == 'abc'
    assert options.get_given('token') == 'abc'

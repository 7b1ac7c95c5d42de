# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option adapter reads module params and a plugin's resolved options alike, and what counts as blank."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter, is_blank


class FakeModule:
    def __init__(self, **params):
        self.params = params


def adapter_over(kind, **values):
    if kind == 'dict':
        return OptionAdapter.from_dict(dict(values))
    return OptionAdapter.from_ansible_module(FakeModule(**values))


ADAPTER_KINDS = ('dict', 'module')


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


@pytest.mark.parametrize('kind', ADAPTER_KINDS)
def test_get_given_keeps_a_value_of_only_white_space_for_the_check_of_that_option(kind):
    # identity_content of blank lines must be refused as an empty key, not taken for no key at all.
    assert adapter_over(kind, identity_content='   \n').get_given('identity_content') == '   \n'


def test_files_are_read_plainly_by_default(tmp_path):
    (tmp_path / 'key.pem').write_bytes(b'key bytes')
    assert OptionAdapter.from_dict({}).read_file(str(tmp_path / 'key.pem')) == b'key bytes'


def test_a_key_file_kept_as_a_link_is_read_through_it(tmp_path):
    # Mounted secrets and dotfile managers keep keys as links; the lookup's loader follows them too.
    (tmp_path / 'key.pem').write_bytes(b'key bytes')
    (tmp_path / 'link.pem').symlink_to(tmp_path / 'key.pem')
    assert OptionAdapter.from_dict({}).read_file(str(tmp_path / 'link.pem')) == b'key bytes'


def test_a_dict_adapter_reads_files_with_the_reader_it_is_given():
    options = OptionAdapter.from_dict({'identity': '/vault/key'}, file_reader=lambda path: b'decrypted ' + path.encode())
    assert options.read_file(options.get_option('identity')) == b'decrypted /vault/key'


# ---------------------------------------------------------------- is_blank

@pytest.mark.parametrize('value', [None, '', ' ', '\t\n', '  \r\n  '])
def test_none_and_strings_of_only_white_space_are_blank(value):
    assert is_blank(value) is True


@pytest.mark.parametrize('value', ['a', ' a ', 0, False, [], {}])
def test_anything_with_content_and_every_non_string_is_not_blank(value):
    assert is_blank(value) is False

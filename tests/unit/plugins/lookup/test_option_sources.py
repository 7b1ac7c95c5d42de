# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup's options from their sources: variables templated, direct values as given, the key file read by the loader.

The lookup is a real ``LookupModule`` with a real DataLoader and Templar; its
sources are captured as it captures them and resolved as it resolves them
when it works an answer out.
"""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleLookupError
from ansible.release import __version__ as ansible_version

from ansible_collections.unicore.auth.plugins.module_utils._credentials import credential_from_options
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.lookup import unicore_token
from ansible_collections.unicore.auth.plugins.plugin_utils._token_lookup import OptionSources, loader_file_reader, resolve_options
from ansible_collections.unicore.auth.tests.unit.plugins.ansible_core_compat import trust_as_template

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
KEY_TEXT = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n'


def variables(**values):
    """Play variables as Ansible holds them: strings read from a playbook are trusted templates."""
    return dict((name, trust_as_template(value) if isinstance(value, str) else value) for name, value in values.items())


def options_for(make_lookup, play_vars, **direct):
    """The options as the lookup reads and checks them before it works out an answer."""
    lookup = make_lookup(play_vars)
    sources = OptionSources(**unicore_token.capture_sources(lookup._templar, lookup._loader, play_vars, direct))
    return resolve_options(unicore_token.DEFINITIONS, sources, file_reader=loader_file_reader(lookup._loader))


# ---------------------------------------------------------------- templating

def test_the_option_definitions_are_the_documented_ones():
    assert {'url', 'password', 'identity', 'lifetime', 'cache', 'cache_dir'} <= set(unicore_token.DEFINITIONS)


def test_values_from_variables_are_templated(make_lookup):
    play_vars = variables(unicore_url='{{ site }}', site=SITE, unicore_username='demouser',
                          unicore_password='{{ vault_unicore_password }}', vault_unicore_password='Pässw0rd from vault')
    options = options_for(make_lookup, play_vars)
    assert options.get_option('url') == SITE
    assert options.get_option('username') == 'demouser'
    assert options.get_option('password') == 'Pässw0rd from vault'


def test_a_path_option_from_a_variable_is_templated_from_the_raw_variable_without_a_directory_prefix(make_lookup, tmp_path):
    play_vars = variables(unicore_url=SITE, unicore_ca_path='{{ site_ca }}', site_ca='/etc/pki/unicore/site-ca.pem',
                          unicore_cache_dir='{{ cache_root }}/tokens', cache_root=str(tmp_path))
    options = options_for(make_lookup, play_vars)
    assert options.get_option('ca_path') == '/etc/pki/unicore/site-ca.pem'
    assert options.get_option('cache_dir') == str(tmp_path / 'tokens')


@pytest.mark.parametrize('name, template, expected', [
    ('lifetime', '{{ 2 * 3600 }}', 7200),
    ('min_validity', '{{ token_margin }}', 600),
    ('validate_certs', '{{ not insecure }}', True),
    ('limited', '{{ insecure }}', False),
])
def test_typed_options_from_templated_variables_get_the_templated_value(make_lookup, name, template, expected):
    play_vars = variables(unicore_url=SITE, insecure=False, token_margin=600, **{'unicore_%s' % name: template})
    assert options_for(make_lookup, play_vars).get_option(name) == expected


def test_direct_values_are_not_templated_again(make_lookup):
    # Ansible has already templated the lookup's arguments; a password that looks like a template stays as it is.
    play_vars = variables(unicore_password='{{ from_vars }}', from_vars='not this one')
    options = options_for(make_lookup, play_vars, url=SITE, username='demouser', password='{{ literally }}')
    assert options.get_option('password') == '{{ literally }}'


def test_a_direct_value_wins_over_a_variable_which_wins_over_the_environment(make_lookup, monkeypatch):
    monkeypatch.setenv('UNICORE_USERNAME', 'from-env')
    monkeypatch.setenv('UNICORE_URL', SITE)
    assert options_for(make_lookup, {}).get_option('username') == 'from-env'
    assert options_for(make_lookup, variables(unicore_username='from-vars')).get_option('username') == 'from-vars'
    assert options_for(make_lookup, variables(unicore_username='from-vars'), username='direct').get_option('username') == 'direct'


# ---------------------------------------------------------------- options Ansible would take silently

def test_a_misspelt_option_is_refused_naming_it(make_lookup):
    with pytest.raises(AnsibleLookupError) as error:
        make_lookup({}).run([], variables={}, url=SITE, lifetme=600, renewble=True)
    assert str(error.value).startswith('unicore.auth.unicore_token: unknown option(s) lifetme, renewble; ')


@pytest.mark.parametrize('source', ['direct', 'vars', 'env'])
def test_a_flag_that_is_neither_true_nor_false_is_refused_from_every_source(make_lookup, monkeypatch, source):
    # Ansible's lenient conversion would take "perhaps" for false and issue an unlimited token.
    direct = {'url': SITE}
    play_vars = {}
    if source == 'direct':
        direct['limited'] = 'perhaps'
    elif source == 'vars':
        play_vars = variables(unicore_limited='perhaps')
    else:
        monkeypatch.setenv('UNICORE_LIMITED', 'perhaps')
    with pytest.raises(UnicoreError) as error:
        options_for(make_lookup, play_vars, **direct)
    assert str(error.value) == "limited must be a boolean (true or false), got 'perhaps'"


@pytest.mark.parametrize('value, expected', [('yes', True), ('False', False), ('1', True), (False, False)])
def test_the_usual_spellings_of_true_and_false_are_taken(make_lookup, value, expected):
    assert options_for(make_lookup, {}, url=SITE, limited=value).get_option('limited') is expected


# ---------------------------------------------------------------- identity, read through the loader

@pytest.fixture
def vaulted_key(tmp_path, vault_encrypt):
    """A key file encrypted with ansible-vault, as users keep them beside a playbook."""
    path = tmp_path / 'id_ed25519.vault'
    path.write_bytes(vault_encrypt(KEY_TEXT))
    return path


def recorded(read, method):
    def record(path, *args, **kwargs):
        read.append(path)
        return method(path, *args, **kwargs)
    return record


@pytest.mark.parametrize('loader_api', ['get_text_file_contents', 'get_real_file'])
def test_identity_is_read_and_vault_decrypted_by_the_loader(make_lookup, vaulted_key, loader, monkeypatch, tmp_path, loader_api):
    # ansible-core 2.19 and later offer get_text_file_contents; before, get_real_file decrypts into a temporary copy
    if loader_api == 'get_real_file' and hasattr(type(loader), 'get_text_file_contents'):
        monkeypatch.delattr(type(loader), 'get_text_file_contents')
    elif loader_api == 'get_text_file_contents' and not hasattr(type(loader), 'get_text_file_contents'):
        pytest.skip('ansible-core %s has no DataLoader.get_text_file_contents' % ansible_version)
    read, decrypted = [], []
    monkeypatch.setattr(loader, '_get_file_contents', recorded(read, loader._get_file_contents))
    monkeypatch.setattr(loader, 'get_real_file', recorded(read, loader.get_real_file))
    monkeypatch.setattr(loader, 'cleanup_tmp_file', recorded(decrypted, loader.cleanup_tmp_file))
    options = options_for(make_lookup, {}, url=SITE, username='demouser', identity=str(vaulted_key))
    assert options.read_file(options.get_option('identity')).decode() == KEY_TEXT
    assert read and set(read) == {str(vaulted_key)}
    assert all(not os.path.exists(path) for path in decrypted)  # a decrypted copy is removed at once


def test_identity_from_a_templated_variable_is_read_too(make_lookup, vaulted_key):
    play_vars = variables(unicore_url=SITE, unicore_identity='{{ key_dir }}/id_ed25519.vault', key_dir=str(vaulted_key.parent))
    options = options_for(make_lookup, play_vars)
    assert options.get_option('identity') == str(vaulted_key)
    assert options.read_file(options.get_option('identity')).decode() == KEY_TEXT


def test_a_relative_identity_is_looked_up_under_dot_uftp_in_home(make_lookup, tmp_path, monkeypatch):
    # As documented for identity, and as the modules do: UNICORE's clients keep keys in ~/.uftp/.
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    (tmp_path / 'home' / '.uftp').mkdir(parents=True)
    (tmp_path / 'home' / '.uftp' / 'id_ed25519').write_text(KEY_TEXT)
    monkeypatch.chdir(tmp_path)
    options = options_for(make_lookup, {}, url=SITE, username='demouser', identity='id_ed25519')
    assert options.get_option('identity') == str(tmp_path / 'home' / '.uftp' / 'id_ed25519')


def test_identity_and_identity_content_together_are_refused(make_lookup, vaulted_key):
    options = options_for(make_lookup, {}, url=SITE, username='demouser', identity=str(vaulted_key), identity_content=KEY_TEXT)
    with pytest.raises(UnicoreError) as error:
        credential_from_options(options)
    assert str(error.value) == 'identity and identity_content are mutually exclusive; give the key once'


def test_an_unreadable_identity_names_the_option_and_the_path_and_nothing_else(make_lookup, tmp_path):
    missing = tmp_path / 'no-such-key'
    options = options_for(make_lookup, {}, url=SITE, username='demouser', identity=str(missing))
    with pytest.raises(UnicoreError) as error:
        credential_from_options(options)
    assert str(error.value) == 'identity: file %s does not exist' % missing


def test_a_blank_identity_beside_identity_content_is_not_given(make_lookup):
    # AWX injects an empty string for a credential input left blank.
    options = options_for(make_lookup, {}, url=SITE, identity='', identity_content=KEY_TEXT)
    assert options.get_option('identity_content') == KEY_TEXT


@pytest.mark.parametrize('name', ['identity', 'ca_path', 'client_cert', 'client_key', 'cache_dir'])
def test_a_blank_path_option_is_not_given_rather_than_the_current_directory(make_lookup, tmp_path, monkeypatch, name):
    # Empty strings count as not given (OptionAdapter.get_given), wherever they come from.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('UNICORE_%s' % name.upper(), '')
    assert options_for(make_lookup, {}, url=SITE).get_given(name) is None
    assert options_for(make_lookup, {}, url=SITE, **{name: ''}).get_given(name) is None


# ---------------------------------------------------------------- the lookup itself

def test_the_lookup_takes_no_positional_terms(make_lookup):
    with pytest.raises(AnsibleLookupError) as error:
        make_lookup({}).run(['https://site.example'], variables={}, url=SITE)
    assert 'takes no positional terms' in str(error.value)


def test_the_lookup_reports_a_collection_error_as_a_lookup_error_naming_itself(make_lookup, tmp_path):
    with pytest.raises(AnsibleLookupError) as error:
        make_lookup({}).run([], variables={}, url=SITE, username='demouser', password='Pässw0rd', lifetime=0,
                            cache_dir=str(tmp_path))
    assert str(error.value) == 'unicore.auth.unicore_token: lifetime must be a positive number of seconds, got 0'
    assert 'Pässw0rd' not in str(error.value)
    assert os.listdir(tmp_path) == []


def test_an_error_names_the_variable_an_option_came_from_and_where_a_missing_one_is_read(make_lookup, monkeypatch, tmp_path):
    monkeypatch.setenv('UNICORE_AUTH_METHOD', 'password')
    play_vars = variables(unicore_url=SITE, unicore_username='demouser')
    with pytest.raises(AnsibleLookupError) as error:
        make_lookup(play_vars).run([], variables=play_vars, cache_dir=str(tmp_path / 'cache'))
    assert str(error.value).endswith('unicore.auth.unicore_token: auth_method=password needs password (read from unicore_password or '
                                     'the environment variable UNICORE_PASSWORD)')


def test_an_error_about_a_direct_argument_is_as_the_call_wrote_it(make_lookup, tmp_path):
    with pytest.raises(AnsibleLookupError) as error:
        make_lookup({}).run([], variables={}, url=SITE, username='demouser', auth_method='password', cache_dir=str(tmp_path / 'cache'))
    # password was not given, so where it is read from is said; username and auth_method were written in the call
    assert str(error.value).endswith('auth_method=password needs password (read from unicore_password or the environment variable '
                                     'UNICORE_PASSWORD)')

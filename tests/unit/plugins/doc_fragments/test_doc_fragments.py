# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doc fragments document exactly the shared argument spec, and PLUGINS gives every option its sources."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.unicore.auth.plugins.doc_fragments import connection, credentials
from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import unicore_argument_spec

FRAGMENTS = {'connection': connection.ModuleDocFragment, 'credentials': credentials.ModuleDocFragment}


def fragment_options(fragment, section):
    return yaml.safe_load(getattr(fragment, section))['options']


def documented_options():
    options = {}
    for fragment in FRAGMENTS.values():
        section = fragment_options(fragment, 'DOCUMENTATION')
        assert not set(section) & set(options), 'an option is documented in both fragments'
        options.update(section)
    return options


def test_documented_option_names_equal_the_argument_spec_keys():
    assert sorted(documented_options()) == sorted(unicore_argument_spec())


def test_documented_types_defaults_required_and_choices_agree_with_the_argument_spec():
    spec = unicore_argument_spec()
    for name, doc in documented_options().items():
        documented = (doc.get('type', 'str'), doc.get('default'), bool(doc.get('required')), doc.get('choices'))
        declared = (spec[name].get('type', 'str'), spec[name].get('default'), bool(spec[name].get('required')),
                    spec[name].get('choices'))
        assert documented == declared, name


def test_every_option_has_a_description():
    assert [name for name, doc in documented_options().items() if not doc.get('description')] == []


def test_no_log_options_are_exactly_the_secrets():
    no_log = {name for name, spec in unicore_argument_spec().items() if spec.get('no_log')}
    assert no_log == {'password', 'token', 'identity_content', 'identity_passphrase', 'hmac_secret',
                      'oidc_client_secret', 'oidc_otp', 'oidc_refresh_token'}


def test_argument_spec_is_a_fresh_copy_extended_by_extra_options():
    spec = unicore_argument_spec(lifetime=dict(type='int', default=3600))
    spec['url']['required'] = True
    assert spec['lifetime'] == dict(type='int', default=3600)
    assert 'required' not in unicore_argument_spec()['url']
    assert 'lifetime' not in unicore_argument_spec()


@pytest.mark.parametrize('fragment_name', sorted(FRAGMENTS))
def test_plugins_section_covers_exactly_the_documented_options(fragment_name):
    fragment = FRAGMENTS[fragment_name]
    assert sorted(fragment_options(fragment, 'PLUGINS')) == sorted(fragment_options(fragment, 'DOCUMENTATION'))


@pytest.mark.parametrize('fragment_name', sorted(FRAGMENTS))
def test_every_plugin_option_reads_unicore_env_var_unicore_var_and_ini_section(fragment_name):
    # UNICORE_<OPTION>, never an ANSIBLE_ prefix: AWX refuses to inject those.
    for name, sources in fragment_options(FRAGMENTS[fragment_name], 'PLUGINS').items():
        assert sources.get('env') == [{'name': 'UNICORE_%s' % name.upper()}], name
        assert sources.get('vars') == [{'name': 'unicore_%s' % name}], name
        assert sources.get('ini') == [{'section': 'unicore', 'key': name}], name

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preferences option becomes a well-formed X-UNICORE-User-Preferences header, or a clear refusal."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._preferences import preferences_header


def refused(preferences):
    with pytest.raises(UnicoreError) as error:
        preferences_header(preferences)
    return str(error.value)


# ---------------------------------------------------------------- dict form

def test_dict_becomes_header_in_uid_group_supgids_role_order():
    given = {'role': 'user', 'supplementary_groups': ['hpc'], 'group': 'demo', 'uid': 'demouser'}
    assert preferences_header(given) == 'uid:demouser,group:demo,supgids:hpc,role:user'


def test_several_supplementary_groups_are_joined_with_plus():
    assert preferences_header({'supplementary_groups': ['hpc', 'gpu', 'io']}) == 'supgids:hpc+gpu+io'


def test_a_single_supplementary_group_may_be_a_string():
    assert preferences_header({'supplementary_groups': 'hpc'}) == 'supgids:hpc'


def test_unset_dict_values_are_left_out():
    assert preferences_header({'uid': 'demouser', 'group': None, 'supplementary_groups': [], 'role': ''}) == 'uid:demouser'


@pytest.mark.parametrize('key, value', [
    ('uid', 'demo,user'), ('uid', 'demo:user'), ('group', 'a,b'), ('role', 'admin:x'), ('supplementary_groups', ['hpc', 'g:pu']),
])
def test_value_with_comma_or_colon_is_refused_naming_the_key(key, value):
    message = refused({key: value})
    assert message.startswith('preferences.%s' % key)


def test_plus_inside_a_supplementary_group_name_is_refused():
    message = refused({'supplementary_groups': ['hpc', 'a+b']})
    assert 'preferences.supplementary_groups' in message and '"a+b"' in message


@pytest.mark.parametrize('value', [['a', 'b'], {'a': 1}, True])
def test_non_scalar_value_is_refused(value):
    assert refused({'uid': value}).startswith('preferences.uid must be a single value')


def test_blank_value_is_refused():
    assert refused({'group': '   '}) == 'preferences.group must not be empty'


def test_unknown_dict_keys_are_refused_listing_the_valid_keys():
    message = refused({'uid': 'demouser', 'queue': 'batch', 'supgids': 'hpc'})
    assert 'queue' in message and 'supgids' in message
    assert 'valid keys are uid, group, supplementary_groups, role' in message


# ---------------------------------------------------------------- raw header string

def test_well_formed_header_string_is_accepted():
    assert preferences_header('uid:demouser,group:demo,supgids:hpc+gpu,role:user') == 'uid:demouser,group:demo,supgids:hpc+gpu,role:user'


def test_white_space_around_items_is_removed():
    assert preferences_header('  uid:demouser , group:demo \n') == 'uid:demouser,group:demo'


def test_header_aliases_are_accepted_case_insensitively():
    header = 'XLOGIN:demouser,pgid:demo,supplementaryGroups:hpc,SupGids:gpu,Role:user'
    assert preferences_header(header) == header


@pytest.mark.parametrize('header', ['uid', 'uid:demo:user', 'uid:', ':demouser', 'uid:demouser,,group:demo', 'uid:demouser,'])
def test_malformed_header_item_is_refused(header):
    assert 'is not a key:value item' in refused(header)


def test_unknown_header_key_is_refused():
    message = refused('uid:demouser,queue:batch')
    assert '"queue"' in message and 'valid keys are uid, group, supgids, role' in message


# ---------------------------------------------------------------- only what a header can carry

# A line break would end the header and add one of the caller's choosing; what is not
# ASCII http.client sent as another byte or failed on with a UnicodeEncodeError.
NOT_FOR_A_HEADER = ['demo\r\nX-Injected', 'demo\nuser', 'demo\tuser', 'demo\x00', 'demo\x7f', 'jürgen', 'demo\u0142']


@pytest.mark.parametrize('value', NOT_FOR_A_HEADER)
def test_a_header_string_of_control_or_non_ascii_characters_is_refused_without_showing_it(value):
    assert refused('uid:%s,group:hpc' % value) == ('preferences must be ASCII characters only, without control characters such as '
                                                   'line breaks (it is sent in the X-UNICORE-User-Preferences header)')


@pytest.mark.parametrize('key', ['uid', 'group', 'role', 'supplementary_groups'])
@pytest.mark.parametrize('value', NOT_FOR_A_HEADER)
def test_a_dict_value_of_control_or_non_ascii_characters_is_refused_naming_the_key(key, value):
    given = {key: ['hpc', value] if key == 'supplementary_groups' else value}
    assert refused(given) == ('preferences.%s must be ASCII characters only, without control characters such as '
                              'line breaks (it is sent in the X-UNICORE-User-Preferences header)' % key)


def test_spaces_inside_a_value_are_carried():
    assert preferences_header({'role': 'power user'}) == 'role:power user'


# ---------------------------------------------------------------- nothing set

@pytest.mark.parametrize('preferences', [None, '', '   ', {}, {'uid': None}])
def test_no_preference_gives_no_header(preferences):
    assert preferences_header(preferences) is None


def test_other_types_are_refused_with_the_accepted_forms():
    message = refused(['uid:demouser'])
    assert 'dict' in message and 'header string' in message and 'list' in message

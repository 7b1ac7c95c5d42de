# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What token is asked for, how the request is checked, and why a kept token does not fit."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter
from ansible_collections.unicore.auth.plugins.module_utils._token_request import MAX_LIFETIME, TokenRequest, same_dn

SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'


def kept(renewable=False, limited=True, iss=SITE_DN, expires_in=3000):
    """What ``token_info`` says about a kept token (only the fields ``mismatch`` reads)."""
    return {'renewable': renewable, 'limited': limited, 'iss': iss, 'expires_in': expires_in}


def refusal(**request):
    with pytest.raises(UnicoreError) as error:
        TokenRequest(**request).validate()
    return str(error.value)


# ---------------------------------------------------------------- defaults

def test_default_request_is_a_limited_non_renewable_one_hour_token_kept_while_valid_for_a_tenth_of_that():
    request = TokenRequest()
    assert (request.lifetime, request.renewable, request.limited, request.min_validity) == (3600, False, True, 360)


@pytest.mark.parametrize('lifetime, min_validity', [(7200, 720), (86400, 8640), (999, 99), (9, 0)])
def test_min_validity_defaults_to_a_tenth_of_the_lifetime_rounded_down(lifetime, min_validity):
    assert TokenRequest(lifetime=lifetime).min_validity == min_validity


def test_from_options_uses_the_defaults_for_options_that_are_absent_or_unset():
    for params in ({}, {'lifetime': None, 'renewable': None, 'limited': None, 'min_validity': None}):
        request = TokenRequest.from_options(OptionAdapter.from_dict(params))
        assert (request.lifetime, request.renewable, request.limited, request.min_validity) == (3600, False, True, 360)


def test_from_options_reads_every_token_option():
    options = OptionAdapter.from_dict({'lifetime': 7200, 'renewable': True, 'limited': False, 'min_validity': 600})
    request = TokenRequest.from_options(options)
    assert (request.lifetime, request.renewable, request.limited, request.min_validity) == (7200, True, False, 600)


def test_numeric_strings_are_taken_as_seconds():
    # Lookup options from env/ini arrive as text before the config layer converts them.
    request = TokenRequest(lifetime='7200', min_validity='60')
    assert (request.lifetime, request.min_validity) == (7200, 60)


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize('lifetime', [0, -1, -3600])
def test_lifetime_must_be_positive(lifetime):
    assert refusal(lifetime=lifetime, min_validity=0) == 'lifetime must be a positive number of seconds, got %d' % lifetime


def test_lifetime_of_up_to_ten_years_is_accepted_and_more_is_taken_for_a_typo():
    TokenRequest(lifetime=MAX_LIFETIME).validate()
    assert refusal(lifetime=MAX_LIFETIME + 1) == ('lifetime %d seconds is more than 10 years; give the lifetime in seconds'
                                                  % (MAX_LIFETIME + 1))
    # A date pasted by mistake (epoch seconds) is refused too.
    assert 'more than 10 years' in refusal(lifetime=1767225600)


@pytest.mark.parametrize('option', ['lifetime', 'min_validity'])
@pytest.mark.parametrize('value', ['one hour', '1h', '', [3600], {'seconds': 3600}, '36.5'])
def test_non_numeric_values_are_refused_naming_the_option(option, value):
    with pytest.raises(UnicoreError) as error:
        TokenRequest(**{option: value})
    assert str(error.value) == '%s must be a whole number of seconds, got %r' % (option, value)


def test_an_explicit_lifetime_of_none_is_refused_while_min_validity_none_means_the_default():
    # from_options turns an unset lifetime into the default before it gets here.
    with pytest.raises(UnicoreError) as error:
        TokenRequest(lifetime=None)
    assert str(error.value) == 'lifetime must be a whole number of seconds, got None'
    assert TokenRequest(min_validity=None).min_validity == 360


@pytest.mark.parametrize('option', ['lifetime', 'min_validity'])
@pytest.mark.parametrize('value', [True, False])
def test_booleans_are_not_taken_for_seconds(option, value):
    # int(True) would be 1 second: a "lifetime: yes" typo must not issue a one-second token.
    with pytest.raises(UnicoreError) as error:
        TokenRequest(**{option: value})
    assert str(error.value) == '%s must be a whole number of seconds, got %r' % (option, value)


@pytest.mark.parametrize('min_validity', [-1, -360])
def test_min_validity_must_not_be_negative(min_validity):
    assert refusal(min_validity=min_validity) == 'min_validity must not be negative, got %d' % min_validity


@pytest.mark.parametrize('lifetime, min_validity', [(3600, 3600), (3600, 3601), (300, 86400)])
def test_min_validity_must_be_less_than_the_lifetime(lifetime, min_validity):
    assert refusal(lifetime=lifetime, min_validity=min_validity) == (
        'min_validity (%d s) must be less than lifetime (%d s), or no new token would ever be kept' % (min_validity, lifetime))


@pytest.mark.parametrize('lifetime, min_validity', [(3600, 0), (3600, 3599), (1, 0)])
def test_min_validity_from_zero_to_just_below_the_lifetime_is_accepted(lifetime, min_validity):
    TokenRequest(lifetime=lifetime, min_validity=min_validity).validate()


# ---------------------------------------------------------------- does a kept token fit?

def test_a_kept_token_with_the_requested_properties_from_this_site_and_enough_validity_fits():
    assert TokenRequest().mismatch(kept(), SITE_DN) is None


@pytest.mark.parametrize('wanted, held, reason', [
    (False, True, 'it is renewable'),
    (True, False, 'it is not renewable'),
])
def test_renewable_must_match_either_way(wanted, held, reason):
    assert TokenRequest(renewable=wanted).mismatch(kept(renewable=held), SITE_DN) == reason


@pytest.mark.parametrize('wanted, held, reason', [
    (True, False, 'it is not limited'),
    (False, True, 'it is limited'),
])
def test_limited_must_match_either_way(wanted, held, reason):
    assert TokenRequest(limited=wanted).mismatch(kept(limited=held), SITE_DN) == reason


def test_a_token_from_another_site_does_not_fit():
    other = 'CN=PARTNER-SITE,O=UNICORE,C=EU'
    assert TokenRequest().mismatch(kept(iss=other), SITE_DN) == 'it was issued by %s, not by this site' % other


def test_a_token_without_an_issuer_does_not_fit_a_known_site():
    assert TokenRequest().mismatch(kept(iss=None), SITE_DN) == 'it was issued by None, not by this site'


def test_the_issuer_is_not_checked_when_the_site_dn_is_unknown():
    assert TokenRequest().mismatch(kept(iss='CN=PARTNER-SITE,O=UNICORE,C=EU'), None) is None


@pytest.mark.parametrize('site_dn', [
    'CN=DEMO-SITE, O=UNICORE, C=EU',
    'cn=DEMO-SITE,o=UNICORE,c=EU',
    ' Cn = DEMO-SITE ,  o=UNICORE , C=EU ',
])
def test_the_issuer_dn_is_compared_without_spaces_and_case_of_attribute_types(site_dn):
    assert TokenRequest().mismatch(kept(iss=SITE_DN), site_dn) is None


@pytest.mark.parametrize('site_dn', ['CN=demo-site,O=UNICORE,C=EU', 'CN=DEMO-SITE,O=UNICORE', 'O=UNICORE,CN=DEMO-SITE,C=EU'])
def test_attribute_values_and_their_order_still_count(site_dn):
    assert TokenRequest().mismatch(kept(iss=SITE_DN), site_dn) == 'it was issued by %s, not by this site' % SITE_DN


def test_same_dn_never_matches_a_missing_dn():
    assert same_dn(None, None) is False
    assert same_dn(SITE_DN, None) is False
    assert same_dn(None, SITE_DN) is False


@pytest.mark.parametrize('expires_in', [359, 0, -10, None])
def test_a_token_valid_for_less_than_min_validity_or_without_expiry_does_not_fit(expires_in):
    assert TokenRequest().mismatch(kept(expires_in=expires_in), SITE_DN) == 'it is valid for less than min_validity (360 s)'


@pytest.mark.parametrize('preferences, claims, reason', [
    ('uid:demo2', {'uid': 'demouser'}, 'it was issued for uid:demouser, not uid:demo2'),
    ('xlogin:demo2,group:hpc', {'uid': 'demouser'}, 'it was issued for uid:demouser, not uid:demo2'),
    ('uid:demouser,group:hpc', {'uid': 'demouser', 'preferences': 'uid:demouser,group:demo'},
     'it was issued for group:demo, not group:hpc'),
    ('role:admin', {'uid': 'demouser', 'preferences': 'uid:demouser'}, 'it was issued for role:(default), not role:admin'),
])
def test_a_token_issued_for_another_selection_does_not_fit(preferences, claims, reason):
    assert TokenRequest(preferences=preferences).mismatch(dict(kept(), **claims), SITE_DN) == reason


@pytest.mark.parametrize('preferences, claims', [
    (None, {'uid': 'demouser', 'preferences': 'uid:demouser,group:hpc'}),
    ('uid:demouser', {'uid': 'demouser'}),
    ('pgid:hpc,supgids:a+b', {'uid': 'demouser', 'preferences': 'uid:demouser,group:hpc,supgids:a+b'}),
    # Nothing in the token says which group it was issued for: it cannot be told apart.
    ('group:hpc', {'uid': 'demouser'}),
    ('uid:demouser', {}),
])
def test_a_token_whose_claims_match_the_selection_or_do_not_say_fits(preferences, claims):
    assert TokenRequest(preferences=preferences).mismatch(dict(kept(), **claims), SITE_DN) is None


def test_from_options_turns_the_preferences_into_the_header_value():
    options = OptionAdapter.from_dict({'preferences': {'uid': 'demo2', 'supplementary_groups': ['a', 'b']}})
    assert TokenRequest.from_options(options).preferences == 'uid:demo2,supgids:a+b'


def test_a_token_valid_for_exactly_min_validity_still_fits():
    assert TokenRequest(min_validity=600).mismatch(kept(expires_in=600), SITE_DN) is None


def test_properties_are_named_before_the_issuer_and_the_issuer_before_the_expiry():
    worst = kept(renewable=True, limited=False, iss='CN=Elsewhere', expires_in=-1)
    assert TokenRequest().mismatch(worst, SITE_DN) == 'it is renewable'
    assert TokenRequest(renewable=True).mismatch(worst, SITE_DN) == 'it is not limited'
    assert TokenRequest(renewable=True, limited=False).mismatch(worst, SITE_DN) == 'it was issued by CN=Elsewhere, not by this site'
    assert TokenRequest(renewable=True, limited=False).mismatch(worst, None) == 'it is valid for less than min_validity (360 s)'


# ---------------------------------------------------------------- issuing

class RecordingClient:
    def __init__(self):
        self.calls = []

    def issue_auth_token(self, **properties):
        self.calls.append(properties)
        return 'issued-token'


def test_issue_asks_the_client_for_exactly_the_requested_properties():
    client = RecordingClient()
    assert TokenRequest(lifetime=7200, renewable=True, limited=False).issue(client) == 'issued-token'
    assert client.calls == [{'lifetime': 7200, 'renewable': True, 'limited': False}]

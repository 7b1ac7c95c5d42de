# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kept token: what is known about its site, whether it may renew itself, and why it would be replaced."""

from __future__ import annotations

import base64
import json
import time

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._kept_token import KeptToken, reason_to_replace
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
RECORD = {'url': SITE, 'issuer': SITE_DN}


def token_with(valid_for=3000, iss=SITE_DN, renewable=True, limited=True):
    """A token with the claims a UNICORE site writes (the signature is checked by no one here)."""
    claims = {'sub': 'CN=Demo User', 'iss': iss, 'exp': int(time.time()) + valid_for}
    if renewable:
        claims['renewable'] = 'true'
    if limited:
        claims['aud'] = iss
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode('utf-8')).rstrip(b'=').decode('ascii')
    return 'eyJhbGciOiJSUzI1NiJ9.%s.c2lnbmF0dXJl' % payload


# ---------------------------------------------------------------- from_file, given and cached

def test_a_token_from_a_file_knows_its_site_from_a_record_written_for_this_url():
    kept = KeptToken.from_file(token_with(), RECORD, SITE)
    assert (kept.source, kept.site_dn, kept.info['iss']) == ('dest', SITE_DN, SITE_DN)


@pytest.mark.parametrize('record', [None, {}, {'url': SITE + '/other', 'issuer': SITE_DN}, {'issuer': SITE_DN}, {'url': SITE}])
def test_a_token_from_a_file_without_a_record_for_this_url_has_no_known_site(record):
    assert KeptToken.from_file(token_with(), record, SITE).site_dn is None


@pytest.mark.parametrize('content', ['not a token at all', 'a.b', 'a.%%%.c'])
def test_a_file_that_holds_no_readable_token_gives_no_info(content):
    kept = KeptToken.from_file(content, RECORD, SITE)
    assert (kept.token, kept.info, kept.is_live()) == (content, None, False)


def test_a_given_token_loses_surrounding_white_space_and_has_no_known_site():
    token = token_with()
    kept = KeptToken.given('\n %s \n' % token)
    assert (kept.token, kept.source, kept.site_dn, kept.info['iss']) == (token, 'token', None, SITE_DN)


def test_an_expired_token_is_not_live():
    assert KeptToken.from_file(token_with(valid_for=-1), RECORD, SITE).is_live() is False
    assert KeptToken.from_file(token_with(valid_for=60), RECORD, SITE).is_live() is True


# ---------------------------------------------------------------- may_renew_itself

def test_a_live_renewable_token_kept_at_dest_for_this_site_may_renew_itself():
    assert KeptToken.from_file(token_with(), RECORD, SITE).may_renew_itself() is True


def test_the_issuer_is_compared_as_a_dn_not_as_text():
    record = {'url': SITE, 'issuer': 'CN=DEMO-SITE, O=UNICORE, C=EU'}
    assert KeptToken.from_file(token_with(), record, SITE).may_renew_itself() is True


@pytest.mark.parametrize('kept', [
    KeptToken.from_file(token_with(renewable=False), RECORD, SITE),
    KeptToken.from_file(token_with(valid_for=-1), RECORD, SITE),
    KeptToken.from_file(token_with(iss='CN=PARTNER-SITE,O=UNICORE,C=EU'), RECORD, SITE),
    KeptToken.from_file(token_with(), {'url': SITE + '/other', 'issuer': SITE_DN}, SITE),
    KeptToken.from_file(token_with(), None, SITE),
    KeptToken.from_file('not a token at all', RECORD, SITE),
    KeptToken.given(token_with()),
    KeptToken.cached(token_with(), SITE_DN),
], ids=['not-renewable', 'expired', 'other-issuer', 'record-for-another-url', 'no-record', 'unreadable', 'given', 'cached'])
def test_no_other_token_may_renew_itself(kept):
    assert kept.may_renew_itself() is False


# ---------------------------------------------------------------- reason_to_replace

def test_a_fitting_kept_token_has_no_reason_to_be_replaced():
    assert reason_to_replace(TokenRequest(renewable=True), KeptToken.from_file(token_with(), RECORD, SITE)) is None


def test_an_unreadable_token_is_replaced_as_such():
    kept = KeptToken.from_file('not a token at all', RECORD, SITE)
    assert reason_to_replace(TokenRequest(), kept) == 'it is not a readable UNICORE token'


def test_a_token_at_dest_that_nothing_ties_to_this_site_is_replaced():
    kept = KeptToken.from_file(token_with(), None, SITE)
    assert reason_to_replace(TokenRequest(renewable=True), kept) == 'nothing records that it was issued by this site'


def test_a_given_token_is_taken_to_belong_to_the_site_and_judged_by_the_request_alone():
    kept = KeptToken.given(token_with(iss='CN=PARTNER-SITE,O=UNICORE,C=EU'))
    assert reason_to_replace(TokenRequest(renewable=True), kept) is None
    assert reason_to_replace(TokenRequest(), kept) == 'it is renewable'


def test_a_cached_token_from_another_site_is_replaced():
    kept = KeptToken.cached(token_with(iss='CN=PARTNER-SITE,O=UNICORE,C=EU'), SITE_DN)
    assert reason_to_replace(TokenRequest(renewable=True), kept) == 'it was issued by CN=PARTNER-SITE,O=UNICORE,C=EU, not by this site'


def test_a_cached_token_without_a_recorded_issuer_is_judged_by_the_request_alone():
    assert reason_to_replace(TokenRequest(renewable=True), KeptToken.cached(token_with(), None)) is None
    assert reason_to_replace(TokenRequest(), KeptToken.cached('not a token at all', SITE_DN)) == 'it is not a readable UNICORE token'


# ---------------------------------------------------------------- imports

def test_the_rule_imports_neither_requests_nor_cryptography_nor_jwt(fresh_python):
    imported = fresh_python([
        'import json, sys',
        'from ansible_collections.unicore.auth.plugins.module_utils import _kept_token',
        'print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("requests", "cryptography", "jwt"))))',
    ])
    assert imported == []

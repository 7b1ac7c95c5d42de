# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile or broken tokens: one rule decides what a UNICORE token is, and every place a token enters keeps to it.

A token is a JWT of three base64url parts and two dots, and nothing else, with the
claims a UNICORE site writes. Anything else never reaches a token file, a cache
entry or a header; a kept one is replaced and named; no message shows the token.
A secret put into a header (an opaque access token, a session id) may hold no
white space and no control character, wherever it came from.
"""

from __future__ import annotations

import base64
import json
import os
import time

import jwt
import pytest

from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential, Credential, PasswordCredential
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._kept_token import KeptToken, reason_to_replace
from ansible_collections.unicore.auth.plugins.module_utils._oidc_credentials import OidcProvider, OidcServerCredential
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import (
    MAX_TOKEN_LIFETIME,
    check_token,
    decode_token_claims,
    looks_like_jwt,
    token_info,
    token_problem,
)
from ansible_collections.unicore.auth.plugins.module_utils._token_file import TokenFile
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest
from ansible_collections.unicore.auth.plugins.module_utils._transport import SESSION_HEADER

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
USER_DN = 'CN=Demo User,O=UNICORE,C=EU'
NOW = int(time.time())
LOGIN = PasswordCredential('demouser', 'Pässw0rd-never-shown')
ENDPOINT = 'https://idp.example/realms/unicore/protocol/openid-connect/token'


def b64url(data):
    if not isinstance(data, bytes):
        data = json.dumps(data).encode('utf-8')
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


HEADER = b64url({'alg': 'RS256'})
SIGNATURE = 'c2lnbmF0dXJlLW9mLXRoZS1zaXRl'


def claims_of(**changes):
    """The claims a UNICORE site writes into a limited token, valid for another 50 minutes, with ``changes`` (None: left out)."""
    claims = {'sub': USER_DN, 'iss': SITE_DN, 'aud': SITE_DN, 'iat': NOW - 600, 'exp': NOW + 3000, 'etd': 'true', 'uid': 'demouser'}
    claims.update(changes)
    return dict((name, value) for name, value in claims.items() if value is not None)


def token_of(claims=None, header=HEADER, signature=SIGNATURE):
    return '%s.%s.%s' % (header, b64url(claims_of() if claims is None else claims), signature)


VALID = token_of()
# What the issue names: a valid token with a second line, which in VAR=token would become a second variable.
PRELOAD = VALID + '\nLD_PRELOAD=/tmp/x.so'

# name -> (value, the cause the rule names). Each value holds VALID or parts of it, so that the message can be searched for them.
HOSTILE = {
    'newline and a second variable': (PRELOAD, 'it holds a line break'),
    'CR LF and a second header': (VALID + '\r\nX-Injected: yes', 'it holds a line break'),
    'newline inside': (VALID[:30] + '\n' + VALID[30:], 'it holds a line break'),
    'NUL': (VALID + '\0', 'it holds a NUL character'),
    'space': (VALID[:30] + ' ' + VALID[30:], 'it holds white space'),
    'tab': (VALID[:30] + '\t' + VALID[30:], 'it holds white space'),
    'non-breaking space': (VALID[:30] + '\u00a0' + VALID[30:], 'it holds white space'),
    'escape character': (VALID + '\x1b[2J', 'it holds a control character'),
    'DEL': (VALID + '\x7f', 'it holds a control character'),
    'base64 padding': (VALID + '==', 'base64 padding ("=")'),
    'padding in the claims': ('%s.%s==.%s' % (HEADER, b64url(claims_of()), SIGNATURE), 'base64 padding ("=")'),
    'standard base64 characters': (VALID[:-2] + '+/', 'outside the base64url alphabet'),
    'a letter of another alphabet': (VALID + 'é', 'not ASCII'),
    'a Cyrillic letter that looks Latin': (VALID[:-1] + '\u0430', 'not ASCII'),
    'a fullwidth digit': (VALID + '\uff11', 'not ASCII'),
    'four parts': (VALID + '.' + SIGNATURE, 'it is not three dot-separated parts (header.claims.signature): it has 4'),
    'two parts': ('%s.%s' % (HEADER, b64url(claims_of())), 'it is not three dot-separated parts (header.claims.signature): it has 2'),
    'one part': (b64url(claims_of()), 'it is not three dot-separated parts (header.claims.signature): it has 1'),
    'empty header': ('.%s.%s' % (b64url(claims_of()), SIGNATURE), 'its header part is empty'),
    'empty claims': ('%s..%s' % (HEADER, SIGNATURE), 'its claims part is empty'),
    'empty signature (unsigned)': ('%s.%s.' % (HEADER, b64url(claims_of())), 'its signature part is empty'),
    'only dots': ('..', 'its header part is empty'),
    'header not JSON': (token_of(header=b64url(b'not-json-at-all')), 'its header is not base64url-encoded JSON'),
    'header a JSON list': (token_of(header=b64url(['RS256'])), 'its header is not a JSON object'),
    'header without alg': (token_of(header=b64url({'typ': 'JWT'})), 'names no signing algorithm'),
    'header alg none': (token_of(header=b64url({'alg': 'none'})), 'it is not signed (alg none)'),
    'claims not JSON': ('%s.%s.%s' % (HEADER, b64url(b'sub=demouser;exp=never'), SIGNATURE), 'its claims are not base64url-encoded JSON'),
    'claims not UTF-8': ('%s.%s.%s' % (HEADER, b64url(b'\xff\xfe{"exp": 1}'), SIGNATURE), 'its claims are not base64url-encoded JSON'),
    'claims of impossible length': ('%s.%s.%s' % (HEADER, b64url(claims_of()) + 'A' * (5 - len(b64url(claims_of())) % 4), SIGNATURE),
                                    'its claims are not base64url-encoded JSON'),
    'claims a JSON list': ('%s.%s.%s' % (HEADER, b64url([claims_of()]), SIGNATURE), 'its claims are not a JSON object'),
    'claims nested deeper than any parser goes': ('%s.%s.%s' % (HEADER, b64url(b'[' * 20000 + b']' * 20000), SIGNATURE),
                                                  'its claims are not base64url-encoded JSON'),
    'exp missing': (token_of(claims_of(exp=None)), 'it has no exp claim'),
    'exp a numeric string': (token_of(claims_of(exp=str(NOW + 3000))), 'its exp claim is not a number'),
    'exp a word': (token_of(claims_of(exp='soon')), 'its exp claim is not a number'),
    'exp a float-ish string': (token_of(claims_of(exp='%.1e' % (NOW + 3000))), 'its exp claim is not a number'),
    'exp with a fraction': (token_of(claims_of(exp=NOW + 3000.5)), 'its exp claim is not a whole number of seconds'),
    'exp NaN': ('%s.%s.%s' % (HEADER, b64url(b'{"sub": "x", "exp": NaN}'), SIGNATURE), 'its exp claim is not a whole number'),
    'exp Infinity': ('%s.%s.%s' % (HEADER, b64url(b'{"sub": "x", "exp": Infinity}'), SIGNATURE), 'its exp claim is not a whole number'),
    'exp true': (token_of(claims_of(exp=True)), 'its exp claim is not a number'),
    'exp a list': (token_of(claims_of(exp=[NOW + 3000])), 'its exp claim is not a number'),
    'exp null': ('%s.%s.%s' % (HEADER, b64url(b'{"sub": "x", "exp": null}'), SIGNATURE), 'its exp claim is not a number'),
    'exp beyond the year 9999': (token_of(claims_of(exp=10 ** 20, iat=None)), 'its exp claim is not a time between 1970 and 9999'),
    'exp negative': (token_of(claims_of(exp=-1, iat=None)), 'its exp claim is not a time between 1970 and 9999'),
    'exp before iat': (token_of(claims_of(exp=NOW - 700)), 'its exp claim is before its iat claim'),
    'lifetime over 10 years': (token_of(claims_of(iat=NOW, exp=NOW + MAX_TOKEN_LIFETIME + 1)), 'its lifetime (exp - iat) is more than 10 years'),
    'lifetime of a century': (token_of(claims_of(iat=NOW, exp=NOW + 100 * 366 * 86400)), 'more than 10 years'),
    'no iat and exp 50 years ahead': (token_of(claims_of(iat=None, exp=NOW + 50 * 366 * 86400)), 'no iat claim and its exp claim is more than 10 years'),
    'iat a string': (token_of(claims_of(iat=str(NOW))), 'its iat claim is not a number'),
    'sub a number': (token_of(claims_of(sub=4711)), 'its sub claim is not a string'),
    'sub a list': (token_of(claims_of(sub=[USER_DN])), 'its sub claim is not a string'),
    'sub an object': (token_of(claims_of(sub={'dn': USER_DN})), 'its sub claim is not a string'),
    'iss a number': (token_of(claims_of(iss=1)), 'its iss claim is not a string'),
    'uid a list': (token_of(claims_of(uid=['demouser', 'root'])), 'its uid claim is not a string'),
    'preferences an object': (token_of(claims_of(preferences={'uid': 'root'})), 'its preferences claim is not a string'),
    'renewable true (JSON)': (token_of(claims_of(renewable=True)), 'its renewable claim is not a string'),
    'aud a number': (token_of(claims_of(aud=7)), 'its aud claim is not a string or a list of strings'),
}


def assert_quotes_nothing_of(message, value):
    """No part of the value (the whole, any part, any line, any 8 characters of it) is in the message."""
    assert value not in message
    for piece in [value] + value.split('.') + value.splitlines():
        if len(piece) >= 8:
            assert piece not in message
    for start in range(0, min(len(value), 4096) - 8, 4):
        assert value[start:start + 8] not in message


# ---------------------------------------------------------------- the rule

@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_the_rule_names_what_is_wrong_with_each_hostile_value(case):
    value, cause = HOSTILE[case]
    problem = token_problem(value)
    assert problem is not None and cause in problem
    assert_quotes_nothing_of(problem, value)


@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_a_hostile_value_is_no_token_for_the_filter_and_its_message_quotes_none_of_it(case):
    value, cause = HOSTILE[case]
    with pytest.raises(UnicoreError) as error:
        token_info(value)
    message = str(error.value)
    assert message.startswith('the value is not a UNICORE token: ') and cause in message
    assert_quotes_nothing_of(message, value)


@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_check_token_names_the_place_and_the_cause_and_never_the_token(case):
    value, cause = HOSTILE[case]
    with pytest.raises(UnicoreError) as error:
        check_token(value, 'dest: the token to write to /srv/unicore.token')
    message = str(error.value)
    assert message.startswith('dest: the token to write to /srv/unicore.token is not a UNICORE token: ') and cause in message
    assert_quotes_nothing_of(message, value)


def test_a_token_as_a_site_signs_it_passes_the_rule(private_keys):
    signed = jwt.encode(claims_of(renewable='true', preferences='uid:demouser,group:hpc'), private_keys['rsa'], algorithm='RS256')
    assert token_problem(signed) is None and looks_like_jwt(signed)
    assert check_token(signed, 'x') == signed
    assert decode_token_claims(signed)['exp'] == NOW + 3000


@pytest.mark.parametrize('claims', [
    claims_of(iat=None),                                      # iat is optional: the lifetime is then judged against now
    claims_of(aud=[SITE_DN]),                                 # an audience may be a list
    claims_of(iat=NOW, exp=NOW + MAX_TOKEN_LIFETIME),         # exactly the longest lifetime a site may issue
    claims_of(iat=NOW, exp=NOW),                              # a lifetime of 0 is odd, but not absurd: it is simply expired
    {'exp': 1},                                               # a token of 1970, long expired
])
def test_tokens_with_the_claims_unicore_writes_pass(claims):
    assert token_problem(token_of(claims)) is None


def test_white_space_around_a_token_is_no_token_but_the_filter_reads_a_files_line():
    # The rule takes the value as it would be handed on; only readers of files and the filter take the line end off.
    assert token_problem(VALID + '\n') == 'it holds a line break'
    assert token_problem(' ' + VALID) == 'it holds white space'
    assert decode_token_claims(VALID + '\n')['sub'] == USER_DN


@pytest.mark.parametrize('value, problem', [('', 'it is empty'), (None, 'it is not a string'), (4711, 'it is not a string')])
def test_nothing_at_all_is_no_token(value, problem):
    assert token_problem(value) == problem


def test_the_claims_of_a_refused_token_are_never_read_for_a_decision():
    # exp as a string was read as a number: a token judged valid until 2100 by a claim UNICORE never writes.
    kept = KeptToken.cached(token_of(claims_of(exp='4102444800')), SITE_DN)
    assert kept.info is None and not kept.is_live()
    assert reason_to_replace(TokenRequest(), kept) == 'it is not a readable UNICORE token (its exp claim is not a number)'


@pytest.mark.parametrize('case', ['exp missing', 'exp a numeric string', 'exp with a fraction', 'exp beyond the year 9999',
                                  'lifetime over 10 years', 'sub a number', 'preferences an object'])
def test_a_kept_token_with_claims_unicore_never_writes_is_replaced_and_the_claim_named(tmp_path, case):
    value, cause = HOSTILE[case]
    kept = KeptToken.from_file(value, {'url': SITE, 'issuer': SITE_DN}, SITE)
    assert kept.info is None and not kept.may_renew_itself()
    reason = reason_to_replace(TokenRequest(preferences='uid:demouser'), kept)
    assert reason.startswith('it is not a readable UNICORE token (') and cause in reason
    assert_quotes_nothing_of(reason, value)


def test_a_cache_entrys_token_with_a_line_end_is_not_handed_on():
    # A kept file's line end is taken off when it is read; a token from the cache is handed on as it is, so it must be exact.
    kept = KeptToken.cached(VALID + '\n', SITE_DN)
    assert kept.info is None
    assert reason_to_replace(TokenRequest(), kept) == 'it is not a readable UNICORE token'


# ---------------------------------------------------------------- the answer of /token

@pytest.fixture
def site_client(scripted_transport):
    def build(script):
        transport, site = scripted_transport(LOGIN, script)
        return UnicoreClient(SITE, transport), site
    return build


@pytest.mark.parametrize('case', ['newline and a second variable', 'CR LF and a second header', 'base64 padding', 'empty signature (unsigned)',
                                  'exp missing', 'exp a numeric string', 'exp beyond the year 9999', 'lifetime over 10 years',
                                  'no iat and exp 50 years ahead', 'sub a number', 'claims nested deeper than any parser goes'])
def test_a_hostile_answer_of_token_fails_naming_the_url_and_the_cause(site_client, reply, case):
    value, cause = HOSTILE[case]
    client, site = site_client([reply(200, value, headers={'Content-Type': 'text/plain'})])
    with pytest.raises(UnicoreError) as error:
        client.issue_auth_token(lifetime=3600)
    message = str(error.value)
    assert message.startswith('GET %s/token returned something that is not a token (Content-Type: text/plain, ' % SITE)
    assert cause in message
    assert_quotes_nothing_of(message, value)
    assert len(site.requests) == 1


# ---------------------------------------------------------------- the token file

def test_a_hostile_token_is_never_written_to_dest_and_the_kept_files_stay_byte_for_byte(tmp_path):
    token_file = TokenFile(tmp_path / 'unicore.token')
    token_file.write(VALID, SITE, SITE_DN, 0o600)
    before = dict((name, (tmp_path / name).read_bytes()) for name in sorted(os.listdir(tmp_path)))
    for case in ('newline and a second variable', 'base64 padding', 'exp missing', 'empty signature (unsigned)'):
        value, cause = HOSTILE[case]
        with pytest.raises(UnicoreError) as error:
            token_file.write(value, SITE, SITE_DN, 0o600)
        assert 'dest: the token to write to %s is not a UNICORE token: ' % token_file.path in str(error.value)
        assert cause in str(error.value)
        assert dict((name, (tmp_path / name).read_bytes()) for name in sorted(os.listdir(tmp_path))) == before


# ---------------------------------------------------------------- headers

class _FixedHeader(Credential):
    """A credential kind whose Authorization value is given: what a faulty kind, or a faulty library, might produce."""

    method = 'faulty'

    def __init__(self, value):
        self.value = value

    def authorization_header(self):
        return self.value


@pytest.mark.parametrize('value', ['Bearer %s\r\nX-Injected: yes' % VALID, 'Bearer opaque\nX-Injected: yes', 'Bearer opaque\x00',
                                   'Bearer opa que', 'Bearer opaque\x7f', 'Bearer opaqué', 'Bearer\topaque', 'Bearer'])
def test_no_authorization_header_with_white_space_or_a_control_character_is_ever_sent(scripted_transport, reply, value):
    transport, site = scripted_transport(_FixedHeader(value), [reply(200, '{}')])
    with pytest.raises(UnicoreError) as error:
        transport.get(SITE)
    message = str(error.value)
    assert message.startswith('auth_method=faulty: the Authorization header would hold white space or a control character')
    assert 'nothing was sent' in message
    assert 'opaque' not in message and VALID[:20] not in message
    assert site.requests == []


@pytest.mark.parametrize('session_id', ['a1b2\r\n X-Injected: yes', 'a1b2\x01c3', 'a1b2\tc3', 'a1b2 c3', 'sessión'])
def test_a_session_id_with_white_space_or_a_control_character_is_never_sent_back(scripted_transport, reply, session_id):
    transport, site = scripted_transport(LOGIN, [reply(200, '{}', headers={SESSION_HEADER: session_id}), reply(200, '{}')])
    transport.get(SITE)
    transport.get(SITE)
    second = site.headers[1]
    assert SESSION_HEADER not in second
    assert second['Authorization'] == LOGIN.authorization_header()


def test_a_proper_session_id_is_still_sent_back(scripted_transport, reply):
    transport, site = scripted_transport(LOGIN, [reply(200, '{}', headers={SESSION_HEADER: 'a1b2-c3d4'}), reply(200, '{}')])
    transport.get(SITE)
    transport.get(SITE)
    assert site.headers[1][SESSION_HEADER] == 'a1b2-c3d4' and 'Authorization' not in site.headers[1]


@pytest.fixture
def provider(options, scripted_transport, tmp_path):
    def build(script):
        settings = OidcServerCredential.from_options(options(
            url=SITE, auth_method='oidc_server', oidc_token_endpoint=ENDPOINT, oidc_client_id='unicore-client', username='demouser',
            password='Pässw0rd-never-shown', oidc_refresh_token_file=str(tmp_path / 'refresh-tokens'))).settings
        transport, adapter = scripted_transport(AnonymousCredential(), script)
        return OidcProvider(transport, settings), adapter
    return build


@pytest.mark.parametrize('access_token', ['opaque-4711\r\nX-Injected: yes', 'opaque-4711\n', 'opaque 4711', 'opaque-4711\x00', ''])
def test_an_access_token_from_the_oidc_provider_that_could_end_a_header_is_refused_naming_the_provider(provider, reply, access_token):
    oidc, adapter = provider([reply(json_body={'access_token': access_token, 'token_type': 'Bearer', 'refresh_token': 'r-1'})])
    with pytest.raises(UnicoreError) as error:
        oidc.log_in(ENDPOINT, None, None)
    message = str(error.value)
    assert message.startswith('POST %s answered with an access_token that is empty or holds white space or a control character' % ENDPOINT)
    assert 'opaque' not in message and '4711' not in message
    assert len(adapter.requests) == 1

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method: oidc_server: the order of grants, the refresh-token file, client authentication, errors.

The provider is scripted here to show what no provider does on demand (a
refresh refused while a password is given, an answer that is not JSON); the
integration tests log in at the test server's OIDC provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from urllib.parse import parse_qs

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential, auto_auth_method
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._oidc_credentials import (
    OidcProvider,
    OidcServerCredential,
    KeptRefreshToken,
    RefreshTokenStore,
)

ENDPOINT = 'https://idp.example/realms/unicore/protocol/openid-connect/token'
ISSUER = 'https://idp.example/realms/unicore'


@pytest.fixture
def oidc_options(options, tmp_path):
    def build(**given):
        base = dict(url='https://site.example/DEMO-SITE/rest/core', auth_method='oidc_server', oidc_token_endpoint=ENDPOINT,
                    oidc_client_id='unicore-client', oidc_client_secret='client-s3cret',
                    oidc_refresh_token_file=str(tmp_path / 'tokens' / 'refresh-tokens'))
        base.update(given)
        return options(**base)
    return build


@pytest.fixture
def provider(oidc_options, scripted_transport):
    """``provider(script, **given)``: (OidcProvider, adapter) answering from the script."""
    def build(script, **given):
        credential = OidcServerCredential.from_options(oidc_options(**given))
        transport, adapter = scripted_transport(AnonymousCredential(), script)
        return OidcProvider(transport, credential.settings), adapter
    return build


def granted(reply, access='access-1', refresh='refresh-2'):
    body = {'access_token': access, 'token_type': 'Bearer', 'expires_in': 300}
    if refresh:
        body['refresh_token'] = refresh
    return reply(json_body=body)


def refused(reply, error='invalid_grant', description='Token is not active', status=400):
    return reply(status=status, json_body={'error': error, 'error_description': description})


def form_of(request):
    return dict((key, values[0]) for key, values in parse_qs(request.body).items())


def test_auto_picks_oidc_server_for_a_refresh_token_endpoint_or_issuer(options):
    for given in ({'oidc_refresh_token': 'r'}, {'oidc_token_endpoint': ENDPOINT}, {'oidc_issuer': ISSUER}):
        assert auto_auth_method(options(**dict(given, username='demouser', password='p'))) == 'oidc_server'
    assert auto_auth_method(options(token='t', oidc_issuer=ISSUER)) == 'bearer'


def test_a_kept_refresh_token_is_spent_first_and_its_successor_kept(provider, reply):
    kept = []
    oidc, adapter = provider([granted(reply)], username='demouser', password='test123')
    assert oidc.log_in(ENDPOINT, KeptRefreshToken('refresh-1', None), kept.append) == 'access-1'
    assert kept == [KeptRefreshToken('refresh-2', None)]
    form = form_of(adapter.requests[0])
    assert form == {'grant_type': 'refresh_token', 'refresh_token': 'refresh-1', 'client_id': 'unicore-client',
                    'client_secret': 'client-s3cret'}
    assert 'Authorization' not in adapter.requests[0].headers


def test_without_a_refresh_token_the_password_grant_sends_user_scope_and_otp(provider, reply):
    oidc, adapter = provider([granted(reply)], username='demouser', password='test123', oidc_otp='123456',
                             oidc_scope='openid offline_access')
    assert oidc.log_in(ENDPOINT, None, None) == 'access-1'
    assert form_of(adapter.requests[0]) == {'grant_type': 'password', 'username': 'demouser', 'password': 'test123',
                                            'scope': 'openid offline_access', 'otp': '123456', 'client_id': 'unicore-client',
                                            'client_secret': 'client-s3cret'}


def test_a_refused_kept_refresh_token_falls_back_to_the_password(provider, reply):
    oidc, adapter = provider([refused(reply), granted(reply)], username='demouser', password='test123')
    assert oidc.log_in(ENDPOINT, KeptRefreshToken('refresh-1', None), None) == 'access-1'
    assert [form_of(request)['grant_type'] for request in adapter.requests] == ['refresh_token', 'password']


def test_a_refused_given_refresh_token_without_a_password_says_it_expired_or_was_used(provider, reply):
    oidc, adapter = provider([refused(reply)], oidc_refresh_token='given-refresh-token')
    with pytest.raises(UnicoreError) as error:
        oidc.log_in(ENDPOINT, KeptRefreshToken('kept-one', None), None)
    message = str(error.value)
    assert message.startswith('the OIDC provider at %s refused oidc_refresh_token: invalid_grant (Token is not active)' % ENDPOINT)
    assert 'expired or was used already' in message and 'give a new one' in message
    assert 'given-refresh-token' not in message and 'client-s3cret' not in message
    assert form_of(adapter.requests[0])['refresh_token'] == 'given-refresh-token'


def given_digest(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def test_a_kept_token_that_replaced_the_given_one_goes_first(provider, reply):
    # A rotating provider spent the given token at the last login: its successor, kept, is the given token's current form.
    kept = []
    oidc, adapter = provider([granted(reply)], oidc_refresh_token='given-refresh-token')
    assert oidc.log_in(ENDPOINT, KeptRefreshToken('successor', given_digest('given-refresh-token')), kept.append) == 'access-1'
    assert [form_of(request)['refresh_token'] for request in adapter.requests] == ['successor']
    assert kept == [KeptRefreshToken('refresh-2', given_digest('given-refresh-token'))]


def test_the_given_token_follows_when_its_kept_successor_is_refused(provider, reply):
    oidc, adapter = provider([refused(reply), granted(reply)], oidc_refresh_token='given-refresh-token')
    assert oidc.log_in(ENDPOINT, KeptRefreshToken('successor', given_digest('given-refresh-token')), None) == 'access-1'
    assert [form_of(request)['refresh_token'] for request in adapter.requests] == ['successor', 'given-refresh-token']


def test_a_kept_token_of_another_given_one_or_of_a_password_login_is_not_used_for_a_given_token(provider, reply):
    for kept_from in (given_digest('another-given-token'), None):
        kept = []
        oidc, adapter = provider([granted(reply)], oidc_refresh_token='given-refresh-token')
        oidc.log_in(ENDPOINT, KeptRefreshToken('unrelated', kept_from), kept.append)
        assert [form_of(request)['refresh_token'] for request in adapter.requests] == ['given-refresh-token']
        assert kept == [KeptRefreshToken('refresh-2', given_digest('given-refresh-token'))]


def test_a_password_login_keeps_a_token_that_descends_from_no_given_one(provider, reply):
    kept = []
    oidc, dummy = provider([refused(reply), granted(reply)], username='demouser', password='test123')
    oidc.log_in(ENDPOINT, KeptRefreshToken('stale', given_digest('given-refresh-token')), kept.append)
    assert kept == [KeptRefreshToken('refresh-2', None)]


def test_a_wrong_client_secret_names_the_client_options(provider, reply):
    oidc, dummy = provider([refused(reply, 'invalid_client', 'Invalid client credentials', 401)], username='demouser', password='test123')
    with pytest.raises(UnicoreError) as error:
        oidc.log_in(ENDPOINT, None, None)
    assert str(error.value) == ('the OIDC provider at %s refused the password grant: invalid_client (Invalid client credentials); '
                                'check oidc_client_id and oidc_client_secret (and oidc_client_auth)' % ENDPOINT)


def test_basic_client_authentication_sends_the_client_as_http_basic(provider, reply):
    oidc, adapter = provider([granted(reply)], username='demouser', password='test123', oidc_client_auth='basic',
                             oidc_client_secret='s3cret:with/odd chars')
    oidc.log_in(ENDPOINT, None, None)
    header = adapter.requests[0].headers['Authorization']
    assert base64.b64decode(header.split(' ', 1)[1]).decode('utf-8') == 'unicore-client:s3cret%3Awith%2Fodd%20chars'
    assert 'client_id' not in form_of(adapter.requests[0]) and 'client_secret' not in form_of(adapter.requests[0])


def test_a_public_client_sends_no_secret(provider, reply):
    oidc, adapter = provider([granted(reply)], username='demouser', password='test123', oidc_client_secret=None)
    oidc.log_in(ENDPOINT, None, None)
    assert form_of(adapter.requests[0])['client_id'] == 'unicore-client'
    assert 'client_secret' not in form_of(adapter.requests[0])


def test_the_issuer_names_the_token_endpoint(provider, reply):
    oidc, adapter = provider([reply(json_body={'issuer': ISSUER, 'token_endpoint': ENDPOINT})], oidc_token_endpoint=None,
                             oidc_issuer=ISSUER + '/')
    assert oidc.token_endpoint() == ENDPOINT
    assert adapter.requests[0].url == ISSUER + '/.well-known/openid-configuration'


def test_a_discovered_plain_http_token_endpoint_is_refused(provider, reply):
    oidc, dummy = provider([reply(json_body={'token_endpoint': 'http://idp.example/token'})], oidc_token_endpoint=None, oidc_issuer=ISSUER)
    with pytest.raises(UnicoreError, match='^oidc_issuer [(]its token_endpoint[)]: http://idp.example/token is not HTTPS'):
        oidc.token_endpoint()


def test_an_answer_that_is_not_json_is_named(provider, reply):
    oidc, dummy = provider([reply(body='<html>login</html>', headers={'Content-Type': 'text/html'})], username='u', password='p')
    with pytest.raises(UnicoreError, match='answered HTTP 200 with something that is not JSON [(]Content-Type: text/html[)]'):
        oidc.log_in(ENDPOINT, None, None)


@pytest.mark.parametrize('given, message', [
    ({'oidc_token_endpoint': None}, 'auth_method=oidc_server needs oidc_token_endpoint or oidc_issuer'),
    ({'oidc_client_id': None}, 'auth_method=oidc_server needs oidc_client_id'),
    ({'oidc_token_endpoint': 'http://idp.example/token'}, 'oidc_token_endpoint: http://idp.example/token is not HTTPS'),
    ({'oidc_refresh_token': 'abc\u00e9'}, 'oidc_refresh_token must be visible ASCII characters only'),
    ({}, 'auth_method=oidc_server needs oidc_refresh_token, a refresh token kept in oidc_refresh_token_file'),
])
def test_unusable_options_are_refused_offline(oidc_options, given, message):
    with pytest.raises(UnicoreError) as error:
        OidcServerCredential.from_options(oidc_options(**given)).validate()
    assert str(error.value).startswith(message)


# ---------------------------------------------------------------- the refresh-token file

def test_the_store_reads_ucc_s_format_and_keeps_the_other_endpoints(tmp_path):
    path = tmp_path / 'refresh-tokens'
    path.write_text(json.dumps({'https://other.example/token': {'refresh_token': 'other-one'}, ENDPOINT: {'refresh_token': 'old'}}))
    path.chmod(0o600)
    store = RefreshTokenStore(str(path))
    with store.locked():
        assert store.get(ENDPOINT) == KeptRefreshToken('old', None)
        store.put(ENDPOINT, KeptRefreshToken('new', None))
    assert json.loads(path.read_text()) == {'https://other.example/token': {'refresh_token': 'other-one'}, ENDPOINT: {'refresh_token': 'new'}}
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_the_store_names_the_given_token_an_entry_descends_from_beside_ucc_s_key(tmp_path):
    path = tmp_path / 'refresh-tokens'
    store = RefreshTokenStore(str(path))
    with store.locked():
        store.put(ENDPOINT, KeptRefreshToken('successor', 'f' * 64))
        assert store.get(ENDPOINT) == KeptRefreshToken('successor', 'f' * 64)
        assert json.loads(path.read_text()) == {ENDPOINT: {'refresh_token': 'successor', 'unicore_auth_from_given': 'f' * 64}}
        store.put(ENDPOINT, KeptRefreshToken('after-a-password-login', None))
    assert json.loads(path.read_text()) == {ENDPOINT: {'refresh_token': 'after-a-password-login'}}


def test_a_new_store_is_private(tmp_path):
    store = RefreshTokenStore(str(tmp_path / 'new' / 'refresh-tokens'))
    with store.locked():
        assert store.get(ENDPOINT) is None
        store.put(ENDPOINT, KeptRefreshToken('first', None))
    assert os.stat(tmp_path / 'new').st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / 'new' / 'refresh-tokens').st_mode & 0o777 == 0o600


def test_a_damaged_store_is_named_and_left_alone(tmp_path):
    path = tmp_path / 'refresh-tokens'
    path.write_text('not json')
    with pytest.raises(UnicoreError, match='oidc_refresh_token_file: .* is not the JSON of a refresh-token file'):
        RefreshTokenStore(str(path)).get(ENDPOINT)
    assert path.read_text() == 'not json'

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test server's OIDC provider, spoken to with plain requests: what the oidc_server kind relies on.

PYTEST_DONT_REWRITE: the asserts here hold secrets and tokens, which pytest would print
on a failure; the messages they carry are the provider's error answers only.
"""

from __future__ import annotations

import base64

import pytest
import requests


@pytest.fixture
def oidc(server):
    return server['oidc']


@pytest.fixture
def confidential(oidc):
    return oidc['clients']['confidential']


@pytest.fixture
def token_request(server, oidc):
    """POST a form to the token endpoint; returns the response."""
    def post(form, auth=None, **kwargs):
        return requests.post(oidc['token_endpoint'], data=form, auth=auth, verify=server['ca_cert'], timeout=10, **kwargs)
    return post


@pytest.fixture
def password_login(token_request, confidential):
    """The token answer of demouser's password login with the confidential client (form authentication)."""
    def login(username='demouser', password='test123', **extra):
        form = {'grant_type': 'password', 'username': username, 'password': password,
                'client_id': confidential['id'], 'client_secret': confidential['secret']}
        form.update(extra)
        response = token_request(form)
        assert response.status_code == 200, response.json()
        return response.json()
    return login


@pytest.fixture
def refresh(token_request, confidential):
    def post(refresh_token):
        return token_request({'grant_type': 'refresh_token', 'refresh_token': refresh_token,
                              'client_id': confidential['id'], 'client_secret': confidential['secret']})
    return post


@pytest.fixture
def site_login(server, site_url):
    """GET the site's base resource with a bearer token (no session id: a full authentication)."""
    def get(access_token):
        return requests.get(site_url, headers={'Authorization': 'Bearer ' + access_token}, verify=server['ca_cert'], timeout=10)
    return get


def assert_token_answer(answer, oidc, scope='openid'):
    assert answer['token_type'] == 'Bearer'
    assert answer['expires_in'] == oidc['access_token_lifetime']
    assert answer['refresh_expires_in'] == oidc['refresh_token_lifetime']
    assert answer['scope'] == scope
    assert answer['access_token'] and '.' not in answer['access_token']   # opaque: never taken for a JWT
    assert answer['refresh_token'] and answer['refresh_token'] != answer['access_token']


def assert_error(response, status, error, description_part=''):
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    assert response.headers['Cache-Control'] == 'no-store'
    assert set(body) == {'error', 'error_description'}, body
    assert body['error'] == error, body
    assert description_part in body['error_description'], body
    if error == 'invalid_client':
        assert response.headers['WWW-Authenticate'].startswith('Basic ')


def test_discovery_names_the_issuer_its_token_endpoint_grants_and_scopes(server, oidc):
    response = requests.get(oidc['issuer'] + '/.well-known/openid-configuration', verify=server['ca_cert'], timeout=10)
    assert response.status_code == 200
    metadata = response.json()
    assert metadata['issuer'] == oidc['issuer']
    assert metadata['token_endpoint'] == oidc['token_endpoint']
    assert oidc['discovery_url'] == oidc['issuer'] + '/.well-known/openid-configuration'
    assert set(metadata['grant_types_supported']) == {'password', 'refresh_token'}
    assert {'openid', 'offline_access'} <= set(metadata['scopes_supported'])
    assert set(metadata['token_endpoint_auth_methods_supported']) == {'client_secret_post', 'client_secret_basic'}


def test_the_issuer_is_a_keycloak_realm_on_the_servers_own_port(server, oidc):
    assert oidc['issuer'] == server['base_url'] + '/auth/realms/unicore'
    assert oidc['token_endpoint'] == oidc['issuer'] + '/protocol/openid-connect/token'


def test_password_grant_with_the_client_secret_in_the_form(password_login, oidc):
    assert_token_answer(password_login(), oidc)


def test_password_grant_with_http_basic_client_authentication(token_request, confidential, oidc):
    response = token_request({'grant_type': 'password', 'username': 'demouser', 'password': 'test123',
                              'scope': 'openid offline_access'}, auth=(confidential['id'], confidential['secret']))
    assert response.status_code == 200, response.json()
    assert response.headers['Cache-Control'] == 'no-store'
    assert_token_answer(response.json(), oidc, scope='openid offline_access')


def test_basic_client_authentication_may_repeat_the_client_id_in_the_form(token_request, confidential):
    response = token_request({'grant_type': 'password', 'username': 'demouser', 'password': 'test123', 'client_id': confidential['id']},
                             auth=(confidential['id'], confidential['secret']))
    assert response.status_code == 200


def test_public_client_logs_in_with_its_id_only(token_request, oidc):
    response = token_request({'grant_type': 'password', 'username': 'demouser', 'password': 'test123',
                              'client_id': oidc['clients']['public']['id']})
    assert response.status_code == 200, response.json()
    assert_token_answer(response.json(), oidc)


def test_refresh_rotates_and_the_used_refresh_token_is_refused(password_login, refresh, oidc):
    first = password_login()
    second = refresh(first['refresh_token'])
    assert second.status_code == 200, second.json()
    assert_token_answer(second.json(), oidc)
    assert second.json()['refresh_token'] != first['refresh_token']
    assert second.json()['access_token'] != first['access_token']
    assert_error(refresh(first['refresh_token']), 400, 'invalid_grant', 'already used')
    assert refresh(second.json()['refresh_token']).status_code == 200


def test_the_reusable_refresh_client_answers_with_new_tokens_and_the_used_refresh_token_stays_good(
        token_request, site_login, control, oidc, refresh):
    """As a Keycloak realm with "Revoke Refresh Token" off: what a refresh token kept in AWX or Vault needs."""
    reusable = oidc['clients']['reusable_refresh']
    assert reusable['rotates_refresh_tokens'] is False
    assert reusable['id'] not in (oidc['clients']['confidential']['id'], oidc['clients']['public']['id'])

    def reusable_refresh(refresh_token):
        return token_request({'grant_type': 'refresh_token', 'refresh_token': refresh_token}, auth=(reusable['id'], reusable['secret']))

    login = token_request({'grant_type': 'password', 'username': 'demouser', 'password': 'test123', 'scope': 'openid offline_access'},
                          auth=(reusable['id'], reusable['secret']))
    assert login.status_code == 200, login.json().get('error_description')
    assert_token_answer(login.json(), oidc, scope='openid offline_access')
    kept = login.json()['refresh_token']
    answers = [reusable_refresh(kept) for _attempt in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200], [answer.json().get('error_description') for answer in answers]
    for answer in answers:
        assert_token_answer(answer.json(), oidc, scope='openid offline_access')
    # each answer carries new tokens, as Keycloak's do; the one the last answer carried works as well
    assert len({answer.json()['refresh_token'] for answer in answers} | {kept}) == 4
    assert len({answer.json()['access_token'] for answer in answers} | {login.json()['access_token']}) == 4
    assert reusable_refresh(answers[-1].json()['refresh_token']).status_code == 200
    assert site_login(answers[0].json()['access_token']).json()['client']['authenticationMethod'] == 'OAUTH'
    # still bound to its client: the rotating confidential client may not use it, and that refusal spends nothing
    assert_error(refresh(kept), 400, 'invalid_grant', "client don't match")
    assert reusable_refresh(kept).status_code == 200
    # and it still expires
    control.expire_oidc_refresh_tokens()
    assert_error(reusable_refresh(kept), 400, 'invalid_grant', 'not active')
    assert control.stats()['oidc_grants'] == {'password': {'ok': 1}, 'refresh_token': {'ok': 5, 'invalid_grant': 2}}


def test_the_rotating_clients_still_refuse_a_used_refresh_token_of_their_own(password_login, refresh, token_request, oidc):
    # the reusable client's setting is its own: a confidential client's token is still used up by a refresh,
    # also when the reusable client's credentials present it
    reusable = oidc['clients']['reusable_refresh']
    answer = password_login()
    assert_error(token_request({'grant_type': 'refresh_token', 'refresh_token': answer['refresh_token']},
                               auth=(reusable['id'], reusable['secret'])), 400, 'invalid_grant', "client don't match")
    assert refresh(answer['refresh_token']).status_code == 200
    assert_error(refresh(answer['refresh_token']), 400, 'invalid_grant', 'already used')


def test_refresh_keeps_the_granted_scope_and_refuses_a_wider_one(password_login, refresh, token_request, confidential):
    answer = password_login(scope='openid offline_access')
    refreshed = refresh(answer['refresh_token'])
    assert refreshed.json()['scope'] == 'openid offline_access'
    wider = token_request({'grant_type': 'refresh_token', 'refresh_token': refreshed.json()['refresh_token'], 'scope': 'openid email'},
                          auth=(confidential['id'], confidential['secret']))
    assert_error(wider, 400, 'invalid_scope', 'email')
    # a refused request does not use the refresh token up
    assert refresh(refreshed.json()['refresh_token']).status_code == 200


def test_refresh_token_of_another_client_is_refused_and_stays_usable(password_login, token_request, refresh, oidc):
    answer = password_login()
    response = token_request({'grant_type': 'refresh_token', 'refresh_token': answer['refresh_token'],
                              'client_id': oidc['clients']['public']['id']})
    assert_error(response, 400, 'invalid_grant', "client don't match")
    assert refresh(answer['refresh_token']).status_code == 200


def test_otp_user_logs_in_with_its_one_time_code(password_login, site_login, oidc, server, same_dn):
    otp_user = oidc['users'][oidc['otp_user']]
    answer = password_login(otp_user['username'], otp_user['password'], otp=otp_user['otp'])
    client = site_login(answer['access_token']).json()['client']
    assert same_dn(client['dn'], server['users'][oidc['otp_user']]['dn'])
    assert client['authenticationMethod'] == 'OAUTH'


@pytest.mark.parametrize('otp, description', [(None, 'one-time code is required'), ('0000', 'Invalid one-time code')],
                         ids=['without-otp', 'wrong-otp'])
def test_otp_user_without_the_right_code_gets_invalid_grant(token_request, confidential, oidc, otp, description):
    otp_user = oidc['users'][oidc['otp_user']]
    form = {'grant_type': 'password', 'username': otp_user['username'], 'password': otp_user['password']}
    if otp is not None:
        form['otp'] = otp
    response = token_request(form, auth=(confidential['id'], confidential['secret']))
    assert_error(response, 400, 'invalid_grant', description)
    assert otp_user['otp'] not in response.text and otp_user['password'] not in response.text


def test_the_other_users_need_no_code(password_login, oidc):
    for name, user in oidc['users'].items():
        if name != oidc['otp_user']:
            password_login(user['username'], user['password'])


def _basic(value):
    return 'Basic ' + base64.b64encode(value.encode()).decode()


def _error_cases():
    """(id, form, auth, headers, status, error, part of the description) of every refusal."""
    login = {'grant_type': 'password', 'username': 'demouser', 'password': 'test123'}
    return [
        ('wrong-secret-in-form', dict(login, client_id='CONFIDENTIAL', client_secret='wrong'), None, {}, 401, 'invalid_client', 'Invalid client'),
        ('wrong-secret-basic', login, ('CONFIDENTIAL', 'wrong'), {}, 401, 'invalid_client', 'Invalid client'),
        ('unknown-client', dict(login, client_id='nobody', client_secret='x'), None, {}, 401, 'invalid_client', 'Invalid client'),
        ('no-client-authentication', login, None, {}, 401, 'invalid_client', 'client_id'),
        ('confidential-client-without-secret', dict(login, client_id='CONFIDENTIAL'), None, {}, 401, 'invalid_client', 'secret'),
        ('malformed-basic', login, None, {'Authorization': _basic('no-colon')}, 401, 'invalid_client', 'Malformed'),
        ('bearer-instead-of-basic', login, None, {'Authorization': 'Bearer x'}, 401, 'invalid_client', 'HTTP Basic'),
        ('wrong-password', dict(login, password='wrong'), ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_grant', 'Invalid user credentials'),
        ('unknown-user', dict(login, username='nobody'), ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_grant', 'Invalid user credentials'),
        ('unknown-refresh-token', {'grant_type': 'refresh_token', 'refresh_token': 'not-a-token'}, ('CONFIDENTIAL', 'SECRET'), {}, 400,
         'invalid_grant', 'not active'),
        ('unsupported-grant-type', {'grant_type': 'client_credentials'}, ('CONFIDENTIAL', 'SECRET'), {}, 400, 'unsupported_grant_type', 'password'),
        ('missing-grant-type', {'username': 'demouser'}, ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_request', 'grant_type'),
        ('missing-password', {'grant_type': 'password', 'username': 'demouser'}, ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_request', 'password'),
        ('empty-username', dict(login, username=''), ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_request', 'username'),
        ('missing-refresh-token', {'grant_type': 'refresh_token'}, ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_request', 'refresh_token'),
        ('two-client-authentications', dict(login, client_secret='SECRET'), ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_request', 'not both'),
        ('unknown-scope', dict(login, scope='openid admin'), ('CONFIDENTIAL', 'SECRET'), {}, 400, 'invalid_scope', 'admin'),
    ]


@pytest.mark.parametrize('form, auth, headers, status, error, description', [case[1:] for case in _error_cases()],
                         ids=[case[0] for case in _error_cases()])
def test_refusals_are_rfc_6749_errors(token_request, confidential, form, auth, headers, status, error, description):
    def fill(value):
        return {'CONFIDENTIAL': confidential['id'], 'SECRET': confidential['secret']}.get(value, value)

    form = {name: fill(value) for name, value in form.items()}
    auth = tuple(fill(value) for value in auth) if auth else None
    response = token_request(form, auth=auth, headers=headers)
    assert_error(response, status, error, description)
    assert confidential['secret'] not in response.text


def test_a_json_body_is_not_a_form(server, oidc, confidential):
    response = requests.post(oidc['token_endpoint'], json={'grant_type': 'password', 'username': 'demouser', 'password': 'test123'},
                             auth=(confidential['id'], confidential['secret']), verify=server['ca_cert'], timeout=10)
    assert_error(response, 400, 'invalid_request', 'application/x-www-form-urlencoded')


def test_a_repeated_parameter_is_refused(token_request, confidential):
    response = token_request([('grant_type', 'password'), ('username', 'demouser'), ('username', 'otheruser'), ('password', 'test123')],
                             auth=(confidential['id'], confidential['secret']))
    assert_error(response, 400, 'invalid_request', 'more than once')


def test_the_token_endpoint_takes_post_only(server, oidc):
    response = requests.get(oidc['token_endpoint'], verify=server['ca_cert'], timeout=10)
    assert response.status_code == 405
    assert response.headers['Allow'] == 'POST'


def test_an_access_token_logs_in_at_the_site_as_the_same_user(password_login, site_login, control, demouser, same_dn):
    response = site_login(password_login()['access_token'])
    assert response.status_code == 200
    client = response.json()['client']
    assert same_dn(client['dn'], demouser['dn'])
    assert client['authenticationMethod'] == 'OAUTH'
    assert client['role'] == {'selected': 'user', 'availableRoles': demouser['roles']}
    assert client['xlogin']['UID'] == demouser['uids'][0]
    authentications = control.stats()['full_authentications']
    assert authentications == {'OAUTH': 1}, authentications


def test_an_unmapped_user_logs_in_at_the_provider_and_is_anonymous_at_the_site(password_login, site_login, server):
    unmapped = server['oidc']['users']['unmapped']
    client = site_login(password_login(unmapped['username'], unmapped['password'])['access_token']).json()['client']
    assert client['authenticationMethod'] == 'OAUTH'
    assert client['role']['selected'] == 'anonymous'


def test_the_fixtures_long_lived_tokens_still_log_in(site_login, server):
    assert site_login(server['oidc_tokens']['demouser']['token']).json()['client']['authenticationMethod'] == 'OAUTH'
    assert site_login(server['oidc_tokens']['expired']['token']).status_code == 403


def test_the_site_refuses_access_tokens_once_they_expire(password_login, site_login, control, server):
    access_token = password_login()['access_token']
    assert site_login(access_token).status_code == 200
    control.expire_oidc_access_tokens()
    refused = site_login(access_token)
    assert refused.status_code == 403, refused.status_code
    assert refused.content == b''
    assert control.stats()['forbidden_403'] == 1
    # the tokens the fixtures hand out are not the provider's: they keep working
    assert site_login(server['oidc_tokens']['demouser']['token']).status_code == 200


def test_expired_refresh_tokens_give_invalid_grant(password_login, refresh, control):
    answer = password_login()
    control.expire_oidc_refresh_tokens()
    assert_error(refresh(answer['refresh_token']), 400, 'invalid_grant', 'not active')
    # the access token lives on until it expires itself
    assert control.oidc_tokens()['access_tokens_active'] >= 1


def test_the_control_api_counts_active_tokens(password_login, refresh, control):
    before = control.oidc_tokens()
    answer = password_login()
    refresh(answer['refresh_token'])
    after = control.oidc_tokens()
    assert after['access_tokens_active'] - before['access_tokens_active'] == 2
    assert after['refresh_tokens_active'] - before['refresh_tokens_active'] == 1   # the first was used up
    control.expire_oidc_access_tokens()
    control.expire_oidc_refresh_tokens()
    assert control.oidc_tokens() == {'access_tokens_active': 0, 'refresh_tokens_active': 0}


def test_counters_per_grant_type_and_outcome(password_login, refresh, token_request, control, server, oidc):
    answer = password_login()
    refresh(answer['refresh_token'])
    refresh(answer['refresh_token'])
    token_request({'grant_type': 'password', 'username': 'demouser', 'password': 'wrong', 'client_id': oidc['clients']['public']['id']})
    token_request({'grant_type': 'password', 'username': 'demouser', 'password': 'test123', 'client_id': 'nobody'})
    token_request({'grant_type': 'client_credentials'})
    requests.get(oidc['discovery_url'], verify=server['ca_cert'], timeout=10)
    stats = control.stats()
    assert stats['oidc_grants'] == {
        'password': {'ok': 1, 'invalid_grant': 1, 'invalid_client': 1},
        'refresh_token': {'ok': 1, 'invalid_grant': 1},
        'other': {'unsupported_grant_type': 1},
    }, stats['oidc_grants']
    assert stats['oidc_discovery'] == 1, stats['oidc_discovery']
    assert stats['requests']['per_site'] == {'OIDC': 7}, stats['requests']
    control.reset()
    assert control.stats()['oidc_grants'] == {}


def test_every_issued_token_is_logged_for_the_leak_scan(password_login, oidc):
    answer = password_login()
    with open(oidc['issued_tokens_log'], encoding='ascii') as log:
        lines = set(log.read().splitlines())
    assert 'access ' + answer['access_token'] in lines
    assert 'refresh ' + answer['refresh_token'] in lines

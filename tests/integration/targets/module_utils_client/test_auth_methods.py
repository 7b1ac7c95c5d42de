# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every auth method, through module_utils, against the test server over HTTPS."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError

DEMO_DN = 'CN=Demo User, O=UNICORE, C=EU'


def assert_logged_in_as_demouser(info, method):
    client = info['client']
    assert client['dn'] == 'CN=Demo User,O=UNICORE,C=EU'
    assert client['role']['selected'] == 'user'
    assert client['xlogin']['UID'] == 'demouser'
    assert client['authenticationMethod'] == method


def test_password_login_maps_to_demo_user(make_client, server, demouser, control, same_dn):
    info = make_client(username='demouser', password=demouser['password']).access_info()
    assert_logged_in_as_demouser(info, 'PASSWORD_FILE')
    assert info['server']['version'].count('.') == 2
    assert same_dn(info['server']['dn'], server['sites']['DEMO-SITE']['dn'])
    assert control.stats()['full_authentications']['PASSWORD_FILE'] == 1


def test_wrong_password_is_refused_with_403_and_no_secret_in_message(make_client, site_url):
    with pytest.raises(UnicoreError) as failure:
        make_client(username='demouser', password='not-the-password').access_info()
    message = str(failure.value)
    assert failure.value.status == 403
    assert site_url in message
    assert 'refused the credentials (auth_method=password)' in message
    assert 'not-the-password' not in message


def test_basic_token_login(make_client, demouser):
    value = base64.b64encode(('demouser:%s' % demouser['password']).encode()).decode()
    info = make_client(auth_method='basic_token', token=value).access_info()
    assert_logged_in_as_demouser(info, 'PASSWORD_FILE')


def test_oidc_bearer_login(make_client, server):
    token = next(entry for entry in server['oidc_tokens'].values() if entry['valid'] and entry['user'] == 'demouser')
    info = make_client(token=token['token']).access_info()
    assert_logged_in_as_demouser(info, 'OAUTH')


def test_revoked_oidc_token_is_refused(make_client, server):
    token = next(entry for entry in server['oidc_tokens'].values() if not entry['valid'])
    with pytest.raises(UnicoreError) as failure:
        make_client(token=token['token']).access_info()
    assert failure.value.status == 403
    assert token['token'] not in str(failure.value)


def test_ssh_key_login_with_each_registered_key(make_client, registered_key):
    info = make_client(username='demouser', identity=registered_key['path'],
                       identity_passphrase=registered_key['passphrase']).access_info()
    assert_logged_in_as_demouser(info, 'SSHKEY')


def test_ssh_key_login_from_key_content(make_client, server):
    key = next(key for key in server['keys'].values() if key.get('registered_for') == 'demouser' and key['passphrase'])
    with open(key['path']) as key_file:
        content = key_file.read()
    info = make_client(username='demouser', identity_content=content, identity_passphrase=key['passphrase']).access_info()
    assert_logged_in_as_demouser(info, 'SSHKEY')


def test_ssh_key_that_is_not_registered_is_refused(make_client, server):
    key = next(key for key in server['keys'].values() if key.get('registered_for') is None)
    with pytest.raises(UnicoreError) as failure:
        make_client(username='demouser', identity=key['path'], identity_passphrase=key['passphrase']).access_info()
    assert failure.value.status == 403


def test_trusted_service_signing_with_its_certificate_key(make_client, server):
    service = server['trusted_service']
    info = make_client(auth_method='trusted_service', subject=DEMO_DN,
                       client_cert=service['cert'], client_key=service['key']).access_info()
    assert_logged_in_as_demouser(info, 'ETD')


def test_trusted_service_signing_with_identity_and_issuer(make_client, server):
    service = server['trusted_service']
    info = make_client(auth_method='trusted_service', subject=DEMO_DN, issuer=service['dn'],
                       identity=service['key']).access_info()
    assert_logged_in_as_demouser(info, 'ETD')


def test_trusted_service_signing_with_hmac_secret(make_client, server):
    service = server['trusted_service']
    info = make_client(auth_method='trusted_service', subject=DEMO_DN, issuer=service['dn'],
                       hmac_secret=service['hmac_secret']).access_info()
    assert_logged_in_as_demouser(info, 'ETD')


def test_untrusted_service_is_refused(make_client, server):
    service = server['untrusted_service']
    with pytest.raises(UnicoreError) as failure:
        make_client(auth_method='trusted_service', subject=DEMO_DN, issuer=service['dn'], identity=service['key']).access_info()
    assert failure.value.status == 403


def test_x509_client_certificate_login(make_client, server):
    certificate = server['client_certs']['demouser']
    info = make_client(auth_method='x509', client_cert=certificate['cert'], client_key=certificate['key']).access_info()
    assert_logged_in_as_demouser(info, 'X509')


def test_anonymous_access_sends_no_credentials(make_client, control):
    info = make_client(auth_method='anonymous').access_info()
    assert info['client']['role']['selected'] == 'anonymous'
    assert control.requests(1)[-1]['authorization_scheme'] is None


def test_login_that_maps_to_nobody_gets_role_anonymous(make_client, server):
    user = next(name for name, entry in server['users'].items() if not entry['mapped'])
    info = make_client(username=user, password=server['users'][user]['password']).access_info()
    assert info['client']['role'] == {'selected': 'anonymous', 'availableRoles': ['anonymous']}
    assert info['client']['xlogin'] == {}


def test_unknown_ca_fails_verification_with_a_hint(make_client):
    with pytest.raises(UnicoreError) as failure:
        make_client(username='demouser', password='test123', ca_path=None).access_info()
    assert 'certificate verify failed' in str(failure.value)
    assert 'ca_path' in str(failure.value)

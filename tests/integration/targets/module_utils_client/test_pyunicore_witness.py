# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyUNICORE 2.0.2, the official client, as an independent witness of the test server and of our client."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile

import httpx
import pytest
import yaml
from pyunicore import client as pyunicore_client
from pyunicore import credentials as pyunicore_credentials

from ansible_collections.unicore.auth.plugins.module_utils._credentials import BasicTokenCredential, PasswordCredential


@pytest.fixture
def pyunicore_site(server, site_url):
    def connect(credential, url=site_url):
        transport = pyunicore_client.Transport(credential, verify=ssl.create_default_context(cafile=server['ca_cert']))
        return pyunicore_client.Client(transport, url)
    return connect


def test_password_login_gives_the_same_client_object_as_ours(pyunicore_site, make_client, demouser):
    theirs = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password'])).access_info()
    ours = make_client(username='demouser', password=demouser['password']).access_info()['client']
    assert theirs == ours


def test_group_switch(pyunicore_site, demouser):
    site = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password']))
    site.transport.preferences = 'group:hpc'
    site.cache_time = 0
    assert site.access_info()['xlogin']['group'] == 'hpc'


def test_token_issue_and_etd_login(pyunicore_site, demouser):
    site = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password']))
    token = site.issue_auth_token(lifetime=300, renewable=True)
    etd_site = pyunicore_site(pyunicore_credentials.OIDCToken(token))
    assert etd_site.access_info()['authenticationMethod'] == 'ETD'


def test_non_renewable_refusal(pyunicore_site, demouser):
    site = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password']))
    token = site.issue_auth_token(lifetime=300, renewable=False)
    etd_site = pyunicore_site(pyunicore_credentials.OIDCToken(token))
    with pytest.raises(httpx.HTTPError) as failure:
        etd_site.issue_auth_token(lifetime=300)
    assert '403' in str(failure.value)
    assert 'non-renewable' in str(failure.value)


def test_our_password_header_equals_pyunicore(demouser):
    theirs = pyunicore_credentials.UsernamePassword('demouser', demouser['password']).get_auth_header()
    assert PasswordCredential('demouser', demouser['password']).authorization_header() == theirs


def test_our_basic_token_header_equals_pyunicore():
    value = 'ZGVtb3VzZXI6dGVzdDEyMw=='
    assert BasicTokenCredential(value).authorization_header() == pyunicore_credentials.BasicToken(value).get_auth_header()


# -- the test server's OIDC provider, through PyUNICORE's OIDC credentials -------------

@pytest.fixture
def oidc_server_token(server, tmp_path, monkeypatch):
    """PyUNICORE's OIDCServerToken with the confidential client; its refresh tokens kept in tmp_path."""
    # PyUNICORE posts to the token endpoint with httpx defaults: the CA comes from the environment
    monkeypatch.setenv('SSL_CERT_FILE', server['ca_cert'])
    oidc = server['oidc']

    def credential(user='demouser', authentication='POST', **config):
        settings = {
            'oidc.endpoint': oidc['token_endpoint'],
            'oidc.clientID': oidc['clients']['confidential']['id'],
            'oidc.clientSecret': oidc['clients']['confidential']['secret'],
            'oidc.authentication': authentication,
            'oidc.username': oidc['users'][user]['username'],
            'oidc.password': oidc['users'][user]['password'],
            'oidc.refreshTokenFile': str(tmp_path / 'refresh-tokens'),
        }
        settings.update(config)
        return pyunicore_credentials.OIDCServerToken(settings)
    return credential


def kept_refresh_token(path, endpoint):
    with open(path, encoding='utf-8') as kept:
        return json.load(kept)[endpoint]['refresh_token']


# No fixture dict, token or secret appears in an assert below: pytest would print it on failure.

@pytest.mark.parametrize('authentication', ['POST', 'BASIC'])
def test_oidc_server_token_logs_in_with_a_password_then_refreshes(pyunicore_site, oidc_server_token, control, server,
                                                                  authentication, same_dn):
    demouser_dn = server['users']['demouser']['dn']
    credential = oidc_server_token(authentication=authentication, **{'oidc.storeRefreshToken': False})
    client = pyunicore_site(credential).access_info()
    assert client['authenticationMethod'] == 'OAUTH'
    assert same_dn(client['dn'], demouser_dn)
    first = credential.token
    credential.get_token()
    credential.get_token()
    # PyUNICORE refreshes on every call; each answer rotates the refresh token, and it uses the new one
    assert control.stats()['oidc_grants'] == {'password': {'ok': 1}, 'refresh_token': {'ok': 2}}
    if credential.token == first:
        pytest.fail('a refresh gave the same access token')


def test_pyunicore_2_0_2_writes_the_used_refresh_token_back_to_its_file(oidc_server_token, control, server, tmp_path):
    """A known PyUNICORE 2.0.2 bug, pinned so that an upgrade that fixes it is noticed.

    store_refresh_token() reads the file again before writing it, and that read sets the
    credential's refresh token back to the one in the file: after the first refresh the
    file (and the credential) keep the used token, and the next refresh is refused.
    PyUNICORE swallows that error and keeps sending its last access token.
    """
    endpoint = server['oidc']['token_endpoint']
    credential = oidc_server_token()
    credential.get_token()
    after_login = kept_refresh_token(tmp_path / 'refresh-tokens', endpoint)
    credential.get_token()
    if kept_refresh_token(tmp_path / 'refresh-tokens', endpoint) != after_login:
        pytest.fail('PyUNICORE kept the rotated refresh token: the bug this test pins is fixed')
    credential.get_token()
    assert control.stats()['oidc_grants'] == {'password': {'ok': 1}, 'refresh_token': {'ok': 1, 'invalid_grant': 1}}


def test_oidc_server_token_logs_in_again_with_the_kept_refresh_token_alone(pyunicore_site, oidc_server_token, control):
    oidc_server_token().get_token()
    control.reset()
    # a wrong password (none at all would make PyUNICORE prompt for one): a password grant would show in the counters
    credential = oidc_server_token(**{'oidc.password': 'never-sent'})
    assert pyunicore_site(credential).access_info()['authenticationMethod'] == 'OAUTH'
    assert 'password' not in control.stats()['oidc_grants']


def run_collection_module(module, args, private_vars, work_dir):
    """The result of ``ansible localhost -m MODULE``: the collection's module run by Ansible itself.

    ``args`` may name variables of ``private_vars``, which go to Ansible in a 0600
    file in ``work_dir``, never on the command line. The run inherits the suite's
    Ansible configuration (-vvvv, log_path), so the secrets scan reads its output.
    """
    ansible = shutil.which('ansible')
    if ansible is None:
        pytest.fail('ansible is not on PATH: runme.sh runs in the venv of ansible-test')
    vars_path = os.path.join(work_dir, 'module-vars.json')
    with os.fdopen(os.open(vars_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w', encoding='utf-8') as vars_file:
        # the interpreter of this test, which has the module's requirements; implicit localhost, connection local
        json.dump(dict(private_vars, ansible_python_interpreter=sys.executable), vars_file)
    # credentials only from the arguments; no JUnit file of Ansible's own among the target's
    env = {name: value for name, value in os.environ.items() if not name.startswith('UNICORE_') or name == 'UNICORE_INTEGRATION_CONFIG'}
    env.update(JUNIT_OUTPUT_DIR=work_dir, ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    completed = subprocess.run([ansible, 'localhost', '-m', module, '-a', json.dumps(args), '-e', '@' + vars_path], env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
    sys.stdout.write(completed.stdout)
    sys.stderr.write(completed.stderr[-5000:])
    # the ad hoc output: "localhost | SUCCESS => {...}" (or FAILED!), the JSON over one or more lines
    start = completed.stdout.find('localhost | ')
    brace = completed.stdout.find('{', start) if start >= 0 else -1
    if brace < 0:
        pytest.fail('ansible -m %s gave no result (exit status %d)' % (module, completed.returncode))
    result = json.JSONDecoder().raw_decode(completed.stdout[brace:])[0]
    if completed.returncode != 0 or result.get('failed'):
        pytest.fail('ansible -m %s failed (exit status %d): %s' % (module, completed.returncode, result.get('msg')))
    return result


def test_the_collection_logs_in_with_the_refresh_token_file_pyunicore_wrote(oidc_server_token, control, server, tmp_path, site_url,
                                                                            same_dn):
    """A refresh-token file written by PyUNICORE's OIDCServerToken (UCC's format) serves the module as it is.

    PyUNICORE logs in once, with the password grant, into a file that does not exist
    yet: its store_refresh_token() re-reads the file before writing it, finds none,
    and writes the refresh token the provider just issued, so the file holds a live
    one. (A second get_token() would refresh, spend that token, and, by the 2.0.2 bug
    pinned above, write the spent one back: the file would then hold a token the
    provider refuses.) PyUNICORE is given the file's path: its default,
    HOME + ".ucc/refresh-tokens", lacks a slash, and it neither expands "~" nor
    creates the directory. The module, given that path and no password, logs in with
    one refresh grant and writes the rotated token back in the same format, 0600;
    PyUNICORE then logs in from the file the module wrote, again without a password grant.
    The module runs as a playbook runs it, through ``ansible localhost -m`` with the
    collection on ANSIBLE_COLLECTIONS_PATH (runme.sh has it), not through module_utils:
    what is shown is what a user gets, option handling and no_log included.
    """
    endpoint = server['oidc']['token_endpoint']
    demouser_dn = server['users']['demouser']['dn']
    refresh_file = tmp_path / 'refresh-tokens'
    oidc_server_token().get_token()
    stats = control.stats()
    print('counters, PyUNICORE logs in: %s' % json.dumps(stats, sort_keys=True))
    assert stats['oidc_grants'] == {'password': {'ok': 1}}
    with open(refresh_file, encoding='utf-8') as written:
        pyunicore_entries = json.load(written)
    if list(pyunicore_entries) != [endpoint] or list(pyunicore_entries[endpoint]) != ['refresh_token']:
        pytest.fail('PyUNICORE wrote its refresh-token file in another format: keys %s' % sorted(pyunicore_entries))
    # PyUNICORE opens it with the umask's mode; as under the usual umask 022, whatever this one is
    os.chmod(refresh_file, 0o644)
    control.reset()

    result = run_collection_module('unicore.auth.unicore_access_info', {
        'url': '{{ site_url }}',
        'ca_path': '{{ ca_path }}',
        'auth_method': 'oidc_server',
        'oidc_token_endpoint': '{{ token_endpoint }}',
        'oidc_client_id': '{{ client_id }}',
        'oidc_client_secret': '{{ client_secret }}',
        'oidc_refresh_token_file': '{{ refresh_file }}',
    }, {
        'site_url': site_url,
        'ca_path': server['ca_cert'],
        'token_endpoint': endpoint,
        'client_id': server['oidc']['clients']['confidential']['id'],
        'client_secret': server['oidc']['clients']['confidential']['secret'],
        'refresh_file': str(refresh_file),
    }, str(tmp_path))
    stats = control.stats()
    print('counters, the module logs in with the file PyUNICORE wrote: %s' % json.dumps(stats, sort_keys=True))
    assert result['access_info']['authentication_method'] == 'OAUTH'
    assert same_dn(result['access_info']['dn'], demouser_dn)
    assert stats['oidc_grants'] == {'refresh_token': {'ok': 1}}
    assert stats['requests']['per_site'] == {'OIDC': 1, 'DEMO-SITE': 1}
    assert stats['full_authentications'] == {'OAUTH': 1}
    assert stats['tokens_issued']['total'] == 0

    with open(refresh_file, encoding='utf-8') as written:
        collection_entries = json.load(written)
    # compared without showing them: they are live refresh tokens
    if list(collection_entries) != [endpoint] or list(collection_entries[endpoint]) != ['refresh_token']:
        pytest.fail('the module wrote the refresh-token file in another format: keys %s' % sorted(collection_entries))
    if collection_entries[endpoint]['refresh_token'] == pyunicore_entries[endpoint]['refresh_token']:
        pytest.fail('the module kept the refresh token it spent, not the rotated one')
    assert stat.S_IMODE(os.stat(refresh_file).st_mode) == 0o600

    control.reset()
    # a wrong password (none at all would make PyUNICORE prompt for one): a password grant would show in the counters
    oidc_server_token(**{'oidc.password': 'never-sent'}).get_token()
    stats = control.stats()
    print('counters, PyUNICORE logs in with the file the module wrote: %s' % json.dumps(stats, sort_keys=True))
    assert stats['oidc_grants'] == {'refresh_token': {'ok': 1}}


def test_oidc_server_token_falls_back_to_the_password_when_the_kept_refresh_token_expired(oidc_server_token, control):
    oidc_server_token().get_token()
    control.expire_oidc_refresh_tokens()
    control.reset()
    oidc_server_token().get_token()
    assert control.stats()['oidc_grants'] == {'refresh_token': {'invalid_grant': 1}, 'password': {'ok': 1}}


def test_oidc_server_token_sends_the_one_time_code(pyunicore_site, oidc_server_token, server, same_dn):
    otp_user = server['oidc']['otp_user']
    otp_user_dn = server['users'][otp_user]['dn']
    credential = oidc_server_token(user=otp_user, **{'oidc.otp': server['oidc']['users'][otp_user]['otp']})
    assert same_dn(pyunicore_site(credential).access_info()['dn'], otp_user_dn)


def test_oidc_server_token_without_the_one_time_code_is_refused(oidc_server_token, server):
    otp_user = server['oidc']['otp_user']
    with pytest.raises(httpx.HTTPStatusError) as failure:
        oidc_server_token(user=otp_user).get_token()
    assert failure.value.response.status_code == 400
    assert failure.value.response.json()['error'] == 'invalid_grant'


AGENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'setup_unicore_testserver', 'files', 'agents.py')


@pytest.fixture
def oidc_agent_account():
    """An oidc-agent holding an account of demouser at the provider; (socket, account).

    Started by the tests' own agents.py (setup_unicore_testserver), as
    docs/oidc-and-agents.md describes: in the foreground, stopped by its PID,
    in a directory of its own, the account made by oidc-gen with the password flow.
    """
    # a short path: a UNIX socket's name must fit in 108 bytes
    home = tempfile.mkdtemp(prefix='oidc-agent-')
    with open(os.environ['UNICORE_INTEGRATION_CONFIG'], encoding='utf-8') as config_file:
        config = yaml.safe_load(config_file)
    try:
        started = subprocess.run([sys.executable, AGENTS, 'oidc-start', home, config['unicore_testserver_fixtures']],
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)
        if started.returncode != 0:
            pytest.fail('agents.py could not start oidc-agent: %s' % started.stderr.strip())
        agent = json.loads(started.stdout)
        if not agent['installed']:
            pytest.skip('the OIDCAgentToken witness needs the real agent: %s' % agent['reason'])
        yield agent['socket'], agent['account']
    finally:
        subprocess.run([sys.executable, AGENTS, 'stop', home], stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
        shutil.rmtree(home, ignore_errors=True)


def ask_agent(sock, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(sock)
        connection.sendall(json.dumps(request).encode('utf-8'))
        return json.loads(connection.recv(65536).decode('utf-8'))


def test_oidc_agent_token_logs_in_with_the_agents_access_token(pyunicore_site, oidc_agent_account, monkeypatch, server, same_dn):
    sock, account = oidc_agent_account
    demouser_dn = server['users']['demouser']['dn']
    monkeypatch.setenv('OIDC_SOCK', sock)
    client = pyunicore_site(pyunicore_credentials.OIDCAgentToken(account)).access_info()
    assert client['authenticationMethod'] == 'OAUTH'
    assert same_dn(client['dn'], demouser_dn)


def test_oidc_agent_refreshes_at_the_provider_for_a_longer_validity(oidc_agent_account, control, server):
    sock, account = oidc_agent_account
    issuer = server['oidc']['issuer']
    lifetime = server['oidc']['access_token_lifetime']
    first = ask_agent(sock, {'request': 'access_token', 'account': account})
    control.reset()
    again = ask_agent(sock, {'request': 'access_token', 'account': account, 'min_valid_period': 60})
    longer = ask_agent(sock, {'request': 'access_token', 'account': account, 'min_valid_period': lifetime + 60})
    if again['access_token'] != first['access_token']:
        pytest.fail('the agent did not return its cached access token')
    if longer.get('access_token') in (None, first['access_token']):
        pytest.fail('the agent did not refresh for a longer validity: %s' % longer.get('error', 'same token'))
    assert control.stats()['oidc_grants'] == {'refresh_token': {'ok': 1}}
    # the agent names the issuer with a trailing slash, whatever the metadata says
    assert longer['issuer'] == issuer + '/'

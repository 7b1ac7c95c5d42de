# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's playbooks and roles run through ansible-runner the way AWX runs a job.

AWX hands a job's credentials to ansible-runner in three ways, all driven by the
credential type: files rendered from ``injectors.file`` into the job's private
data directory, environment variables from ``injectors.env``, and extra vars
from ``injectors.extra_vars`` written to a file that is passed as ``-e @file``
(every string tagged ``!unsafe``). A vault credential adds ``--ask-vault-pass``
and answers the prompt through ansible-runner's ``passwords``. ``inject_credential``
below does the same with the real definition in extensions/awx/, rendered with a
Jinja2 sandbox as AWX renders it; nothing else carries a credential to the job.

Each job runs against the UNICORE test server; the tests check the job's
result, the server's counters, and that no secret appears in the job's output
or in anything ansible-runner wrote (stdout, job events, the ``command`` file).

PYTEST_DONT_REWRITE: the asserts here compare secrets and tokens, whose values pytest's
assertion rewriting would print on a failure; the messages they carry hold none.

AWX runs every job in a fresh execution-environment container: nothing a job
writes into its home directory reaches the next job. The OIDC jobs give each
job its own empty ``HOME`` to show what that means for a refresh token kept in
a credential (see docs/awx.md, "OIDC logins").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile

import ansible_runner
import pytest
import requests
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment


def _load_yaml(path):
    with open(path, encoding='utf-8') as yaml_file:
        return yaml.safe_load(yaml_file)


def _collection_root():
    for path in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep):
        candidate = os.path.join(path, 'ansible_collections', 'unicore', 'auth')
        if path and os.path.isfile(os.path.join(candidate, 'galaxy.yml')):
            return candidate
    raise RuntimeError('unicore.auth not found in ANSIBLE_COLLECTIONS_PATH=%s' % os.environ.get('ANSIBLE_COLLECTIONS_PATH'))


COLLECTION_ROOT = _collection_root()
CREDENTIAL_TYPE_FILE = os.path.join(COLLECTION_ROOT, 'extensions', 'awx', 'unicore_credential_type.yml')
CREDENTIAL_TYPE = _load_yaml(CREDENTIAL_TYPE_FILE)
SECRET_FIELDS = sorted(field['id'] for field in CREDENTIAL_TYPE['inputs']['fields'] if field.get('secret'))
VAULT_PROMPT = r'Vault password:\s*?$'  # the prompt AWX answers for a vault credential without a vault id


class UnsafeDumper(yaml.SafeDumper):
    """Writes every string with the !unsafe tag, as AWX writes a job's extra vars."""


UnsafeDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar('!unsafe', value))


class UnsafeLoader(yaml.SafeLoader):
    """Reads what UnsafeDumper wrote, the !unsafe strings as plain ones."""


UnsafeLoader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))


def inject_credential(credential_type, inputs, private_data_dir):
    """What AWX does with a credential for a job: returns (env, extra args for ansible-playbook).

    Follows AWX's CredentialType.inject_credential: inputs left blank are not in
    the template namespace; a private key gets its final newline; each file
    template becomes a 0600 file in env/, named tower.filename.<name>; env
    templates become environment variables; extra_vars templates are written to
    a 0400 file in env/ and passed as ``-e @file``.
    """
    sandbox = ImmutableSandboxedEnvironment()
    namespace = {}
    for field in credential_type['inputs']['fields']:
        value = inputs.get(field['id'], '')
        if field['type'] == 'boolean':
            namespace[field['id']] = bool(value)
        elif value:
            if field.get('format') == 'ssh_private_key' and not value.endswith('\n'):
                value += '\n'
            namespace[field['id']] = value
    env_dir = os.path.join(private_data_dir, 'env')
    os.makedirs(env_dir, exist_ok=True)

    filenames = {}
    for label, template in credential_type['injectors'].get('file', {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w', encoding='utf-8') as injected_file:
            injected_file.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        filenames[label.split('.', 1)[1]] = path
    if filenames:
        namespace['tower'] = {'filename': filenames}

    env = dict((name, sandbox.from_string(template).render(**namespace))
               for name, template in credential_type['injectors'].get('env', {}).items())
    args = []
    extra_vars = dict((name, sandbox.from_string(template).render(**namespace))
                      for name, template in credential_type['injectors'].get('extra_vars', {}).items())
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w', encoding='utf-8') as extra_vars_file:
            extra_vars_file.write(yaml.dump(extra_vars, Dumper=UnsafeDumper))
        os.chmod(path, stat.S_IRUSR)
        args.extend(['-e', '@%s' % path])
    return env, args


@pytest.fixture(autouse=True)
def cleaned_environment(monkeypatch):
    """A job sees no UNICORE_* setting but the injected ones, and no callbacks of the test runner."""
    for name in list(os.environ):
        if name.startswith('UNICORE_') or name in ('JUNIT_OUTPUT_DIR', 'ANSIBLE_CALLBACKS_ENABLED', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            monkeypatch.delenv(name)


class ControlApi:
    """The test server's counters (no authentication)."""

    def __init__(self, fixtures):
        self.url = fixtures['control_url']
        self.ca_path = fixtures['ca_cert']

    def reset(self):
        """Zero the counters, and forget the security sessions kept on this machine (security_session_dir's default place).

        So that a job started from here logs in, as a job in a fresh AWX container does.
        """
        requests.post(self.url + '/reset', verify=self.ca_path, timeout=10).raise_for_status()
        shutil.rmtree(os.path.expanduser('~/.cache/unicore.auth/security-sessions'), ignore_errors=True)

    def stats(self):
        response = requests.get(self.url + '/stats', verify=self.ca_path, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope='session')
def server():
    config = _load_yaml(os.environ['UNICORE_INTEGRATION_CONFIG'])
    with open(config['unicore_testserver_fixtures'], encoding='utf-8') as fixtures_file:
        return json.load(fixtures_file)


@pytest.fixture
def control(server):
    api = ControlApi(server)
    api.reset()
    return api


def _read(path):
    with open(path, encoding='utf-8') as text_file:
        return text_file.read()


def _demo_dn(server):
    return re.sub(r',\s*', ',', server['users']['demouser']['dn'])


def _key_line(path):
    """A line from the middle of a private key: the PEM header appears in every key."""
    line = _read(path).splitlines()[3]
    assert len(line) >= 40
    return line


class Job:
    """An AWX-like job: a project, an inventory, a credential of the UNICORE type, maybe a vault password."""

    def __init__(self, tmp_path, inventory, name='job'):
        self.private_data_dir = str(tmp_path / name)
        self.project = os.path.join(self.private_data_dir, 'project')
        os.makedirs(self.project)
        os.makedirs(os.path.join(self.private_data_dir, 'inventory'))
        with open(os.path.join(self.private_data_dir, 'inventory', 'hosts'), 'w', encoding='utf-8') as hosts:
            hosts.write(inventory)
        self.result = None
        self.stdout = ''

    def add_file(self, name, content, where='project'):
        """A file of the project, or of the inventory (where='inventory')."""
        path = os.path.join(self.private_data_dir, where, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as project_file:
            project_file.write(content)
        return path

    def run(self, playbook, credential, extra_vars=None, vault_password=None, envvars=None):
        env, args = inject_credential(CREDENTIAL_TYPE, credential, self.private_data_dir)
        env.update(envvars or {})
        if extra_vars:
            # AWX writes the job template's extra vars to env/extravars, every string !unsafe.
            with open(os.path.join(self.private_data_dir, 'env', 'extravars'), 'w', encoding='utf-8') as extravars:
                extravars.write(yaml.dump(extra_vars, Dumper=UnsafeDumper))
        passwords = {}
        if vault_password is not None:
            args.append('--ask-vault-pass')
            passwords[VAULT_PROMPT] = vault_password
        self.result = ansible_runner.run(
            private_data_dir=self.private_data_dir,
            playbook=playbook,
            inventory=os.path.join(self.private_data_dir, 'inventory', 'hosts'),
            envvars=env,
            cmdline=' '.join(args),
            passwords=passwords,
            suppress_env_files=True,  # AWX's default (AWX_RUNNER_OMIT_ENV_FILES)
            quiet=True,
        )
        self.stdout = self.result.stdout.read()
        return self.result

    def assert_successful(self):
        assert self.result.status == 'successful' and self.result.rc == 0, self.stdout[-3000:]

    def assert_never_shown(self, *secrets):
        """No secret in the job's output, nor in any file ansible-runner wrote (events, stdout, command)."""
        artifacts = os.path.join(self.private_data_dir, 'artifacts')
        files = [os.path.join(root, name) for root, dummy, names in os.walk(artifacts) for name in names]
        assert any(os.path.basename(path) == 'command' for path in files)
        assert any('job_events' in path for path in files)
        for number, secret in enumerate(secrets, 1):
            # booleans, so that a failure does not print the secret
            assert secret, 'secret %d is empty' % number
            found = secret in self.stdout
            assert found is False, 'secret %d is in the job output' % number
            for path in files:
                with open(path, 'rb') as artifact:
                    found = secret.encode('utf-8') in artifact.read()
                assert found is False, 'secret %d is in %s' % (number, path)

    def changed_hosts(self):
        return dict((host, count) for host, count in (self.result.stats or {}).get('changed', {}).items() if count)


LOCALHOST = 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n'
WORKFLOW_HOSTS = ('[workflow_hosts]\nrunner1\nrunner2\nrunner3\n\n[workflow_hosts:vars]\n'
                  'ansible_connection=local\nansible_python_interpreter="{{ ansible_playbook_python }}"\n')


def _vault_encrypt_string(vault_password_file, name, value):
    return subprocess.run(['ansible-vault', 'encrypt_string', '--vault-password-file', vault_password_file, '--stdin-name', name],
                          input=value, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def password_credential(server):
    return {
        'url': server['sites']['DEMO-SITE']['url'],
        'username': 'demouser',
        'password': server['users']['demouser']['password'],
        'ca_cert': _read(server['ca_cert']),
    }


# --- the credential type -------------------------------------------------------

def test_secret_inputs_are_marked_secret():
    assert SECRET_FIELDS == ['identity_content', 'identity_passphrase', 'oidc_client_secret', 'oidc_refresh_token', 'password', 'token']
    assert CREDENTIAL_TYPE['kind'] == 'cloud'


def test_the_site_is_a_url_or_a_registry_and_a_site_name_so_no_input_is_required():
    fields = dict((field['id'], field) for field in CREDENTIAL_TYPE['inputs']['fields'])
    # AWX cannot require one of two inputs: none is required, and the help text says what to give.
    assert CREDENTIAL_TYPE['inputs'].get('required', []) == []
    assert 'Registry URL and the site name' in ' '.join(fields['url']['help_text'].split())
    assert fields['registry_auth']['type'] == 'boolean' and fields['registry_auth']['default'] is False
    for name in ('registry_url', 'site', 'registry_auth'):
        assert not fields[name].get('secret'), name   # settings, not secrets: they go into the environment


def test_the_oidc_inputs_and_no_one_time_code():
    fields = dict((field['id'], field) for field in CREDENTIAL_TYPE['inputs']['fields'])
    for name in ('oidc_token_endpoint', 'oidc_issuer', 'oidc_client_id', 'oidc_client_secret', 'oidc_client_auth',
                 'oidc_scope', 'oidc_refresh_token', 'oidc_agent_account'):
        assert name in fields, name
    assert fields['oidc_client_auth']['choices'] == ['post', 'basic']
    # A one-time code is spent at one login within seconds: a stored one is useless to the next job.
    assert 'oidc_otp' not in fields
    assert not [name for name in CREDENTIAL_TYPE['injectors']['env'] if 'OTP' in name]
    assert not [name for name in CREDENTIAL_TYPE['injectors']['extra_vars'] if 'otp' in name]
    assert {'oidc_server', 'oidc_agent'} <= set(fields['auth_method']['choices'])


def test_injected_names_are_the_ones_the_lookup_reads():
    doc = json.loads(subprocess.run(['ansible-doc', '-t', 'lookup', '--json', 'unicore.auth.unicore_token'],
                                    capture_output=True, text=True, check=True).stdout)
    options = doc['unicore.auth.unicore_token']['doc']['options']
    env_names = set(entry['name'] for option in options.values() for entry in option.get('env', []))
    var_names = set(entry['name'] for option in options.values() for entry in option.get('vars', []))
    injectors = CREDENTIAL_TYPE['injectors']
    assert set(injectors['env']) <= env_names
    assert set(injectors['extra_vars']) <= var_names
    assert not [name for name in injectors['env'] if name.startswith('ANSIBLE_')]  # AWX refuses those
    choices = set(options['auth_method']['choices'])
    auth_method = [field for field in CREDENTIAL_TYPE['inputs']['fields'] if field['id'] == 'auth_method'][0]
    assert set(auth_method['choices']) <= choices


def test_secrets_reach_the_job_as_extra_vars_and_files_never_as_environment(tmp_path, server):
    secrets = {
        'password': 'password-for-the-injection-test',
        'token': 'token-for-the-injection-test',
        'identity_content': _read(server['keys']['ed25519_openssh_encrypted']['path']),
        'identity_passphrase': 'passphrase-for-the-injection-test',
        'oidc_client_secret': 'client-secret-for-the-injection-test',
        'oidc_refresh_token': 'refresh-token-for-the-injection-test',
    }
    assert sorted(secrets) == SECRET_FIELDS  # a new secret input is added here, and so checked
    settings = {'url': 'https://site.example.org/S/rest/core', 'username': 'u',
                'registry_url': 'https://site.example.org/REGISTRY/rest/registries/default_registry', 'site': 'S',
                'registry_auth': True,
                'oidc_token_endpoint': 'https://idp.example.org/realms/hpc/protocol/openid-connect/token',
                'oidc_issuer': 'https://idp.example.org/realms/hpc', 'oidc_client_id': 'unicore-awx',
                'oidc_scope': 'openid offline_access', 'oidc_agent_account': 'hpc-account'}
    env, args = inject_credential(CREDENTIAL_TYPE, dict(secrets, **settings), str(tmp_path))
    for name, secret in secrets.items():
        leaked = sum(1 for value in env.values() if secret.strip() in value)
        assert leaked == 0, '%s is in the environment' % name
    extra_vars_text = _read(args[1][1:])
    assert '!unsafe' in extra_vars_text
    extra_vars = yaml.load(extra_vars_text, Loader=UnsafeLoader)
    assert extra_vars == {'unicore_password': secrets['password'], 'unicore_token': secrets['token'],
                          'unicore_identity_passphrase': secrets['identity_passphrase'],
                          'unicore_oidc_client_secret': secrets['oidc_client_secret'],
                          'unicore_oidc_refresh_token': secrets['oidc_refresh_token']}
    assert 'PRIVATE KEY' not in extra_vars_text
    assert _read(env['UNICORE_IDENTITY']) == secrets['identity_content']
    assert env['UNICORE_URL'] == 'https://site.example.org/S/rest/core'
    assert env['UNICORE_REGISTRY_URL'] == settings['registry_url']
    assert env['UNICORE_SITE'] == 'S'
    assert env['UNICORE_REGISTRY_AUTH'] == 'true'
    assert env['UNICORE_AUTH_METHOD'] == 'auto'
    assert env['UNICORE_CA_PATH'] == ''  # no CA given: no CA file named
    assert env['UNICORE_OIDC_TOKEN_ENDPOINT'] == settings['oidc_token_endpoint']
    assert env['UNICORE_OIDC_ISSUER'] == settings['oidc_issuer']
    assert env['UNICORE_OIDC_CLIENT_ID'] == 'unicore-awx'
    assert env['UNICORE_OIDC_CLIENT_AUTH'] == 'post'  # left blank: the collection's default
    assert env['UNICORE_OIDC_SCOPE'] == 'openid offline_access'
    assert env['UNICORE_OIDC_AGENT_ACCOUNT'] == 'hpc-account'


def test_the_registry_inputs_left_blank_are_injected_blank(tmp_path):
    # Blank counts as unset for the collection: registry_auth left off does not hide one set in ansible.cfg.
    env, dummy = inject_credential(CREDENTIAL_TYPE, {'url': 'https://site.example.org/S/rest/core'}, str(tmp_path))
    assert env['UNICORE_REGISTRY_URL'] == ''
    assert env['UNICORE_SITE'] == ''
    assert env['UNICORE_REGISTRY_AUTH'] == ''


# --- playbooks and roles through ansible-runner ---------------------------------

def test_access_info_job_with_a_password_credential_and_a_vaulted_inventory_variable(tmp_path, server, control, password_credential):
    job = Job(tmp_path, LOCALHOST)
    vault_password = 'vault password of the access_info job'
    vault_password_file = str(tmp_path / 'vault-password')
    with open(vault_password_file, 'w', encoding='utf-8') as password_file:
        password_file.write(vault_password)
    # The inventory keeps which uid and group the job selects in a vault-encrypted variable. (Variables
    # beside the project's playbook would not reach the imported collection playbook: its plays have
    # the collection's playbooks/ as their base directory.)
    vaulted = _vault_encrypt_string(vault_password_file, 'unicore_preferences', 'uid:demo2,group:hpc')
    job.add_file('group_vars/all/vault.yml', '---\n' + vaulted, where='inventory')
    job.add_file('access_info.yml', '---\n- name: Check the login\n  ansible.builtin.import_playbook: unicore.auth.access_info\n')

    job.run('access_info.yml', password_credential, vault_password=vault_password)

    job.assert_successful()
    assert 'Logged in as:   %s' % _demo_dn(server) in job.stdout
    assert 'Authenticated:  PASSWORD_FILE' in job.stdout
    assert 'UID:            demo2   (available: demouser, demo2)' in job.stdout
    assert 'Group:          hpc   (available: users, hpc, project1, project2)' in job.stdout
    stats = control.stats()
    assert stats['full_authentications'] == {'PASSWORD_FILE': 1}
    assert stats['tokens_issued']['total'] == 0
    job.assert_never_shown(password_credential['password'], vault_password)


def test_access_info_job_with_a_private_key_credential(tmp_path, server, control):
    key = server['keys']['ed25519_openssh_encrypted']
    credential = {
        'url': server['sites']['DEMO-SITE']['url'],
        'auth_method': 'ssh_key',
        'username': 'demouser',
        'identity_content': _read(key['path']).rstrip('\n'),  # AWX adds the final newline
        'identity_passphrase': key['passphrase'],
        'ca_cert': _read(server['ca_cert']),
    }
    job = Job(tmp_path, LOCALHOST)
    job.add_file('access_info.yml', '---\n- name: Check the login\n  ansible.builtin.import_playbook: unicore.auth.access_info\n')

    job.run('access_info.yml', credential)

    job.assert_successful()
    assert 'Authenticated:  SSHKEY' in job.stdout
    assert control.stats()['full_authentications'] == {'SSHKEY': 1}
    job.assert_never_shown(key['passphrase'], _key_line(key['path']))


def test_access_info_job_with_a_token_credential_and_blank_fields(tmp_path, server, control):
    token = server['oidc_tokens']['demouser']['token']
    # Only url, token and CA: AWX injects empty values for the other fields, which count as unset.
    credential = {'url': server['sites']['DEMO-SITE']['url'], 'token': token, 'ca_cert': _read(server['ca_cert'])}
    job = Job(tmp_path, LOCALHOST)
    job.add_file('access_info.yml', '---\n- name: Check the login\n  ansible.builtin.import_playbook: unicore.auth.access_info\n')

    job.run('access_info.yml', credential)

    job.assert_successful()
    assert 'Authenticated:  OAUTH' in job.stdout
    assert control.stats()['full_authentications'] == {'OAUTH': 1}
    job.assert_never_shown(token)


def test_access_info_job_with_a_registry_and_a_site_name_instead_of_a_url(tmp_path, server, control, password_credential):
    # The Site REST URL left blank: the site is PARTNER-SITE of the test server's Registry.
    credential = dict(password_credential, url='', registry_url=server['registry_url'], site='PARTNER-SITE')
    job = Job(tmp_path, LOCALHOST)
    job.add_file('access_info.yml', ACCESS_INFO_PLAYBOOK)

    job.run('access_info.yml', credential)

    job.assert_successful()
    assert 'Site:           PARTNER-SITE in the Registry %s' % server['registry_url'] in job.stdout
    assert 'Server:         UNICORE 10.2.0, %s' % re.sub(r',\s*', ',', server['sites']['PARTNER-SITE']['dn']) in job.stdout
    assert 'Logged in as:   %s' % _demo_dn(server) in job.stdout
    assert 'Authenticated:  PASSWORD_FILE' in job.stdout
    stats = control.stats()
    # the Registry read once, anonymously; the password went to PARTNER-SITE only
    assert stats['registry_reads'] == {'total': 1, 'anonymous': 1, 'authenticated': 0}, stats['registry_reads']
    assert stats['requests']['per_site'] == {'REGISTRY': 1, 'PARTNER-SITE': 1}, stats['requests']
    assert stats['full_authentications'] == {'ANONYMOUS': 1, 'PASSWORD_FILE': 1}, stats['full_authentications']
    job.assert_never_shown(password_credential['password'])


def test_sites_job_with_the_registry_alone_lists_every_site_and_the_login_at_each(tmp_path, server, control, password_credential):
    credential = dict(password_credential, url='', registry_url=server['registry_url'])
    job = Job(tmp_path, LOCALHOST)
    job.add_file('sites.yml', '---\n- name: List the sites\n  ansible.builtin.import_playbook: unicore.auth.sites\n')

    job.run('sites.yml', credential)

    job.assert_successful()
    for name in ('DEMO-SITE', 'LONE-SITE', 'PARTNER-SITE'):
        assert '"%s: %s"' % (name, server['sites'][name]['url']) in job.stdout, name
    assert job.stdout.count('Logged in as:   %s' % _demo_dn(server)) == 3
    stats = control.stats()
    assert stats['registry_reads'] == {'total': 1, 'anonymous': 1, 'authenticated': 0}, stats['registry_reads']
    assert stats['requests']['per_site'] == {'REGISTRY': 1, 'DEMO-SITE': 1, 'LONE-SITE': 1, 'PARTNER-SITE': 1}, stats['requests']
    job.assert_never_shown(password_credential['password'])


def test_a_refused_login_fails_the_job_without_showing_the_password(tmp_path, server, control, password_credential):
    credential = dict(password_credential, password='wrong-password-of-the-refused-job')
    job = Job(tmp_path, LOCALHOST)
    job.add_file('access_info.yml', '---\n- name: Check the login\n  ansible.builtin.import_playbook: unicore.auth.access_info\n')

    job.run('access_info.yml', credential)

    assert job.result.status == 'failed'
    assert 'HTTP 403 Forbidden' in job.stdout
    assert control.stats()['forbidden_403'] >= 1
    job.assert_never_shown(credential['password'])


def test_issue_token_job_writes_the_token_file_and_never_shows_the_token(tmp_path, server, control, password_credential):
    token_dest = str(tmp_path / 'tokens' / 'unicore.token')
    job = Job(tmp_path, LOCALHOST)
    job.add_file('issue_token.yml', '---\n- name: Issue a token\n  ansible.builtin.import_playbook: unicore.auth.issue_token\n')

    job.run('issue_token.yml', password_credential, extra_vars={'token_dest': token_dest, 'unicore_lifetime': 900})

    job.assert_successful()
    assert stat.S_IMODE(os.stat(token_dest).st_mode) == 0o600
    assert 'Subject:      %s' % _demo_dn(server) in job.stdout
    assert '(new token issued)' in job.stdout
    assert control.stats()['tokens_issued']['total'] == 1
    job.assert_never_shown(_read(token_dest).strip(), password_credential['password'])


def test_rotate_tokens_job_issues_once_for_three_hosts_then_changes_nothing(tmp_path, server, control, password_credential):
    hosts_dir = tmp_path / 'hosts'
    for host in ('runner1', 'runner2', 'runner3'):
        (hosts_dir / host).mkdir(parents=True)
    job = Job(tmp_path, WORKFLOW_HOSTS)
    job.add_file('rotate_tokens.yml', '---\n- name: Rotate the tokens\n  ansible.builtin.import_playbook: unicore.auth.rotate_tokens\n')
    # Where each host keeps its token: an inventory variable, templated per host.
    job.add_file('group_vars/workflow_hosts.yml', '---\nworkflow_token_dest: "%s/{{ inventory_hostname }}/unicore.token"\n' % hosts_dir,
                 where='inventory')
    extra_vars = {'workflow_token_cache_dir': str(tmp_path / 'token-cache')}

    job.run('rotate_tokens.yml', password_credential, extra_vars=extra_vars)
    job.assert_successful()
    assert sorted(job.changed_hosts()) == ['runner1', 'runner2', 'runner3']
    tokens = set(_read(str(hosts_dir / host / 'unicore.token')) for host in ('runner1', 'runner2', 'runner3'))
    assert len(tokens) == 1
    assert control.stats()['tokens_issued']['total'] == 1
    job.assert_never_shown(tokens.pop().strip(), password_credential['password'])

    job.run('rotate_tokens.yml', password_credential, extra_vars=extra_vars)
    job.assert_successful()
    assert not job.changed_hosts()
    # localhost: the playbook's first play, which checks that the hosts pattern matches hosts.
    assert sorted(job.result.stats['ok']) == ['localhost', 'runner1', 'runner2', 'runner3']
    assert control.stats()['tokens_issued']['total'] == 1


def test_access_check_role_job_checks_every_site_with_the_injected_credential(tmp_path, server, control, password_credential):
    sites = [
        {'name': 'DEMO-SITE', 'url': server['sites']['DEMO-SITE']['url'], 'group': 'hpc'},
        {'name': 'PARTNER-SITE', 'url': server['sites']['PARTNER-SITE']['url']},
    ]
    job = Job(tmp_path, LOCALHOST)
    job.add_file('preflight.yml', '\n'.join([
        '---',
        '- name: Preflight before provisioning',
        '  hosts: localhost',
        '  gather_facts: false',
        '  roles:',
        '    - role: unicore.auth.access_check',
        '  tasks:',
        '    - name: Show the results',
        '      ansible.builtin.debug:',
        '        msg: "{{ access_check_results | map(attribute=\'name\') | zip(access_check_results | map(attribute=\'ok\')) }}"',
        '',
    ]))

    job.run('preflight.yml', password_credential, extra_vars={'access_check_sites': sites})

    job.assert_successful()
    results = [event['event_data']['res'] for event in job.result.events
               if event.get('event') == 'runner_on_ok' and event['event_data'].get('task') == 'Show the results']
    assert results and results[0]['msg'] == [['DEMO-SITE', True], ['PARTNER-SITE', True]]
    stats = control.stats()
    assert stats['requests']['per_site'].get('DEMO-SITE', 0) >= 1
    assert stats['requests']['per_site'].get('PARTNER-SITE', 0) >= 1
    assert stats['forbidden_403'] == 0
    job.assert_never_shown(password_credential['password'])


# --- OIDC: a refresh token kept in the credential --------------------------------

ACCESS_INFO_PLAYBOOK = '---\n- name: Check the login\n  ansible.builtin.import_playbook: unicore.auth.access_info\n'
REFRESH_TOKEN_FILE = os.path.join('.cache', 'unicore.auth', 'oidc-refresh-tokens')  # under HOME: the collection's default


def _oidc_refresh_token(server, client):
    """What a person does once before filling in the credential: log in at the provider, keep the refresh token.

    A password grant as demouser with the scope an offline token is asked for; the test zeroes the
    counters afterwards, so that a job's grants are counted alone.
    """
    oidc = server['oidc']
    user = oidc['users']['demouser']
    form = {'grant_type': 'password', 'username': user['username'], 'password': user['password'], 'scope': 'openid offline_access'}
    response = requests.post(oidc['token_endpoint'], data=form, auth=(client['id'], client['secret']), verify=server['ca_cert'], timeout=10)
    assert response.status_code == 200, response.json().get('error')
    return response.json()['refresh_token']


class IssuedOidcTokens:
    """The tokens the provider issues from now on, read from its log (``access TOKEN``, ``refresh TOKEN``)."""

    def __init__(self, server):
        self.path = server['oidc']['issued_tokens_log']
        self.seen = len(self._lines())

    def _lines(self):
        return _read(self.path).splitlines()

    def new(self):
        """{'access': [...], 'refresh': [...]} issued since the last call (or since creation)."""
        lines = self._lines()
        issued = {'access': [], 'refresh': []}
        for line in lines[self.seen:]:
            kind, token = line.split(' ', 1)
            issued[kind].append(token)
        self.seen = len(lines)
        return issued


def _oidc_credential(server, client, refresh_token, provider='oidc_token_endpoint', client_auth=''):
    """A UNICORE credential for an OIDC login with a kept refresh token: no password, no username."""
    oidc = server['oidc']
    return {
        'url': server['sites']['DEMO-SITE']['url'],
        'ca_cert': _read(server['ca_cert']),
        provider: oidc['token_endpoint'] if provider == 'oidc_token_endpoint' else oidc['issuer'],
        'oidc_client_id': client['id'],
        'oidc_client_secret': client['secret'],
        'oidc_client_auth': client_auth,
        'oidc_refresh_token': refresh_token,
    }


def _run_in_fresh_container(tmp_path, name, credential, inventory_vars=None, home=None):
    """One AWX job of unicore.auth.access_info in its own private data directory and an empty HOME (or ``home``)."""
    if home is None:
        home = tmp_path / (name + '-home')
        home.mkdir()
    job = Job(tmp_path, LOCALHOST, name=name)
    job.add_file('access_info.yml', ACCESS_INFO_PLAYBOOK)
    if inventory_vars:
        job.add_file('group_vars/all.yml', '---\n' + yaml.safe_dump(inventory_vars), where='inventory')
    job.run('access_info.yml', credential, envvars={'HOME': str(home)})
    job.home = str(home)
    return job


def _kept_refresh_token(job, server):
    """The refresh token the collection kept in the job's HOME (lost with the job's container in AWX)."""
    with open(os.path.join(job.home, REFRESH_TOKEN_FILE), encoding='utf-8') as kept:
        return json.load(kept)[server['oidc']['token_endpoint']]['refresh_token']


@pytest.mark.parametrize('provider, client_auth', [('oidc_token_endpoint', ''), ('oidc_issuer', 'basic')],
                         ids=['token-endpoint-post', 'issuer-basic'])
def test_access_info_job_with_an_oidc_refresh_token_credential(tmp_path, server, control, provider, client_auth):
    client = server['oidc']['clients']['confidential']
    refresh_token = _oidc_refresh_token(server, client)
    issued = IssuedOidcTokens(server)
    control.reset()
    # auth_method left blank: auto picks oidc_server from the refresh token and the provider
    credential = _oidc_credential(server, client, refresh_token, provider, client_auth)

    job = _run_in_fresh_container(tmp_path, 'job', credential)

    job.assert_successful()
    assert 'Logged in as:   %s' % _demo_dn(server) in job.stdout
    assert 'Authenticated:  OAUTH' in job.stdout
    stats = control.stats()
    assert stats['oidc_grants'] == {'refresh_token': {'ok': 1}}, stats['oidc_grants']   # and no password grant
    assert stats['oidc_discovery'] == (1 if provider == 'oidc_issuer' else 0)
    assert stats['full_authentications'] == {'OAUTH': 1}
    new = issued.new()
    assert len(new['access']) == 1 and len(new['refresh']) == 1
    # the rotated refresh token is kept where the collection keeps it, in the job's HOME: gone with the container
    kept = _kept_refresh_token(job, server) == new['refresh'][0]
    assert kept is True, 'the rotated refresh token is not the one kept in HOME'
    job.assert_never_shown(client['secret'], refresh_token, new['refresh'][0], new['access'][0])


def test_a_non_rotating_provider_takes_the_same_stored_refresh_token_in_every_job(tmp_path, server, control):
    # The client stands for Keycloak with "Revoke Refresh Token" off, its default: what AWX needs.
    client = server['oidc']['clients']['reusable_refresh']
    refresh_token = _oidc_refresh_token(server, client)
    issued = IssuedOidcTokens(server)
    credential = _oidc_credential(server, client, refresh_token)
    shown = [client['secret'], refresh_token]
    jobs = []
    for name in ('job1', 'job2'):
        control.reset()
        job = _run_in_fresh_container(tmp_path, name, credential)
        job.assert_successful()
        assert 'Authenticated:  OAUTH' in job.stdout
        stats = control.stats()
        assert stats['oidc_grants'] == {'refresh_token': {'ok': 1}}, (name, stats['oidc_grants'])
        assert stats['full_authentications'] == {'OAUTH': 1}
        new = issued.new()
        assert len(new['access']) == 1 and len(new['refresh']) == 1
        shown += new['access'] + new['refresh']
        jobs.append(job)
    for job in jobs:
        job.assert_never_shown(*shown)


def test_a_rotating_provider_spends_the_stored_refresh_token_in_the_first_job(tmp_path, server, control):
    client = server['oidc']['clients']['confidential']   # rotates: a used refresh token is refused from then on
    refresh_token = _oidc_refresh_token(server, client)
    issued = IssuedOidcTokens(server)
    credential = _oidc_credential(server, client, refresh_token)

    control.reset()
    first = _run_in_fresh_container(tmp_path, 'job1', credential)
    first.assert_successful()
    assert control.stats()['oidc_grants'] == {'refresh_token': {'ok': 1}}
    new = issued.new()

    control.reset()
    second = _run_in_fresh_container(tmp_path, 'job2', credential)   # the same credential, a new container
    assert second.result.status == 'failed'
    assert 'refused oidc_refresh_token: invalid_grant' in second.stdout
    assert 'used already' in second.stdout and 'give a new one' in second.stdout
    stats = control.stats()
    assert stats['oidc_grants'] == {'refresh_token': {'invalid_grant': 1}}, stats['oidc_grants']   # no password to fall back to
    assert stats['full_authentications'] == {}
    assert issued.new() == {'access': [], 'refresh': []}

    # Where the first job's HOME is kept, the refresh token kept there replaced the credential's (the file
    # says it descends from it) and goes first: the third job logs in, and keeps the next one.
    control.reset()
    third = _run_in_fresh_container(tmp_path, 'job3', credential, home=first.home)
    third.assert_successful()
    assert control.stats()['oidc_grants'] == {'refresh_token': {'ok': 1}}
    newer = issued.new()
    kept = _kept_refresh_token(third, server) == newer['refresh'][0]
    assert kept is True, 'the refresh token of the third job is not the one kept'
    for job in (first, second, third):
        job.assert_never_shown(client['secret'], refresh_token, new['refresh'][0], new['access'][0], *(newer['access'] + newer['refresh']))


def test_a_rotating_provider_works_with_the_refresh_token_file_on_storage_every_job_mounts(tmp_path, server, control):
    # The other way out: no refresh token in the credential, and the collection's refresh-token file on a
    # volume that every job's container mounts, named by an inventory variable. Each login spends the
    # token kept there and keeps the one the answer carries, under the file's lock.
    client = server['oidc']['clients']['confidential']
    refresh_token = _oidc_refresh_token(server, client)
    issued = IssuedOidcTokens(server)
    volume = tmp_path / 'volume'
    volume.mkdir(mode=0o700)
    token_file = str(volume / 'oidc-refresh-tokens')
    # seeded once, in the format UCC, PyUNICORE and the collection keep it
    with os.fdopen(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w', encoding='utf-8') as seed:
        json.dump({server['oidc']['token_endpoint']: {'refresh_token': refresh_token}}, seed)
    credential = _oidc_credential(server, client, '')   # the refresh token field left blank
    shown = [client['secret'], refresh_token]
    jobs = []
    for name in ('job1', 'job2', 'job3'):
        control.reset()
        job = _run_in_fresh_container(tmp_path, name, credential, inventory_vars={'unicore_oidc_refresh_token_file': token_file})
        job.assert_successful()
        assert 'Authenticated:  OAUTH' in job.stdout
        stats = control.stats()
        assert stats['oidc_grants'] == {'refresh_token': {'ok': 1}}, (name, stats['oidc_grants'])
        new = issued.new()
        with open(token_file, encoding='utf-8') as kept_file:
            kept = json.load(kept_file)[server['oidc']['token_endpoint']]['refresh_token'] == new['refresh'][0]
        assert kept is True, '%s: the file does not hold the refresh token of the last answer' % name
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        assert not os.path.exists(os.path.join(job.home, REFRESH_TOKEN_FILE))   # nothing kept in the container
        shown += new['access'] + new['refresh']
        jobs.append(job)
    for job in jobs:
        job.assert_never_shown(*shown)


@pytest.mark.parametrize('client_name', ['reusable_refresh', 'confidential'])
def test_access_check_job_logs_in_at_two_sites_with_the_stored_refresh_token(tmp_path, server, control, client_name):
    # One module run per site, each a login at the provider. The second uses the refresh token the first one
    # kept in the job's HOME in place of the credential's, so a rotating provider works within one job too.
    client = server['oidc']['clients'][client_name]
    refresh_token = _oidc_refresh_token(server, client)
    issued = IssuedOidcTokens(server)
    control.reset()
    home = tmp_path / 'home'
    home.mkdir()
    sites = [{'name': 'DEMO-SITE', 'url': server['sites']['DEMO-SITE']['url']},
             {'name': 'PARTNER-SITE', 'url': server['sites']['PARTNER-SITE']['url']}]
    job = Job(tmp_path, LOCALHOST)
    job.add_file('preflight.yml', '---\n- name: Preflight\n  hosts: localhost\n  gather_facts: false\n'
                                  '  roles:\n    - role: unicore.auth.access_check\n')

    job.run('preflight.yml', _oidc_credential(server, client, refresh_token), extra_vars={'access_check_sites': sites},
            envvars={'HOME': str(home)})

    stats = control.stats()
    job.assert_successful()
    assert stats['oidc_grants'] == {'refresh_token': {'ok': 2}}, stats['oidc_grants']
    assert stats['full_authentications'] == {'OAUTH': 2}
    assert stats['requests']['per_site'].get('PARTNER-SITE', 0) >= 1
    new = issued.new()
    job.assert_never_shown(client['secret'], refresh_token, *(new['access'] + new['refresh']))


def _module_defaults_example():
    """The play of docs/awx.md that hands the injected values to the modules (module_defaults of the action group)."""
    blocks = re.findall(r'```yaml\n(.*?)```', _read(os.path.join(COLLECTION_ROOT, 'docs', 'awx.md')), re.S)
    examples = [block for block in blocks if 'group/unicore.auth.unicore:' in block]
    assert len(examples) == 1, len(examples)
    return examples[0]


@pytest.mark.parametrize('login', ['password', 'oidc', 'registry'])
def test_the_module_defaults_example_of_the_awx_guide_logs_in_with_the_injected_credential(
        tmp_path, server, control, password_credential, login):
    if login == 'oidc':
        client = server['oidc']['clients']['confidential']
        refresh_token = _oidc_refresh_token(server, client)
        credential = _oidc_credential(server, client, refresh_token)
        shown = [client['secret'], refresh_token]
    elif login == 'registry':
        # the site named in the Registry, the Site REST URL left blank
        credential = dict(password_credential, url='', registry_url=server['registry_url'], site='LONE-SITE')
        shown = [password_credential['password']]
    else:
        credential = password_credential
        shown = [password_credential['password']]
    control.reset()
    home = tmp_path / 'home'
    home.mkdir()
    job = Job(tmp_path, LOCALHOST)
    job.add_file('modules.yml', '---\n' + _module_defaults_example())

    job.run('modules.yml', credential, envvars={'HOME': str(home)})

    job.assert_successful()
    stats = control.stats()
    if login == 'oidc':
        assert stats['full_authentications'] == {'OAUTH': 1}
        assert stats['oidc_grants'] == {'refresh_token': {'ok': 1}}, stats['oidc_grants']
    elif login == 'registry':
        assert stats['full_authentications'] == {'ANONYMOUS': 1, 'PASSWORD_FILE': 1}
        assert stats['registry_reads'] == {'total': 1, 'anonymous': 1, 'authenticated': 0}, stats['registry_reads']
        assert stats['requests']['per_site'] == {'REGISTRY': 1, 'LONE-SITE': 1}, stats['requests']
    else:
        assert stats['full_authentications'] == {'PASSWORD_FILE': 1}
        assert stats['oidc_grants'] == {}
    job.assert_never_shown(*shown)


# --- registering the credential type --------------------------------------------

STUB_CREDENTIAL_TYPE_MODULE = '''#!/usr/bin/python
# A stand-in for awx.awx.credential_type that returns what it was given, so the
# test sees exactly what the playbook would send to AWX.
from __future__ import annotations
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(
        name=dict(type='str', required=True), description=dict(type='str'), kind=dict(type='str'),
        inputs=dict(type='dict'), injectors=dict(type='dict'), state=dict(type='str', default='present')))
    module.exit_json(changed=True, received=module.params)


if __name__ == '__main__':
    main()
'''


def test_register_playbook_sends_the_definition_with_awx_templates_unrendered(tmp_path, monkeypatch):
    stub = tmp_path / 'stub' / 'ansible_collections' / 'awx' / 'awx'
    (stub / 'plugins' / 'modules').mkdir(parents=True)
    (stub / 'galaxy.yml').write_text('namespace: awx\nname: awx\nversion: 0.0.1\nauthors: [test]\nreadme: README.md\n')
    (stub / 'plugins' / 'modules' / 'credential_type.py').write_text(STUB_CREDENTIAL_TYPE_MODULE)
    monkeypatch.setenv('ANSIBLE_COLLECTIONS_PATH', os.pathsep.join([str(tmp_path / 'stub'), os.environ['ANSIBLE_COLLECTIONS_PATH']]))
    playbook = os.path.join(COLLECTION_ROOT, 'extensions', 'awx', 'register_credential_type.yml')
    (tmp_path / 'job').mkdir()
    result = ansible_runner.run(private_data_dir=str(tmp_path / 'job'), playbook=playbook,
                                inventory=LOCALHOST, quiet=True)

    assert result.status == 'successful', result.stdout.read()[-3000:]
    received = [event['event_data']['res']['received'] for event in result.events
                if event.get('event') == 'runner_on_ok' and 'received' in event['event_data'].get('res', {})]
    assert len(received) == 1
    sent = received[0]
    assert sent['name'] == 'UNICORE'
    assert sent['kind'] == 'cloud'
    assert sent['state'] == 'present'
    assert sent['inputs'] == CREDENTIAL_TYPE['inputs']
    assert sent['injectors'] == CREDENTIAL_TYPE['injectors']
    assert sent['injectors']['env']['UNICORE_URL'] == '{{ url }}'

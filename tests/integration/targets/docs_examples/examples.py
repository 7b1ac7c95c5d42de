# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the examples of the README and the guides into playbooks that run against the test server.

The examples are found by tests/scripts/lint_examples.py (one rule for what an
example is, in one place). Each becomes a playbook of its own, changed only by
what a reader changes before running it:

* SUBSTITUTIONS below: the documented placeholders (the site's URL, the Registry,
  the OIDC provider, its client and user, the oidc-agent account) become the test
  server's;
* absolute paths under /etc/, /var/ and /home/ move under a directory of the
  example's own (FS), which stands for the host's file system; FS holds the files
  the examples name (the user's keys and certificates, the service's certificate);
* the site's CA certificate, which a reader whose site has a private CA gives as
  ``ca_path``: in ``module_defaults`` of each play for the modules, and as
  UNICORE_CA_PATH (runme.sh) for the lookups and roles;
* a list of tasks is wrapped into a play on localhost.

The secrets the examples take from ``vault_*`` variables are written to a vars
file that runme.sh passes with ``-e @FILE``.

An HTML comment right before a block tells how it runs:

  <!-- example: not run, because REASON -->    it is not run; the test counts and names it
  <!-- example: continues the one above -->    its tasks run after those of the block before it
  <!-- example: needs a renewable token in PATH -->
                                              PATH holds a renewable token before the first run
  <!-- example: needs UNICORE_URL, UNICORE_USERNAME and UNICORE_PASSWORD -->
                                              it runs with these environment variables set to the
                                              test server's site and login, as an AWX credential
                                              injects them (only there: UNICORE_URL would conflict
                                              with an example that names a site in a Registry, and
                                              a play that gathers facts would record the password)

usage:
  examples.py prepare OUT_DIR --root COLLECTION --config INTEGRATION_CONFIG SOURCE...
      OUT_DIR/manifest.json lists the examples to run and those not run (with
      the reason), OUT_DIR/run.tsv the examples to run, one a line: name,
      playbook, fs, home, keeps_token, renewable token path or '-', the
      environment variables it needs (comma-separated) or '-';
      OUT_DIR/NAME/playbook.yml and OUT_DIR/NAME/fs/ are each example's;
      OUT_DIR/secrets.yml holds the vault_* variables.
  examples.py tokens-issued --config INTEGRATION_CONFIG
      The number of tokens the test server has issued so far.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import ssl
import sys
import urllib.parse
import urllib.request

import yaml

# The placeholders of the documentation, and what takes their place here: TEMPLATE with {} the value
# at PATH in the test server's fixtures.json (or, for a PATH of one key not there, in LOCAL_VALUES).
SUBSTITUTIONS = (
    ('https://unicore.example.org:8080/DEMO-SITE/rest/core', '{}', ('sites', 'DEMO-SITE', 'url')),
    ('https://partner.example.org:8080/PARTNER-SITE/rest/core', '{}', ('sites', 'PARTNER-SITE', 'url')),
    ('https://unicore.example.org:8080/REGISTRY/rest/registries/default_registry', '{}', ('registry_url',)),
    ('https://login.example.org/realms/hpc/protocol/openid-connect/token', '{}', ('oidc', 'token_endpoint')),
    ('https://login.example.org/realms/hpc', '{}', ('oidc', 'issuer')),
    # the client registered at the OIDC provider; like Keycloak's default client, it lets a refresh token be used again
    ('unicore-automation', '{}', ('oidc', 'clients', 'reusable_refresh', 'id')),
    ('username: jdoe', 'username: {}', ('oidc', 'users', 'demouser', 'username')),
    ('oidc_agent_account: hpc', 'oidc_agent_account: {}', ('oidc_agent_account',)),
)
# The account that setup_unicore_testserver/files/agents.py makes in oidc-agent.
LOCAL_VALUES = {'oidc_agent_account': 'demo'}
# An absolute path of the host's file system in an example (not a URL's path, not ~/...).
HOST_PATH = re.compile(r'(?<![\w.~/:-])/(etc|var|home)/')
MARKER = re.compile(r'^<!--\s*example:\s*(?P<text>.*?)\s*-->$')
NOT_RUN = re.compile(r'^not run, because (?P<reason>.+)$')
CONTINUES = 'continues the one above'
NEEDS_RENEWABLE = re.compile(r'^needs a renewable token in (?P<path>/\S+)$')
NEEDS_ENVIRONMENT = re.compile(r'^needs (?P<names>UNICORE_[A-Z_]+(?:(?:, | and )UNICORE_[A-Z_]+)*)$')
# Where an example keeps a token: a second run must issue none.
KEEPS_TOKEN = re.compile(r'^\s*(dest|workflow_token_dest):', re.MULTILINE)


def load_lint_examples(root):
    """tests/scripts/lint_examples.py of the collection at ``root``, as a module."""
    sys.path.insert(0, os.path.join(root, 'tests', 'scripts'))
    import lint_examples  # pylint: disable=import-outside-toplevel,import-error
    return lint_examples


def fixture(fixtures, path):
    """The value at ``path`` (a tuple of keys) in the fixtures, or in LOCAL_VALUES."""
    value = fixtures if path[0] in fixtures else LOCAL_VALUES
    for key in path:
        value = value[key]
    return value


def on_host(text, fs_root):
    """``text`` with each absolute path under /etc/, /var/ and /home/ moved under ``fs_root``."""
    return HOST_PATH.sub(lambda match: '%s/%s/' % (fs_root, match.group(1)), text)


def substitute(text, fixtures, fs_root):
    """The example's text with the documented placeholders replaced by the test server's."""
    for placeholder, template, path in SUBSTITUTIONS:
        text = text.replace(placeholder, template.format(fixture(fixtures, path)))
    return on_host(text, fs_root)


def with_ca_path(play, ca_path):
    """The play, with the site's CA certificate added to module_defaults of the collection's action group."""
    defaults = play.setdefault('module_defaults', {})
    group = defaults.setdefault('group/unicore.auth.unicore', {})
    if isinstance(group, dict):
        group.setdefault('ca_path', ca_path)
    return play


def plays_of(example_texts, kind, name, ca_path):
    """The plays to run for an example: its own, or its tasks in a play on localhost."""
    if kind == 'playbook':
        plays = yaml.safe_load(example_texts[0])
        # the tasks of the blocks that continue it go on in its last play
        for text in example_texts[1:]:
            plays[-1].setdefault('tasks', []).extend(yaml.safe_load(text))
    else:
        tasks = []
        for text in example_texts:
            tasks.extend(yaml.safe_load(text))
        plays = [{'name': 'Example %s' % name, 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]
    return [with_ca_path(play, ca_path) for play in plays]


def unencrypted_copy(source, passphrase, dest):
    """Write the OpenSSH private key ``source`` without its passphrase to ``dest`` (in Python: no passphrase on a command line)."""
    # pylint: disable-next=import-outside-toplevel
    from cryptography.hazmat.primitives import serialization
    with open(source, 'rb') as key_file:
        key = serialization.load_ssh_private_key(key_file.read(), passphrase.encode('utf-8') if passphrase else None)
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    write_private(dest, data)


def write_private(path, data):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'wb') as handle:
        handle.write(data)


def copy_private(source, dest):
    with open(source, 'rb') as handle:
        write_private(dest, handle.read())


def lay_out_host(fs_root, fixtures, unencrypted_ed25519):
    """The files the examples name, under the example's stand-in for the host's file system."""
    home = os.path.join(fs_root, 'home', 'demouser')
    ed25519 = fixtures['keys']['ed25519_openssh_encrypted']
    # the user's Ed25519 key registered at the site: ~/.ssh/id_ed25519 with its passphrase, unencrypted copies elsewhere
    copy_private(ed25519['path'], os.path.join(home, '.ssh', 'id_ed25519'))
    shutil.copyfile(ed25519['public_key'], os.path.join(home, '.ssh', 'id_ed25519.pub'))
    copy_private(unencrypted_ed25519, os.path.join(home, '.ssh', 'unicore_ed25519'))
    copy_private(unencrypted_ed25519, os.path.join(home, '.uftp', 'id_ed25519'))
    # the user's TLS client certificate, and the workflow service's certificate the site trusts
    copy_private(fixtures['client_certs']['demouser']['cert'], os.path.join(home, '.globus', 'usercert.pem'))
    copy_private(fixtures['client_certs']['demouser']['key'], os.path.join(home, '.globus', 'userkey.pem'))
    copy_private(fixtures['trusted_service']['cert'], os.path.join(fs_root, 'etc', 'workflow-service', 'service.pem'))
    copy_private(fixtures['trusted_service']['key'], os.path.join(fs_root, 'etc', 'workflow-service', 'service.key'))
    # the directories the docs say the workflow hosts have, for the token files
    for directory in (('etc', 'workflow'), ('var', 'lib', 'jupyterhub')):
        os.makedirs(os.path.join(fs_root, *directory), mode=0o755, exist_ok=True)
    return home


def oidc_refresh_token(fixtures):
    """A refresh token of demouser at the test server's OIDC provider, as a reader keeps one in Vault."""
    oidc = fixtures['oidc']
    client = oidc['clients']['reusable_refresh']
    form = urllib.parse.urlencode({
        'grant_type': 'password', 'client_id': client['id'], 'client_secret': client['secret'],
        'username': oidc['users']['demouser']['username'], 'password': oidc['users']['demouser']['password'],
        'scope': 'openid offline_access'}).encode('ascii')
    context = ssl.create_default_context(cafile=fixtures['ca_cert'])
    with urllib.request.urlopen(urllib.request.Request(oidc['token_endpoint'], data=form), context=context, timeout=30) as answer:
        return json.load(answer)['refresh_token']


def secrets(fixtures):
    """The vault_* variables of the examples, with the test server's secrets."""
    demouser = fixtures['users']['demouser']
    with open(fixtures['keys']['rsa_openssh']['path'], encoding='ascii') as key_file:
        private_key = key_file.read()
    with open(fixtures['trusted_service']['key'], encoding='ascii') as key_file:
        service_key = key_file.read()
    basic = base64.b64encode(('demouser:%s' % demouser['password']).encode('utf-8')).decode('ascii')
    return {
        'vault_unicore_password': demouser['password'],
        'vault_unicore_basic_value': basic,
        'vault_oidc_access_token': fixtures['oidc_tokens']['demouser']['token'],
        'vault_oidc_client_secret': fixtures['oidc']['clients']['reusable_refresh']['secret'],
        'vault_oidc_refresh_token': oidc_refresh_token(fixtures),
        'vault_keycloak_password': fixtures['oidc']['users']['demouser']['password'],
        'vault_unicore_private_key': private_key,
        'vault_unicore_key_passphrase': fixtures['keys']['ed25519_openssh_encrypted']['passphrase'],
        'vault_workflow_service_key': service_key,
        'vault_unicore_hmac_secret': fixtures['trusted_service']['hmac_secret'],
    }


def marker(example):
    match = MARKER.match(example.preceding or '')
    return match.group('text') if match else None


def prepare(root, config_path, sources, out_dir):
    """Write the examples of ``sources`` as playbooks under ``out_dir``; return the exit status."""
    lint_examples = load_lint_examples(root)
    with open(config_path, encoding='utf-8') as config_file:
        config = yaml.safe_load(config_file)
    with open(config['unicore_testserver_fixtures'], encoding='utf-8') as fixtures_file:
        fixtures = json.load(fixtures_file)
    ed25519 = fixtures['keys']['ed25519_openssh_encrypted']
    unencrypted_ed25519 = os.path.join(out_dir, 'keys', 'id_ed25519')
    unencrypted_copy(ed25519['path'], ed25519['passphrase'], unencrypted_ed25519)

    runs, not_run, errors = [], [], 0
    for source in sources:
        for example in lint_examples.markdown_examples(root, os.path.join(root, source)):
            kind = example.kind()
            if kind is None:
                continue
            name = '%s:%d' % (source, example.first_line)
            note = marker(example)
            reason = NOT_RUN.match(note or '')
            if reason:
                not_run.append({'name': name, 'reason': reason.group('reason'), 'title': first_name(example.text)})
                continue
            if note == CONTINUES:
                if not runs or runs[-1]['source'] != source or kind != 'tasks':
                    print('ERROR    %s is no list of tasks, or continues no example before it' % name)
                    errors += 1
                    continue
                runs[-1]['texts'].append(example.text)
                runs[-1]['name'] += '+%d' % example.first_line
                continue
            needs = NEEDS_RENEWABLE.match(note or '')
            environment = NEEDS_ENVIRONMENT.match(note or '')
            if note is not None and not needs and not environment:
                print('ERROR    %s: unknown marker <!-- example: %s -->' % (name, note))
                errors += 1
                continue
            runs.append({'name': name, 'source': source, 'kind': kind, 'texts': [example.text],
                         'needs_renewable_token': needs.group('path') if needs else None,
                         'environment': re.split(', | and ', environment.group('names')) if environment else []})

    manifest = {'run': [], 'not_run': not_run}
    for number, run in enumerate(runs, 1):
        directory = os.path.join(out_dir, 'example%02d' % number)
        fs_root = os.path.join(directory, 'fs')
        home = lay_out_host(fs_root, fixtures, unencrypted_ed25519)
        texts = [substitute(text, fixtures, fs_root) for text in run['texts']]
        playbook = os.path.join(directory, 'playbook.yml')
        with open(playbook, 'w', encoding='utf-8') as handle:
            handle.write('---\n# %s, as the test server runs it\n' % run['name'])
            yaml.safe_dump(plays_of(texts, run['kind'], run['name'], fixtures['ca_cert']), handle, sort_keys=False, width=1000)
        needs = run['needs_renewable_token']
        manifest['run'].append({
            'name': run['name'], 'title': first_name(run['texts'][0]), 'directory': directory, 'playbook': playbook,
            'fs': fs_root, 'home': home, 'keeps_token': any(KEEPS_TOKEN.search(text) for text in run['texts']),
            'needs_renewable_token': on_host(needs, fs_root) if needs else None,
            'environment': run['environment'],
        })
        print('run      %-28s %s' % (run['name'], first_name(run['texts'][0])))
    for entry in not_run:
        print('not run  %-28s %s: %s' % (entry['name'], entry['title'], entry['reason']))
    write_private(os.path.join(out_dir, 'secrets.yml'), ('---\n' + json.dumps(secrets(fixtures), indent=1) + '\n').encode('utf-8'))
    with open(os.path.join(out_dir, 'manifest.json'), 'w', encoding='utf-8') as handle:
        json.dump(manifest, handle, indent=1)
    with open(os.path.join(out_dir, 'run.tsv'), 'w', encoding='utf-8') as handle:
        for entry in manifest['run']:
            handle.write('\t'.join((entry['name'], entry['playbook'], entry['fs'], entry['home'], str(entry['keeps_token']).lower(),
                                    entry['needs_renewable_token'] or '-', ','.join(entry['environment']) or '-')) + '\n')
    if not manifest['run']:
        print('ERROR    no example to run in %s' % ', '.join(sources))
        return 1
    return 1 if errors else 0


def first_name(text):
    data = yaml.safe_load(text)
    return data[0].get('name', '(unnamed)') if data else '(empty)'


def tokens_issued(config_path):
    with open(config_path, encoding='utf-8') as config_file:
        config = yaml.safe_load(config_file)
    context = ssl.create_default_context(cafile=config['unicore_testserver_ca'])
    with urllib.request.urlopen(config['unicore_testserver_control_url'] + '/stats', context=context, timeout=30) as answer:
        return json.load(answer)['tokens_issued']['total']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    prepare_parser = commands.add_parser('prepare')
    prepare_parser.add_argument('out_dir')
    prepare_parser.add_argument('--root', required=True)
    prepare_parser.add_argument('--config', required=True)
    prepare_parser.add_argument('sources', nargs='+')
    tokens_parser = commands.add_parser('tokens-issued')
    tokens_parser.add_argument('--config', required=True)
    args = parser.parse_args(argv)
    if args.command == 'prepare':
        os.makedirs(args.out_dir, exist_ok=True)
        return prepare(os.path.abspath(args.root), args.config, args.sources, os.path.abspath(args.out_dir))
    print(tokens_issued(args.config))
    return 0


if __name__ == '__main__':
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real oidc-agent and ssh-agent for the tests, each started in a directory of its own and stopped by its PID.

    agents.py oidc-start DIR FIXTURES  oidc-agent with an account 'demo' of demouser at the test server's OIDC provider; prints JSON
    agents.py clock DIR OFFSET         set oidc-agent's clock OFFSET from the real one (e.g. +280; needs libfaketime)
    agents.py lock DIR | unlock DIR    lock or unlock oidc-agent
    agents.py ssh-start DIR FIXTURES   ssh-agent holding demouser's RSA, EC P-256 and Ed25519 keys, an unregistered
                                       key and one that needs a confirmation nobody gives; prints JSON
    agents.py stop DIR                 stop the agent by its PID

Set up without a terminal: each agent in the foreground (``-d``, ``-D``) so that
its PID is known, oidc-agent's home, configuration and temporary files in DIR,
its account made by ``oidc-gen`` with the password flow. The secrets come from
the fixtures file here and never pass through Ansible. A start prints
``{"installed": false, "reason": ...}`` where the agent is not installed, so
that the tests that need it are skipped with the reason. Under libfaketime
(Debian's ``faketime``) oidc-agent's clock can be moved on, so that the token
it holds is about to expire.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

ACCOUNT = 'demo'
LOCK_PASSWORD = 'locks-the-test-agent'
FAKETIME_LIBRARIES = ('/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
                      '/usr/lib/faketime/libfaketime.so.1')


def agent_environment(directory):
    return dict(os.environ, HOME=directory, OIDC_CONFIG_DIR=os.path.join(directory, 'config'), TMPDIR=directory,
                OIDC_SOCK=os.path.join(directory, 'sock'))


def oidc_start(directory, fixtures_path):
    missing = [program for program in ('oidc-agent', 'oidc-gen') if shutil.which(program) is None]
    if missing:
        return {'installed': False, 'reason': '%s not installed (Debian package oidc-agent-cli)' % ' and '.join(missing)}
    with open(fixtures_path, encoding='utf-8') as fixtures_file:
        fixtures = json.load(fixtures_file)
    env = agent_environment(directory)
    os.makedirs(env['OIDC_CONFIG_DIR'], 0o700, exist_ok=True)
    faketime = next((path for path in FAKETIME_LIBRARIES if os.path.exists(path)), None)
    agent_env = dict(env)
    if faketime:
        with open(os.path.join(directory, 'faketime'), 'w', encoding='ascii') as clock:
            clock.write('+0\n')
        agent_env.update(LD_PRELOAD=faketime, FAKETIME_TIMESTAMP_FILE=os.path.join(directory, 'faketime'), FAKETIME_NO_CACHE='1')
    with open(os.path.join(directory, 'agent.log'), 'ab') as log:
        agent = subprocess.Popen(['oidc-agent', '-d', '-a', env['OIDC_SOCK'], '--no-autoload', '--no-autoreauthenticate'],
                                 env=agent_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    with open(os.path.join(directory, 'pid'), 'w', encoding='ascii') as pid_file:
        pid_file.write('%d\n' % agent.pid)
    wait_for(env['OIDC_SOCK'], directory)
    oidc = fixtures['oidc']
    with open(os.path.join(directory, 'pw'), 'w', encoding='ascii') as pw_file:
        pw_file.write('encrypts-the-account-config\n')
    # stdin closed, --scope and --redirect-uri given and a timeout: otherwise oidc-gen may loop on its prompt
    command = ['oidc-gen', ACCOUNT, '--issuer=' + oidc['issuer'], '--client-id=' + oidc['clients']['confidential']['id'],
               '--client-secret=' + oidc['clients']['confidential']['secret'], '--flow=password',
               '--op-username=demouser', '--op-password=' + oidc['users']['demouser']['password'],
               '--scope=openid offline_access', '--redirect-uri=http://localhost:4242',
               '--pw-file=' + os.path.join(directory, 'pw'), '--cp=' + fixtures['ca_cert'], '--confirm-default', '--no-url-call']
    try:
        generated = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        generated = None
    if generated is None or generated.returncode != 0:
        stop(directory)
        # the command line holds the client secret and the password: never part of the message
        raise SystemExit('oidc-gen could not create the account: %s' % ('timed out' if generated is None else generated.stderr.strip()))
    return {'installed': True, 'socket': env['OIDC_SOCK'], 'pid': agent.pid, 'account': ACCOUNT, 'issuer': oidc['issuer'],
            'faketime': bool(faketime)}


def ssh_start(directory, fixtures_path):
    if shutil.which('ssh-agent') is None or shutil.which('ssh-add') is None:
        return {'installed': False, 'reason': 'ssh-agent not installed (Debian package openssh-client)'}
    with open(fixtures_path, encoding='utf-8') as fixtures_file:
        keys = json.load(fixtures_file)['keys']
    sock = os.path.join(directory, 'sock')
    with open(os.path.join(directory, 'agent.log'), 'ab') as log:
        agent = subprocess.Popen(['ssh-agent', '-D', '-a', sock], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 start_new_session=True)
    with open(os.path.join(directory, 'pid'), 'w', encoding='ascii') as pid_file:
        pid_file.write('%d\n' % agent.pid)
    wait_for(sock, directory)
    loaded = {}
    # in this order: the agent's first key is demouser's RSA key
    for name, fixture, confirm in (('rsa', 'rsa_openssh', False), ('ec', 'ec_openssh', False),
                                   ('ed25519', 'ed25519_openssh_encrypted', False), ('unregistered', 'ed25519_unregistered', False),
                                   ('confirm', 'ed25519_otheruser', True)):
        key = keys[fixture]
        private = os.path.join(directory, name)
        shutil.copyfile(key['path'], private)
        os.chmod(private, 0o600)
        shutil.copyfile(key['public_key'], private + '.pub')
        if key['passphrase']:
            # ssh-add would ask for it on a terminal: a copy without it is added instead
            run(['ssh-keygen', '-p', '-q', '-P', key['passphrase'], '-N', '', '-f', private])
        run(['ssh-add'] + (['-c'] if confirm else []) + [private], env=dict(os.environ, SSH_AUTH_SOCK=sock))
        os.unlink(private)  # the agent holds it now; only the public key stays beside the agent
        loaded[name] = private + '.pub'
    return {'installed': True, 'socket': sock, 'pid': agent.pid, 'public_keys': loaded}


def run(command, env=None):
    # stdin closed: ssh-add and ssh-keygen must never wait for a passphrase
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise SystemExit('%s failed: %s' % (command[0], done.stderr.strip()))


def wait_for(sock, directory):
    for _attempt in range(100):
        if os.path.exists(sock):
            return
        time.sleep(0.05)
    raise SystemExit('the agent made no socket at %s (see %s/agent.log)' % (sock, directory))


def ask(directory, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(10)
        connection.connect(os.path.join(directory, 'sock'))
        connection.sendall(json.dumps(request).encode('utf-8'))
        return json.loads(connection.recv(65536).decode('utf-8'))


def stop(directory):
    try:
        with open(os.path.join(directory, 'pid'), encoding='ascii') as pid_file:
            pid = int(pid_file.read())
    except (OSError, ValueError):
        return {'stopped': False}
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return {'stopped': False}
    for _attempt in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    os.unlink(os.path.join(directory, 'pid'))
    return {'stopped': True}


def main(argv):
    command, directory = argv[1], argv[2]
    if command == 'oidc-start':
        result = oidc_start(directory, argv[3])
    elif command == 'ssh-start':
        result = ssh_start(directory, argv[3])
    elif command == 'clock':
        with open(os.path.join(directory, 'faketime'), 'w', encoding='ascii') as clock:
            clock.write(argv[3] + '\n')
        result = {'clock': argv[3]}
    elif command in ('lock', 'unlock'):
        result = ask(directory, {'request': command, 'password': LOCK_PASSWORD})
    elif command == 'stop':
        result = stop(directory)
    else:
        raise SystemExit('unknown command %s' % command)
    print(json.dumps(result))


if __name__ == '__main__':
    main(sys.argv)

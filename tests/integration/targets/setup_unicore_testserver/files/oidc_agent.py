# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real oidc-agent for the tests, with an account 'demo' of demouser at the test server's OIDC provider.

    oidc_agent.py start DIR FIXTURES   start the agent in DIR, create the account; prints JSON
    oidc_agent.py clock DIR OFFSET     set the agent's clock OFFSET from the real one (e.g. +280; needs libfaketime)
    oidc_agent.py lock DIR | unlock DIR
    oidc_agent.py stop DIR             stop the agent by its PID

Set up without a terminal as oidc-agent's facts page says: the agent in the
foreground (``-d``) so that its PID is known, its home, configuration and
temporary files in DIR, the account made by ``oidc-gen`` with the password
flow. The secrets come from the fixtures file here and never pass through
Ansible. ``start`` prints ``{"installed": false, "reason": ...}`` where the
agent is not installed, so that the tests that need it are skipped with the
reason. Under libfaketime (Debian's ``faketime``) the agent's clock can be moved
on, so that the token it holds is about to expire.
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


def start(directory, fixtures_path):
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
    for _attempt in range(100):
        if os.path.exists(env['OIDC_SOCK']):
            break
        time.sleep(0.05)
    else:
        raise SystemExit('oidc-agent made no socket at %s (see %s/agent.log)' % (env['OIDC_SOCK'], directory))
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
    if command == 'start':
        result = start(directory, argv[3])
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

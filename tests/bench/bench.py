# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore.auth benchmark (issue 6): request economy, overhead against baselines, scale; OIDC grants (issue 12).

``make bench`` runs ``tests/bench/run.sh``, which syncs the checkout into
``build/bench/ansible_collections/unicore/auth``, starts the test server there
and runs::

    python tests/bench/bench.py run --config INTEGRATION_CONFIG --collections DIR --out DIR

Every figure is measured in this one run, against the test server on loopback,
and repeated (``BENCH_REPS``, default 3; the median, min and max are shown).
Ratios are taken per repetition from runs made back to back, so that a slow
moment of a shared machine hits both sides of a ratio.

``results.json`` in the output directory holds exactly the keys named in the
issues (issue 6; issue 12's OIDC grants per run of the lookup with an
``oidc_server`` login); ``details.json`` holds everything else measured
(server latency, baselines, per-run walls and counts, import times, the
lookup's cost per worker process) and the machine.

Environment: BENCH_REPS (default 3), BENCH_FORKS (default 5), BENCH_SIZES
(host counts of the lookup plays, default 10,100,500), BENCH_NAIVE_SIZES (host
counts of the naive ansible.builtin.uri play, default 10,100),
BENCH_MODULE_HOSTS (default 50), BENCH_LIBRARY_CALLS (default 300).

The ``probe-imports`` and ``probe-lookup`` subcommands run in fresh
interpreters started by ``run``; they are not meant to be called by hand.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, 'playbooks')
LOOKUP = 'unicore.auth.unicore_token'
# A keep-alive answer that Nagle's algorithm holds back waits for the peer's delayed ACK, about 40 ms.
NAGLE_DELAY_MS = 40.0
# Each JWT timing of a repetition is the best of this many attempts.
JWT_ATTEMPTS = 3


# --------------------------------------------------------------------------
# figures


def figure(values, unit=None, **extra):
    """Median, min and max of the repetitions, with the values themselves."""
    values = [float(value) for value in values]
    result = {'median': statistics.median(values), 'min': min(values), 'max': max(values), 'runs': values}
    if unit:
        result['unit'] = unit
    result.update(extra)
    return result


def env_int(name, default):
    value = os.environ.get(name, '').strip()
    return int(value) if value else default


def env_sizes(name, default):
    value = os.environ.get(name, '').strip()
    return [int(part) for part in value.split(',') if part.strip()] if value else list(default)


class Log:
    """Progress lines on stderr, with the time since the start."""

    def __init__(self):
        self.started = time.monotonic()

    def __call__(self, message):
        sys.stderr.write('[%6.1fs] %s\n' % (time.monotonic() - self.started, message))
        sys.stderr.flush()


# --------------------------------------------------------------------------
# the test server


class TestServer:
    """The test server's URLs, fixtures and control API (over HTTPS with the test CA)."""

    def __init__(self, config_path):
        self.config = read_integration_config(config_path)
        with open(self.config['unicore_testserver_fixtures'], encoding='utf-8') as handle:
            self.fixtures = json.load(handle)
        self.url = self.fixtures['sites']['DEMO-SITE']['url']
        self.ca_path = self.fixtures['ca_cert']
        self.control_url = self.config['unicore_testserver_control_url']
        self.username = 'demouser'
        self.password = self.fixtures['users']['demouser']['password']
        # the OIDC provider the sites trust: its token endpoint and confidential client (demouser logs in there too)
        self.oidc = self.fixtures['oidc']
        self.registry_url = self.fixtures['registry_url']
        self.ssl_context = ssl.create_default_context(cafile=self.ca_path)

    def control(self, path, method='GET'):
        request = urllib.request.Request(self.control_url + path, method=method, data=b'' if method == 'POST' else None)
        with urllib.request.urlopen(request, context=self.ssl_context, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def reset(self):
        self.control('/reset', 'POST')

    def stats(self):
        return self.control('/stats')

    def recent_requests(self, last):
        return self.control('/requests?last=%d' % last)['requests']


def read_integration_config(path):
    """integration_config.yml as testserver.sh writes it: ``key: <JSON string>`` lines."""
    values = {}
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            if line.startswith(('#', '---')) or ':' not in line:
                continue
            key, dummy, value = line.partition(':')
            values[key.strip()] = json.loads(value.strip())
    return values


def counts(stats):
    grants = stats.get('oidc_grants', {})
    return {
        'tokens_issued': stats['tokens_issued']['total'],
        'full_auths': stats['full_authentications_total'],
        'requests': stats['requests']['total'],
        'session_reuses': stats.get('session_reuses', 0),
        # the OIDC provider's grants, {grant type: {"ok" or the RFC 6749 error: n}}; a refused grant counts as one too
        'oidc_grants': grants,
        'oidc_password_grants': sum(grants.get('password', {}).values()),
        'oidc_refresh_grants': sum(grants.get('refresh_token', {}).values()),
        # requests to the provider (the site the test server counts them under is OIDC)
        'oidc_requests': stats['requests'].get('per_site', {}).get('OIDC', 0),
        # reads of the Registry (a site named by registry_url + site)
        'registry_reads': stats.get('registry_reads', {}).get('total', 0),
    }


# --------------------------------------------------------------------------
# 0. the server alone


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed_requests(connection_factory, headers, count, path, reuse):
    latencies = []
    connection = connection_factory() if reuse else None
    for dummy in range(count):
        start = time.perf_counter()
        current = connection if reuse else connection_factory()
        current.request('GET', path, headers=headers)
        response = current.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit('test server answered GET %s with HTTP %d' % (path, response.status))
        json.loads(body)
        if not reuse:
            current.close()
        latencies.append((time.perf_counter() - start) * 1000)
    if connection is not None:
        connection.close()
    return latencies


def bench_server(server, collection, log):
    """Per-request latency of the test server alone, with a bare http.client client."""
    log('server alone: keep-alive and new-connection latency with http.client')
    source = os.path.join(collection, 'tests', 'unicore_testserver', 'server.py')
    with open(source, encoding='utf-8') as handle:
        nodelay_in_source = 'TCP_NODELAY' in handle.read()
    parts = urllib.parse.urlsplit(server.url)

    def connect():
        return http.client.HTTPSConnection(parts.hostname, parts.port, context=server.ssl_context, timeout=30)

    basic = 'Basic ' + base64.b64encode(('%s:%s' % (server.username, server.password)).encode()).decode()
    first = connect()
    first.request('GET', parts.path, headers={'Authorization': basic, 'Accept': 'application/json'})
    response = first.getresponse()
    response.read()
    session = response.getheader('X-UNICORE-SecuritySession')
    first.close()
    server.reset()
    with_session = {'X-UNICORE-SecuritySession': session, 'Accept': 'application/json'}
    kinds = {
        'keepalive_session': timed_requests(connect, with_session, 500, parts.path, True),
        'new_connection_session': timed_requests(connect, with_session, 100, parts.path, False),
        # last: every Basic request without a session id opens a new session, and old ones are evicted
        'keepalive_basic': timed_requests(connect, {'Authorization': basic, 'Accept': 'application/json'}, 200, parts.path, True),
    }
    inside = [entry['duration_ms'] for entry in server.recent_requests(800) if entry.get('duration_ms') is not None]
    result = {'tcp_nodelay_in_server_source': nodelay_in_source,
              'server_side_ms_median': statistics.median(inside) if inside else None}
    for name, latencies in kinds.items():
        result[name] = {'median_ms': statistics.median(latencies), 'p99_ms': percentile(latencies, 0.99),
                        'max_ms': max(latencies), 'requests': len(latencies)}
    result['nagle_free'] = (nodelay_in_source and result['keepalive_session']['p99_ms'] < NAGLE_DELAY_MS / 2
                            and result['keepalive_basic']['p99_ms'] < NAGLE_DELAY_MS / 2)
    return result


# --------------------------------------------------------------------------
# 4. the library: the collection's client against PyUNICORE


def collection_client(server, options):
    from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
    from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter

    values = {'url': server.url, 'ca_path': server.ca_path}
    values.update(options)
    return UnicoreClient.from_options(OptionAdapter.from_dict(values))


def run_collection_calls(server, calls):
    client = collection_client(server, {'username': server.username, 'password': server.password})
    try:
        for dummy in range(calls):
            client.access_info()
    finally:
        client.transport.close()


def run_pyunicore_calls(server, calls):
    import pyunicore.client
    import pyunicore.credentials

    transport = pyunicore.client.Transport(pyunicore.credentials.UsernamePassword(server.username, server.password),
                                           verify=ssl.create_default_context(cafile=server.ca_path))
    client = pyunicore.client.Client(transport, server.url, cache_time=0)
    for dummy in range(calls):
        client.access_info()


def bench_library(server, reps, calls, log):
    import pyunicore

    log('library: %d sequential access_info calls, the collection\'s client against PyUNICORE %s, %d repetitions'
        % (calls, getattr(pyunicore, '__version__', '?'), reps))
    # untimed warm-up: imports, TLS contexts, the server's first sessions
    run_collection_calls(server, 20)
    run_pyunicore_calls(server, 20)
    runs = {'collection': [], 'pyunicore': []}
    for dummy in range(reps):
        for name, work in (('collection', run_collection_calls), ('pyunicore', run_pyunicore_calls)):
            server.reset()
            start = time.perf_counter()
            cpu_start = time.process_time()
            work(server, calls)
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            stats = counts(server.stats())
            inside = [entry['duration_ms'] for entry in server.recent_requests(calls + 5) if entry.get('duration_ms') is not None]
            runs[name].append(dict(stats, seconds=wall, ms_per_call=wall * 1000 / calls, client_cpu_ms_per_call=cpu * 1000 / calls,
                                   server_ms_median=statistics.median(inside) if inside else None))
    ratios = [ours['seconds'] / theirs['seconds'] for ours, theirs in zip(runs['collection'], runs['pyunicore'])]
    return runs, ratios


# --------------------------------------------------------------------------
# 5. JWT signing


def bench_jwt(server, reps, log):
    """Signing speed per key type through the collection's ssh_key credential, and the gain of reusing a JWT."""
    from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
    from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import SshKeyCredential
    from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter
    from ansible_collections.unicore.auth.plugins.module_utils._transport import Transport

    log('JWT: 1000 header builds per key type, signing each time and reusing the JWT; %d repetitions, each the best of %d'
        % (reps, JWT_ATTEMPTS))
    keys = {'RSA-2048': 'rsa_pem', 'P-256': 'ec_openssh', 'Ed25519': 'ed25519_openssh_encrypted'}
    credentials = {}
    accepted = {}
    for label, fixture in keys.items():
        key = server.fixtures['keys'][fixture]
        options = {'username': server.username, 'identity': key['path'], 'identity_passphrase': key['passphrase'],
                   'jwt_lifetime': 300}
        credential = SshKeyCredential.from_options(OptionAdapter.from_dict(options))
        credential.validate()
        if label == 'RSA-2048' and credential.signing_key.key_size != 2048:
            raise SystemExit('fixture key %s is RSA-%d, not RSA-2048' % (fixture, credential.signing_key.key_size))
        credentials[label] = credential
        # the server must accept what is signed: one request with each key
        client = UnicoreClient(server.url, Transport(credential, ca_path=server.ca_path))
        try:
            accepted[label] = client.access_info()['client'].get('authenticationMethod')
        finally:
            client.transport.close()

    def always_expired_clock():
        # every call is a lifetime later than the one before: the JWT is never reused
        state = {'now': time.time()}

        def clock():
            state['now'] += 1000
            return state['now']
        return clock

    def fresh(credential, clock=time.time):
        fresh_credential = SshKeyCredential(credential.username, credential.signing_key, 300, clock=clock)
        fresh_credential.validate()
        return fresh_credential

    def header_builds(make_credential, count):
        # the best of JWT_ATTEMPTS, as timeit does: a burst of other work on a shared
        # machine lengthens one attempt, never shortens one
        best = None
        for dummy in range(JWT_ATTEMPTS):
            credential = make_credential()
            start = time.perf_counter()
            for dummy in range(count):
                credential.authorization_header()
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        return best

    sign_us = {label: [] for label in keys}
    reuse = {label: [] for label in keys}
    for dummy in range(reps):
        for label, credential in credentials.items():
            signing = header_builds(lambda credential=credential: fresh(credential, always_expired_clock()), 1000)
            reusing = header_builds(lambda credential=credential: fresh(credential), 1000)
            sign_us[label].append(signing / 1000 * 1e6)
            reuse[label].append(reusing / signing)
    return sign_us, reuse, accepted


# --------------------------------------------------------------------------
# import times of the modules' code paths (probe-imports, in fresh interpreters)


IMPORT_PATHS = {
    'unicore_access_info, password': ('unicore_access_info', {'username': 'demouser', 'password': 'x'}),
    'unicore_access_info, bearer': ('unicore_access_info', {'token': 'opaque-token'}),
    'unicore_auth_token, password': ('unicore_auth_token', {'username': 'demouser', 'password': 'x'}),
    'unicore_access_info, ssh_key': ('unicore_access_info', {'username': 'demouser', 'identity': '@rsa_pem'}),
    'ansible.builtin.uri (baseline)': (None, None),
}


def probe_imports(args):
    """Import a module's code path as the module runs it and build its client (no request)."""
    start = time.perf_counter()
    import ansible.module_utils.basic  # noqa: F401  pylint: disable=unused-import
    basic_done = time.perf_counter()
    module, options = IMPORT_PATHS[args.path]
    if module is None:
        import ansible.modules.uri  # noqa: F401  pylint: disable=unused-import
    else:
        import importlib

        importlib.import_module('ansible_collections.unicore.auth.plugins.modules.%s' % module)
        from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
        from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter

        values = {'url': 'https://localhost:8080/DEMO-SITE/rest/core'}
        values.update(options)
        if str(values.get('identity', '')).startswith('@'):
            values['identity'] = args.key_path
        UnicoreClient.from_options(OptionAdapter.from_dict(values))
    done = time.perf_counter()
    print(json.dumps({'basic_ms': (basic_done - start) * 1000, 'path_ms': (done - basic_done) * 1000,
                      'cryptography': 'cryptography' in sys.modules, 'jwt': 'jwt' in sys.modules,
                      'requests': 'requests' in sys.modules}))


def bench_imports(server, collections, reps, log):
    log('imports: each module code path in a fresh interpreter, %d repetitions' % max(reps, 5))
    env = dict(os.environ, PYTHONPATH=collections)
    results = {}
    for name in IMPORT_PATHS:
        samples = []
        for dummy in range(max(reps, 5)):
            output = subprocess.run([sys.executable, __file__, 'probe-imports', '--path', name,
                                     '--key-path', server.fixtures['keys']['rsa_pem']['path']],
                                    env=env, check=True, stdout=subprocess.PIPE).stdout
            samples.append(json.loads(output))
        results[name] = {
            'import_ms': figure([sample['path_ms'] for sample in samples], 'ms'),
            'basic_ms_median': statistics.median(sample['basic_ms'] for sample in samples),
            'imports_cryptography': samples[-1]['cryptography'],
            'imports_jwt': samples[-1]['jwt'],
            'imports_requests': samples[-1]['requests'],
        }
    return results


# --------------------------------------------------------------------------
# the lookup's cost in one worker process (probe-lookup, in a fresh interpreter)


def probe_lookup(args):
    """What a lookup costs a forked worker: loading it and running it on a remembered answer.

    Ansible forks a worker per host and task and the worker loads the lookup
    plugin afresh; this forks children of a process that has initialised
    Ansible's plugin loader, as ansible-playbook has, and times each step in them.
    """
    # pylint: disable=import-outside-toplevel
    import importlib

    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import fragment_loader, init_plugin_loader, lookup_loader
    from ansible.template import Templar
    from ansible.utils.plugin_docs import get_docstring

    init_plugin_loader([args.collections, args.floor])
    loader = DataLoader()
    options = json.loads(args.options)
    plugin_path = os.path.join(args.collections, 'ansible_collections', 'unicore', 'auth', 'plugins', 'lookup', 'unicore_token.py')

    def in_child(step):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                value = step()
            except BaseException as exc:  # pylint: disable=broad-exception-caught
                value = {'error': repr(exc)}
            os.write(write, json.dumps(value).encode())
            os._exit(0)
        os.close(write)
        chunks = []
        while True:
            chunk = os.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read)
        os.waitpid(pid, 0)
        value = json.loads(b''.join(chunks))
        if isinstance(value, dict) and 'error' in value:
            raise SystemExit('probe-lookup failed in a worker: %s' % value['error'])
        return value

    def load_only(name):
        def step():
            start = time.perf_counter()
            lookup_loader.get(name, loader=loader, templar=Templar(loader=loader))
            return (time.perf_counter() - start) * 1000
        return step

    def in_steps():
        # the collection package (meta/runtime.yml), then the plugin as Ansible loads it (its file through
        # Python's bytecode cache, its option definitions), then run() on the answer remembered by the first child
        marks = [time.perf_counter()]
        importlib.import_module('ansible_collections.unicore.auth')
        marks.append(time.perf_counter())
        plugin = lookup_loader.get(LOOKUP, loader=loader, templar=Templar(loader=loader))
        marks.append(time.perf_counter())
        plugin.run([], {}, **options)
        marks.append(time.perf_counter())
        modules = sorted(name for name in sys.modules if name.startswith('ansible_collections.unicore.auth.plugins.'))
        return [(after - before) * 1000 for before, after in zip(marks, marks[1:])] + [modules]

    def documentation():
        start = time.perf_counter()
        get_docstring(plugin_path, fragment_loader)
        return (time.perf_counter() - start) * 1000

    # ansible-playbook's parent process has loaded and templated plenty before it forks a worker: warm this one alike
    lookup_loader.get('ansible.builtin.env', loader=loader, templar=Templar(loader=loader)).run(['HOME'], {})
    get_docstring(lookup_loader.find_plugin('ansible.builtin.env'), fragment_loader)
    in_child(in_steps)  # issues the token and remembers the answer: every measured run finds it
    samples = {name: [] for name in ('load_ms', 'run_ms', 'collection_package_ms', 'plugin_ms', 'documentation_alone_ms',
                                     'floor_load_ms', 'builtin_password_load_ms')}
    modules = None
    for dummy in range(args.reps):
        package, plugin, run, modules = in_child(in_steps)
        samples['collection_package_ms'].append(package)
        samples['plugin_ms'].append(plugin)
        samples['load_ms'].append(package + plugin)
        samples['run_ms'].append(run)
        samples['documentation_alone_ms'].append(in_child(documentation))
        samples['floor_load_ms'].append(in_child(load_only('benchfloor.noop.echo')))
        samples['builtin_password_load_ms'].append(in_child(load_only('ansible.builtin.password')))
    print(json.dumps({'samples': samples, 'collection_modules': modules}))


def bench_lookup_probe(server, collections, floor, work, log):
    log('lookup: cost per worker process (load, documentation, run on a remembered answer)')
    options = {'url': server.url, 'ca_path': server.ca_path, 'username': server.username, 'password': server.password,
               'cache_dir': os.path.join(work, 'cache-probe')}
    env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'UNICORE_'))}
    env.pop('PYTHONDONTWRITEBYTECODE', None)  # as in the plays (see Plays)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_CONFIG=os.path.join(work, 'ansible.cfg'))
    output = subprocess.run([sys.executable, __file__, 'probe-lookup', '--collections', collections, '--floor', floor,
                             '--reps', '10', '--options', json.dumps(options)],
                            env=env, check=True, stdout=subprocess.PIPE).stdout
    probe = json.loads(output)
    figures = {name: figure(values, 'ms') for name, values in probe['samples'].items()}
    figures['collection_modules'] = probe['collection_modules']
    return figures


# --------------------------------------------------------------------------
# plays


class Plays:
    """Runs the shipped playbooks with ansible-playbook over generated inventories."""

    def __init__(self, server, collections, work, forks, log):
        self.server = server
        self.collections = collections
        self.collection = os.path.join(collections, 'ansible_collections', 'unicore', 'auth')
        self.work = work
        self.forks = forks
        self.log = log
        self.bin = os.path.dirname(os.path.abspath(sys.executable))
        self.logs = os.path.join(work, 'logs')
        self.counter = 0
        os.makedirs(self.logs, exist_ok=True)
        self.config = os.path.join(work, 'ansible.cfg')
        with open(self.config, 'w', encoding='utf-8') as handle:
            handle.write('[defaults]\nforks = %d\nhost_key_checking = False\nretry_files_enabled = False\n'
                         'local_tmp = %s\nremote_tmp = %s\n'
                         % (forks, os.path.join(work, 'tmp', 'local'), os.path.join(work, 'tmp', 'remote')))
        # Where the plays keep security sessions between module runs (and lookups, UNICORE_SECURITY_SESSION_DIR below);
        # emptied before every run, so that each run starts as on a fresh machine, with one full authentication.
        self.session_dir = os.path.join(work, 'security-sessions')
        self.vars_file = os.path.join(work, 'bench_vars.yml')
        with open(self.vars_file, 'w', encoding='utf-8') as handle:
            handle.write('---\n')
            for key, value in (('bench_url', server.url), ('bench_ca_path', server.ca_path),
                               ('bench_username', server.username), ('bench_password', server.password),
                               ('bench_oidc_token_endpoint', server.oidc['token_endpoint']),
                               ('bench_oidc_client_id', server.oidc['clients']['confidential']['id']),
                               ('bench_oidc_client_secret', server.oidc['clients']['confidential']['secret']),
                               ('bench_registry_url', server.registry_url),
                               ('bench_session_dir', self.session_dir)):
                handle.write('%s: %s\n' % (key, json.dumps(value)))
        os.chmod(self.vars_file, 0o600)
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'UNICORE_'))}
        # the no-op collection of the floor plays (and of the worker probe)
        self.floor = write_floor_collection(work)
        self.env.update(ANSIBLE_CONFIG=self.config, ANSIBLE_COLLECTIONS_PATH=collections + os.pathsep + self.floor,
                        UNICORE_SECURITY_SESSION_DIR=self.session_dir,
                        PATH=self.bin + os.pathsep + os.environ.get('PATH', ''))
        self.env.pop('PYTHONPATH', None)
        # Python keeps the bytecode of the lookup plugin's file beside it, as it does for a collection that
        # ansible-galaxy installed in a directory the user can write; lookup(bytecode_cache=False) shows the other case.
        self.env.pop('PYTHONDONTWRITEBYTECODE', None)

    def inventory(self, hosts):
        path = os.path.join(self.work, 'inventory_%d.ini' % hosts)
        if not os.path.exists(path):
            with open(path, 'w', encoding='utf-8') as handle:
                handle.write('# %d hosts, all run on the controller (local connection)\n[bench]\n' % hosts)
                handle.writelines('host%04d\n' % number for number in range(1, hosts + 1))
                handle.write('\n[all:vars]\nansible_connection=local\nansible_python_interpreter=%s\n' % sys.executable)
        return path

    def run(self, playbook, hosts, extra_vars=None, env=None):
        """Run a playbook with the counters zeroed; return wall seconds, peak RSS and the server's counts."""
        self.counter += 1
        name = '%03d-%s-%d' % (self.counter, os.path.splitext(playbook)[0], hosts)
        command = [os.path.join(self.bin, 'ansible-playbook'), '-i', self.inventory(hosts),
                   os.path.join(PLAYBOOKS, playbook), '-e', '@' + self.vars_file]
        for key, value in (extra_vars or {}).items():
            command += ['-e', json.dumps({key: value}) if isinstance(value, dict) else '%s=%s' % (key, value)]
        self.server.reset()
        shutil.rmtree(self.session_dir, ignore_errors=True)
        log_path = os.path.join(self.logs, name + '.log')
        with open(log_path, 'w', encoding='utf-8') as log_file:
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env or self.env, cwd=self.work)
            dummy, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            with open(log_path, encoding='utf-8') as log_file:
                tail = log_file.readlines()[-30:]
            raise SystemExit('ansible-playbook %s over %d hosts failed (exit %d); the end of %s:\n%s'
                             % (playbook, hosts, process.returncode, log_path, ''.join(tail)))
        # ru_maxrss (KiB on Linux) of a waited-for child covers its own waited-for descendants too
        result = dict(counts(self.server.stats()), seconds=wall, peak_rss_mb=usage.ru_maxrss / 1024.0,
                      cpu_seconds=usage.ru_utime + usage.ru_stime)
        grants = ''.join('  OIDC %s %s' % (grant_type, ','.join('%s=%d' % item for item in sorted(outcomes.items())))
                         for grant_type, outcomes in sorted(result['oidc_grants'].items()))
        self.log('  %-20s N=%-4d %7.2fs  tokens %-5d full auths %-5d session reuses %-5d requests %-5d registry reads %-3d peak RSS %.0f MB%s'
                 % (playbook, hosts, wall, result['tokens_issued'], result['full_auths'], result['session_reuses'], result['requests'],
                    result['registry_reads'], result['peak_rss_mb'], grants))
        return result

    def lookup(self, hosts, bytecode_cache=True, cache_filled=False):
        """The lookup play with a new, empty cache_dir; without the bytecode cache, or after a first run, on request.

        Without the bytecode cache, the plugin's file is compiled in every worker,
        as where the collection is installed in a directory the user cannot write
        (an execution environment's image, run as another user). With the cache
        filled by a first run (not counted), no lookup issues a token: the play
        shows what the lookup costs per host and task alone.
        """
        cache_dir = os.path.join(self.work, 'cache-%d' % self.counter)
        shutil.rmtree(cache_dir, ignore_errors=True)
        if cache_filled:
            self.run('lookup_token.yml', hosts, {'bench_cache_dir': cache_dir})
        env = None
        if not bytecode_cache:
            for parent, directories, dummy in os.walk(self.collection):
                if '__pycache__' in directories:
                    shutil.rmtree(os.path.join(parent, '__pycache__'))
            env = dict(self.env, PYTHONDONTWRITEBYTECODE='1')
        try:
            return self.run('lookup_token.yml', hosts, {'bench_cache_dir': cache_dir}, env=env)
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)

    def lookup_by_site(self, hosts):
        """The lookup play with the site named in the Registry (registry_url + site) instead of its url, and a new, empty cache_dir."""
        cache_dir = os.path.join(self.work, 'cache-%d' % self.counter)
        shutil.rmtree(cache_dir, ignore_errors=True)
        # the play's own token_options, the url replaced (extra vars win over play vars; the values are templates, no secret)
        token_options = {'registry_url': '{{ bench_registry_url }}', 'site': 'DEMO-SITE', 'ca_path': '{{ bench_ca_path }}',
                         'username': '{{ bench_username }}', 'password': '{{ bench_password }}', 'cache_dir': '{{ bench_cache_dir }}'}
        try:
            return self.run('lookup_token.yml', hosts, {'bench_cache_dir': cache_dir, 'token_options': token_options})
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)

    def lookup_oidc(self, hosts):
        """The lookup play with an oidc_server login, twice over the same hosts: (first run, rerun).

        The first run has no refresh token (a new oidc_refresh_token_file), so the
        lookup logs in with the password grant and keeps the refresh token the
        provider returns. The rerun keeps that file but starts with a new, empty
        cache_dir, as after the token cache was cleared or its token expired: the
        lookup must log in again, with the kept refresh token.
        """
        base = os.path.join(self.work, 'oidc-%d' % self.counter)
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base, mode=0o700)
        refresh_token_file = os.path.join(base, 'refresh-tokens')
        try:
            return tuple(self.run('lookup_token_oidc.yml', hosts, {'bench_cache_dir': os.path.join(base, 'cache-' + name),
                                                                   'bench_oidc_refresh_token_file': refresh_token_file})
                         for name in ('first', 'rerun'))
        finally:
            # the refresh token is a secret: nothing of it stays in the work directory
            shutil.rmtree(base, ignore_errors=True)


# A collection lookup that does nothing: the floor that any collection lookup
# costs in ansible-core, measured in the same run (floor_lookup.yml).
FLOOR_LOOKUP = '''# -*- coding: utf-8 -*-
from __future__ import annotations

DOCUMENTATION = """
name: echo
short_description: Returns its terms
description: [Returns its terms; a floor for the cost of a collection lookup.]
options:
  _terms:
    description: Anything.
"""

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        return list(terms)
'''


def write_floor_collection(work):
    """Write benchfloor.noop (meta/runtime.yml and the echo lookup) under ``work``; return its collections path."""
    root = os.path.join(work, 'floor')
    collection = os.path.join(root, 'ansible_collections', 'benchfloor', 'noop')
    os.makedirs(os.path.join(collection, 'plugins', 'lookup'), exist_ok=True)
    os.makedirs(os.path.join(collection, 'meta'), exist_ok=True)
    with open(os.path.join(collection, 'meta', 'runtime.yml'), 'w', encoding='utf-8') as handle:
        handle.write('---\nrequires_ansible: ">=2.16.0"\n')
    with open(os.path.join(collection, 'plugins', 'lookup', 'echo.py'), 'w', encoding='utf-8') as handle:
        handle.write(FLOOR_LOOKUP)
    return root


def constant_token(server):
    """A real token, issued once, for the constant baseline play (same size as what the lookup returns)."""
    client = collection_client(server, {'username': server.username, 'password': server.password})
    try:
        return client.issue_auth_token(lifetime=3600)
    finally:
        client.transport.close()


def bench_plays(plays, server, reps, sizes, naive_sizes, module_hosts, overhead_hosts, log):
    runs = {'startup': [], 'lookup': {size: [] for size in sizes}, 'constant': [], 'floor': [], 'floor_args': [],
            'lookup_without_bytecode_cache': [], 'lookup_cache_filled': [], 'naive': {size: [] for size in naive_sizes}, 'access_info': [], 'uri_get': [],
            'lookup_oidc_first': {size: [] for size in sizes}, 'lookup_oidc_rerun': {size: [] for size in sizes},
            'lookup_by_site': {size: [] for size in sizes}}
    token = constant_token(server)
    log('plays: ansible-playbook startup (the lookup play over 0 hosts), %d repetitions' % reps)
    for dummy in range(reps):
        runs['startup'].append(plays.run('lookup_token.yml', 0, {'bench_cache_dir': os.path.join(plays.work, 'cache-empty')}))
    log('plays: lookup (%s hosts x 3 tasks) and, at N=%d, the constant-token baseline, a no-op collection lookup without and '
        'with the same arguments, the lookup without a bytecode cache and with the cache filled; %d repetitions, forks=%d'
        % (', '.join(str(size) for size in sizes), overhead_hosts, reps, plays.forks))
    for dummy in range(reps):
        for size in sizes:
            runs['lookup'][size].append(plays.lookup(size))
            if size == overhead_hosts:
                runs['constant'].append(plays.run('constant_token.yml', size, {'bench_constant_token': token}))
                runs['floor'].append(plays.run('floor_lookup.yml', size, {'bench_constant_token': token}))
                runs['floor_args'].append(plays.run('floor_lookup_args.yml', size, {'bench_constant_token': token,
                                                                                    'bench_cache_dir': plays.work}))
                runs['lookup_without_bytecode_cache'].append(plays.lookup(size, bytecode_cache=False))
                runs['lookup_cache_filled'].append(plays.lookup(size, cache_filled=True))
    log('plays: the lookup with an oidc_server login (%s hosts x 3 tasks), a first run and a rerun with the token cache cleared '
        'and the refresh-token file kept; %d repetitions' % (', '.join(str(size) for size in sizes), reps))
    for dummy in range(reps):
        for size in sizes:
            first, rerun = plays.lookup_oidc(size)
            runs['lookup_oidc_first'][size].append(first)
            runs['lookup_oidc_rerun'][size].append(rerun)
    log('plays: the lookup with the site named in the Registry (%s hosts x 3 tasks); %d repetitions'
        % (', '.join(str(size) for size in sizes), reps))
    for dummy in range(reps):
        for size in sizes:
            runs['lookup_by_site'][size].append(plays.lookup_by_site(size))
    log('plays: unicore_access_info against ansible.builtin.uri over %d hosts, %d repetitions' % (module_hosts, reps))
    for dummy in range(reps):
        runs['access_info'].append(plays.run('access_info.yml', module_hosts))
        runs['uri_get'].append(plays.run('uri_get.yml', module_hosts))
    for size in naive_sizes:
        naive_reps = reps if size <= 10 else 1
        log('plays: naive ansible.builtin.uri /token pattern over %d hosts x 3 tasks, %d repetition(s)' % (size, naive_reps))
        for dummy in range(naive_reps):
            runs['naive'][size].append(plays.run('naive_uri_token.yml', size))
    return runs


# --------------------------------------------------------------------------
# the machine


def machine():
    model = platform.processor() or '?'
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for name in ('ansible-core', 'pyunicore', 'requests', 'PyJWT', 'cryptography', 'urllib3', 'httpx'):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # pylint: disable=broad-exception-caught
            versions[name] = None
    return {'nproc': os.cpu_count(), 'cpu_model': model, 'python': platform.python_version(), 'kernel': platform.release(),
            'versions': versions, 'loadavg_start': os.getloadavg()}


# --------------------------------------------------------------------------
# the report


TARGETS = {
    'lookup_vs_constant_ratio': 1.25,
    'module_vs_uri_ratio': 1.20,
    'access_info_vs_pyunicore_ratio': 0.33,
}

# Issue 12: the lookup with an oidc_server login, per run of the play (any N): the key in results.json,
# the runs it is taken from, the count in each run, and the exact count expected.
OIDC_FIGURES = (
    ('lookup_oidc_first_password_grants', 'lookup_oidc_first', 'oidc_password_grants', 1),
    ('lookup_oidc_first_refresh_grants', 'lookup_oidc_first', 'oidc_refresh_grants', 0),
    ('lookup_oidc_first_tokens_issued', 'lookup_oidc_first', 'tokens_issued', 1),
    ('lookup_oidc_rerun_password_grants', 'lookup_oidc_rerun', 'oidc_password_grants', 0),
    ('lookup_oidc_rerun_refresh_grants', 'lookup_oidc_rerun', 'oidc_refresh_grants', 1),
    ('lookup_oidc_rerun_tokens_issued', 'lookup_oidc_rerun', 'tokens_issued', 1),
)
# Issue 13: registry reads beside tokens per run of the lookup play, by url and by the site's name in the Registry.
REGISTRY_FIGURES = (
    ('lookup_registry_reads', 'lookup', 'registry_reads', 0),
    ('lookup_by_site_registry_reads', 'lookup_by_site', 'registry_reads', 1),
    ('lookup_by_site_tokens_issued', 'lookup_by_site', 'tokens_issued', 1),
)


def build_results(runs, library, library_ratios, sign_us, reuse, sizes, naive_sizes, overhead_hosts):
    startup = statistics.median(run['seconds'] for run in runs['startup'])
    per_n = {}
    results = {
        'lookup_tokens_issued': {str(size): figure([run['tokens_issued'] for run in runs['lookup'][size]], target=1)
                                 for size in sizes},
        'lookup_full_auths': {str(size): figure([run['full_auths'] for run in runs['lookup'][size]], target_max=1)
                              for size in sizes},
        'naive_tokens_issued': {str(size): figure([run['tokens_issued'] for run in runs['naive'][size]], expected=3 * size)
                                for size in naive_sizes},
    }
    for key, play, count, expected in OIDC_FIGURES + REGISTRY_FIGURES:
        results[key] = {str(size): figure([run[count] for run in runs[play][size]], target=expected) for size in sizes}
    if runs['constant']:
        results['lookup_vs_constant_ratio'] = figure(
            [lookup['seconds'] / constant['seconds'] for lookup, constant in zip(runs['lookup'][overhead_hosts], runs['constant'])],
            target_max=TARGETS['lookup_vs_constant_ratio'], hosts=overhead_hosts)
    results['module_vs_uri_ratio'] = figure(
        [module['seconds'] / uri['seconds'] for module, uri in zip(runs['access_info'], runs['uri_get'])],
        target_max=TARGETS['module_vs_uri_ratio'])
    results['access_info_vs_pyunicore_ratio'] = figure(
        library_ratios, target_max=TARGETS['access_info_vs_pyunicore_ratio'],
        collection_full_auths=figure([run['full_auths'] for run in library['collection']]),
        pyunicore_full_auths=figure([run['full_auths'] for run in library['pyunicore']]))
    results['jwt_sign_us'] = {label: figure(values, 'us') for label, values in sign_us.items()}
    results['jwt_reuse_ratio'] = figure(reuse['RSA-2048'], key='RSA-2048',
                                        other_keys={label: statistics.median(values) for label, values in reuse.items()})
    for size in sizes:
        per_n[str(size)] = figure([(run['seconds'] - startup) / size for run in runs['lookup'][size]], 's',
                                  startup_seconds_subtracted=startup)
    results['lookup_seconds_per_host'] = per_n
    largest = max(sizes)
    results['controller_peak_rss_mb'] = figure([run['peak_rss_mb'] for run in runs['lookup'][largest]], 'MB', hosts=largest)
    return results


def status(value, low=None, high=None):
    if high is not None:
        return 'ok' if value <= high else 'MISSED'
    if low is not None:
        return 'ok' if value >= low else 'MISSED'
    return ''


def table(results, details):
    rows = []

    def add(name, fig, fmt, target='', verdict=''):
        rows.append((name, fmt % fig['median'], fmt % fig['min'], fmt % fig['max'], target, verdict))

    for size, fig in results['lookup_tokens_issued'].items():
        add('lookup_tokens_issued N=%s' % size, fig, '%.0f', '1', 'ok' if fig['max'] == 1 else 'MISSED')
    for size, fig in results['lookup_full_auths'].items():
        add('lookup_full_auths N=%s' % size, fig, '%.0f', '<= 1', status(fig['max'], high=1))
    for key in (spec[0] for spec in OIDC_FIGURES + REGISTRY_FIGURES):
        for size, fig in results[key].items():
            add('%s N=%s' % (key, size), fig, '%.0f', str(fig['target']), 'ok' if fig['min'] == fig['max'] == fig['target'] else 'MISSED')
    for size, fig in results['naive_tokens_issued'].items():
        add('naive_tokens_issued N=%s' % size, fig, '%.0f', '(N x 3 = %d)' % (3 * int(size)), '')
    if 'lookup_vs_constant_ratio' in results:
        fig = results['lookup_vs_constant_ratio']
        add('lookup_vs_constant_ratio N=%d' % fig['hosts'], fig, '%.2f', '<= 1.25', status(fig['median'], high=1.25))
    fig = results['module_vs_uri_ratio']
    add('module_vs_uri_ratio', fig, '%.2f', '<= 1.20', status(fig['median'], high=1.20))
    fig = results['access_info_vs_pyunicore_ratio']
    add('access_info_vs_pyunicore_ratio', fig, '%.2f', '<= 0.33', status(fig['median'], high=0.33))
    add('  full auths, collection client', fig['collection_full_auths'], '%.0f')
    add('  full auths, PyUNICORE', fig['pyunicore_full_auths'], '%.0f')
    for label, fig in results['jwt_sign_us'].items():
        add('jwt_sign_us %s' % label, fig, '%.0f')
    fig = results['jwt_reuse_ratio']
    add('jwt_reuse_ratio (RSA-2048)', fig, '%.4f')
    per_host = results['lookup_seconds_per_host']
    for size, fig in per_host.items():
        add('lookup_seconds_per_host N=%s' % size, fig, '%.4f')
    sizes = sorted(int(size) for size in per_host)
    growth = details['lookup_per_host_growth']
    rows.append(('  growth N=%d -> N=%d' % (sizes[0], sizes[-1]), '%.2f' % growth, '', '', '<= 1.5', status(growth, high=1.5)))
    fig = results['controller_peak_rss_mb']
    add('controller_peak_rss_mb N=%d' % fig['hosts'], fig, '%.0f')
    widths = [max(len(row[column]) for row in rows + [HEADER]) for column in range(len(HEADER))]
    lines = []
    for row in [HEADER] + rows:
        lines.append('  '.join(cell.ljust(widths[0]) if column == 0 else cell.rjust(widths[column]) if column < 4
                               else cell.ljust(widths[column]) for column, cell in enumerate(row)).rstrip())
    return '\n'.join(lines)


HEADER = ('figure', 'median', 'min', 'max', 'target', '')


def aligned(rows, indent='  '):
    """Rows of cells, the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [indent + '  '.join(cell.ljust(widths[column]) if column == 0 else cell.rjust(widths[column])
                               for column, cell in enumerate(row)).rstrip() for row in rows]


def diagnostics_table(details):
    lines = []
    server = details['server_alone']
    lines.append('The test server alone (http.client on loopback, no requests, no collection code); TCP_NODELAY set in its source: %s'
                 % ('yes' if server['tcp_nodelay_in_server_source'] else 'NO'))
    rows = [('', 'median ms', 'p99 ms', 'max ms', 'requests')]
    for label, key in (('keep-alive, session id', 'keepalive_session'), ('keep-alive, HTTP Basic', 'keepalive_basic'),
                       ('new TLS connection each', 'new_connection_session')):
        entry = server[key]
        rows.append((label, '%.2f' % entry['median_ms'], '%.2f' % entry['p99_ms'], '%.2f' % entry['max_ms'], str(entry['requests'])))
    rows.append(('time inside the server', '%.2f' % (server['server_side_ms_median'] or 0), '', '', ''))
    lines += aligned(rows)
    library = details['library']
    calls = details['settings']['library_calls']
    lines.append('')
    lines.append('Library: %d sequential access_info calls (medians)' % calls)
    rows = [('', 'ms/call', 'client CPU ms/call', 'requests', 'full auths', 'server ms/request')]
    for label, name in (('collection UnicoreClient', 'collection'), ('PyUNICORE %s' % details['machine']['versions']['pyunicore'], 'pyunicore')):
        runs = library[name]
        rows.append((label, '%.3f' % statistics.median(run['ms_per_call'] for run in runs),
                     '%.3f' % statistics.median(run['client_cpu_ms_per_call'] for run in runs),
                     '%d' % statistics.median(run['requests'] for run in runs), '%d' % statistics.median(run['full_auths'] for run in runs),
                     '%.2f' % statistics.median(run['server_ms_median'] or 0 for run in runs)))
    lines += aligned(rows)
    lines.append('')
    lines.append('Against the constant token at N=%d, beside lookup_vs_constant_ratio: the floor (a no-op collection lookup, '
                 'benchfloor.noop.echo, in the same play), the lookup once its cache is filled, and without a bytecode cache'
                 % details['settings']['overhead_hosts'])
    rows = [('', 'wall median', 'min', 'max', 'CPU median')]
    for name, entry in details['against_constant'].items():
        rows.append((name, '%.2f' % entry['wall']['median'], '%.2f' % entry['wall']['min'], '%.2f' % entry['wall']['max'],
                     '%.2f' % entry['cpu']['median']))
    lines += aligned(rows)
    lines.append('')
    lines.append('The same ratios in CPU seconds (user + system of the process tree; less disturbed by other load)')
    rows = [('', 'median', 'min', 'max')]
    for name, fig in details['cpu_ratios'].items():
        rows.append((name, '%.2f' % fig['median'], '%.2f' % fig['min'], '%.2f' % fig['max']))
    lines += aligned(rows)
    lines.append('')
    lines.append('Plays (forks=%d)' % details['settings']['forks'])
    lines.append('(full auths per run: full authentications at the site in each repetition; a run starts with no kept security session)')
    rows = [('', 'wall s median', 'min', 'max', 'CPU s median', 'full auths per run', 'session reuses', 'requests', 'OIDC grants')]
    for name, entry in details['play_walls'].items():
        rows.append((name, '%.2f' % entry['wall']['median'], '%.2f' % entry['wall']['min'], '%.2f' % entry['wall']['max'],
                     '%.2f' % entry['cpu']['median'], '/'.join('%d' % count for count in entry['full_auths_runs']),
                     '%d' % entry['session_reuses'], '%d' % entry['requests'],
                     ', '.join('%s %d' % (grant_type.replace('_token', ''), count) for grant_type, count in entry['oidc_grants'].items())
                     or '-'))
    lines += aligned(rows)
    probe = details['lookup_per_worker']
    lines.append('')
    lines.append('The lookup in one forked worker, as Ansible runs it once per host and task (ms, median of %d)' % len(probe['load_ms']['runs']))
    rows = [
        ('loading unicore.auth.unicore_token', '%.1f' % probe['load_ms']['median']),
        ('  the collection package (meta/runtime.yml)', '%.1f' % probe['collection_package_ms']['median']),
        ('  the plugin: its file (bytecode cache), its option definitions', '%.1f' % probe['plugin_ms']['median']),
        ('running it on a remembered answer', '%.1f' % probe['run_ms']['median']),
        ('for comparison: loading the no-op collection lookup', '%.1f' % probe['floor_load_ms']['median']),
        ('for comparison: loading ansible.builtin.password', '%.1f' % probe['builtin_password_load_ms']['median']),
        ('its documentation alone (YAML with the doc fragments)', '%.1f' % probe['documentation_alone_ms']['median']),
    ]
    lines += aligned(rows)
    lines.append('  modules of the collection in the worker after a remembered answer: %s'
                 % ', '.join(name.rsplit('.', 1)[-1] for name in probe['collection_modules']))
    lines.append('')
    lines.append('Module code paths in a fresh interpreter, after ansible.module_utils.basic (import ms of %d runs: the best, as timeit '
                 'reports, and the median)' % len(next(iter(details['imports'].values()))['import_ms']['runs']))
    rows = [('', 'best', 'median', 'cryptography', 'jwt', 'requests')]
    for name, entry in details['imports'].items():
        rows.append((name, '%.1f' % entry['import_ms']['min'], '%.1f' % entry['import_ms']['median'],
                     'yes' if entry['imports_cryptography'] else 'no',
                     'yes' if entry['imports_jwt'] else 'no', 'yes' if entry['imports_requests'] else 'no'))
    lines += aligned(rows)
    return '\n'.join(lines)


def play_figures(play_runs):
    """Wall and CPU seconds of the repetitions of one play, and the server's counts (medians; OIDC grants by type, all outcomes)."""
    grant_types = sorted(set(grant_type for run in play_runs for grant_type in run['oidc_grants']))
    return {'wall': figure([run['seconds'] for run in play_runs], 's'), 'cpu': figure([run['cpu_seconds'] for run in play_runs], 's'),
            'full_auths': statistics.median(run['full_auths'] for run in play_runs),
            'full_auths_runs': [run['full_auths'] for run in play_runs],
            'session_reuses': statistics.median(run['session_reuses'] for run in play_runs),
            'requests': statistics.median(run['requests'] for run in play_runs),
            'oidc_grants': {grant_type: statistics.median(sum(run['oidc_grants'].get(grant_type, {}).values()) for run in play_runs)
                            for grant_type in grant_types}}


def main_run(args):
    log = Log()
    reps = env_int('BENCH_REPS', 3)
    forks = env_int('BENCH_FORKS', 5)
    sizes = env_sizes('BENCH_SIZES', (10, 100, 500))
    naive_sizes = env_sizes('BENCH_NAIVE_SIZES', (10, 100))
    module_hosts = env_int('BENCH_MODULE_HOSTS', 50)
    calls = env_int('BENCH_LIBRARY_CALLS', 300)
    overhead_hosts = 100 if 100 in sizes else sizes[len(sizes) // 2]
    if reps < 3:
        log('WARNING: BENCH_REPS=%d; the issue asks for at least 3 repetitions' % reps)
    out = os.path.abspath(args.out)
    work = os.path.join(out, 'work')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    collections = os.path.abspath(args.collections)
    collection = os.path.join(collections, 'ansible_collections', 'unicore', 'auth')
    sys.path.insert(0, collections)
    server = TestServer(args.config)
    details = {'machine': machine(), 'settings': {'reps': reps, 'forks': forks, 'sizes': sizes, 'naive_sizes': naive_sizes,
                                                  'module_hosts': module_hosts, 'library_calls': calls,
                                                  'overhead_hosts': overhead_hosts}}
    log('unicore.auth benchmark: %d repetitions, forks=%d, server %s' % (reps, forks, server.url))

    details['server_alone'] = bench_server(server, collection, log)
    library, library_ratios = bench_library(server, reps, calls, log)
    details['library'] = library
    sign_us, reuse, accepted = bench_jwt(server, reps, log)
    details['jwt_accepted_as'] = accepted
    details['imports'] = bench_imports(server, collections, reps, log)
    plays = Plays(server, collections, work, forks, log)
    details['lookup_per_worker'] = bench_lookup_probe(server, collections, plays.floor, work, log)
    runs = bench_plays(plays, server, reps, sizes, naive_sizes, module_hosts, overhead_hosts, log)
    details['play_runs'] = dict(runs)
    details['play_runs']['lookup'] = {str(size): value for size, value in runs['lookup'].items()}
    details['play_runs']['naive'] = {str(size): value for size, value in runs['naive'].items()}
    for play in ('lookup_oidc_first', 'lookup_oidc_rerun', 'lookup_by_site'):
        details['play_runs'][play] = {str(size): value for size, value in runs[play].items()}
    walls = {'startup (0 hosts)': play_figures(runs['startup'])}
    for size in sizes:
        walls['lookup N=%d' % size] = play_figures(runs['lookup'][size])
    walls['constant N=%d' % overhead_hosts] = play_figures(runs['constant'])
    walls['no-op lookup N=%d' % overhead_hosts] = play_figures(runs['floor'])
    walls['no-op lookup, same arguments N=%d' % overhead_hosts] = play_figures(runs['floor_args'])
    walls['lookup, no bytecode cache N=%d' % overhead_hosts] = play_figures(runs['lookup_without_bytecode_cache'])
    walls['lookup, cache filled N=%d' % overhead_hosts] = play_figures(runs['lookup_cache_filled'])
    for size in sizes:
        walls['lookup oidc_server, first run N=%d' % size] = play_figures(runs['lookup_oidc_first'][size])
        walls['lookup oidc_server, rerun N=%d' % size] = play_figures(runs['lookup_oidc_rerun'][size])
        walls['lookup by site name N=%d' % size] = play_figures(runs['lookup_by_site'][size])
    walls['access_info N=%d' % module_hosts] = play_figures(runs['access_info'])
    walls['uri_get N=%d' % module_hosts] = play_figures(runs['uri_get'])
    for size in naive_sizes:
        walls['naive uri N=%d' % size] = play_figures(runs['naive'][size])
    details['play_walls'] = walls
    overhead_runs = runs['lookup'][overhead_hosts]
    details['against_constant'] = {
        name: {'wall': figure([run['seconds'] / constant['seconds'] for run, constant in zip(runs[key], runs['constant'])]),
               'cpu': figure([run['cpu_seconds'] / constant['cpu_seconds'] for run, constant in zip(runs[key], runs['constant'])])}
        for name, key in (('no-op collection lookup', 'floor'), ('no-op collection lookup, same arguments', 'floor_args'),
                          ('unicore_token, cache filled (no token issued)', 'lookup_cache_filled'),
                          ('unicore_token, no bytecode cache', 'lookup_without_bytecode_cache'))}
    details['cpu_ratios'] = {
        'lookup/constant N=%d' % overhead_hosts:
            figure([lookup['cpu_seconds'] / constant['cpu_seconds'] for lookup, constant in zip(overhead_runs, runs['constant'])]),
        'unicore_access_info/uri N=%d' % module_hosts:
            figure([module['cpu_seconds'] / uri['cpu_seconds'] for module, uri in zip(runs['access_info'], runs['uri_get'])]),
        'library collection/PyUNICORE (client)':
            figure([ours['client_cpu_ms_per_call'] / theirs['client_cpu_ms_per_call']
                    for ours, theirs in zip(library['collection'], library['pyunicore'])]),
    }

    results = build_results(runs, library, library_ratios, sign_us, reuse, sizes, naive_sizes, overhead_hosts)
    per_host = results['lookup_seconds_per_host']
    details['lookup_per_host_growth'] = per_host[str(max(sizes))]['median'] / per_host[str(min(sizes))]['median']
    details['machine']['loadavg_end'] = os.getloadavg()
    details['seconds'] = time.monotonic() - log.started
    with open(os.path.join(out, 'results.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2, sort_keys=True)
        handle.write('\n')
    with open(os.path.join(out, 'details.json'), 'w', encoding='utf-8') as handle:
        json.dump(details, handle, indent=2, sort_keys=True)
        handle.write('\n')
    summary = table(results, details)
    host = details['machine']
    print()
    print('unicore.auth benchmark, %s repetitions, forks=%d; %d CPUs (%s), Python %s, ansible-core %s, load average %.2f at the start'
          % (reps, forks, host['nproc'], host['cpu_model'], host['python'], host['versions']['ansible-core'], host['loadavg_start'][0]))
    print(summary)
    print()
    print(diagnostics_table(details))
    print()
    print('results: %s   details: %s   (%.0f s)' % (os.path.join(out, 'results.json'), os.path.join(out, 'details.json'), details['seconds']))
    with open(os.path.join(out, 'table.txt'), 'w', encoding='utf-8') as handle:
        handle.write(summary + '\n\n' + diagnostics_table(details) + '\n')
    shutil.rmtree(os.path.join(work, 'tmp'), ignore_errors=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    run = commands.add_parser('run', help='run the benchmark')
    run.add_argument('--config', required=True, help='integration_config.yml written by tests/scripts/testserver.sh')
    run.add_argument('--collections', required=True, help='the directory that holds ansible_collections/unicore/auth')
    run.add_argument('--out', required=True, help='output directory (results.json, details.json, logs)')
    imports = commands.add_parser('probe-imports')
    imports.add_argument('--path', required=True, choices=sorted(IMPORT_PATHS))
    imports.add_argument('--key-path', required=True)
    lookup = commands.add_parser('probe-lookup')
    lookup.add_argument('--collections', required=True)
    lookup.add_argument('--floor', required=True, help='the collections path of benchfloor.noop')
    lookup.add_argument('--reps', type=int, default=15)
    lookup.add_argument('--options', required=True)
    args = parser.parse_args(argv)
    if args.command == 'probe-imports':
        return probe_imports(args)
    if args.command == 'probe-lookup':
        return probe_lookup(args)
    return main_run(args)


if __name__ == '__main__':
    sys.exit(main())

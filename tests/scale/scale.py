# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale under faults (issue 15): 1000 hosts, 50 forks, one credential, a site failing 20 % of its token requests.

``make scale`` (and the side suite ``scale`` of ``make test``) runs
``tests/scale/run.sh``, which syncs the checkout into a copy of its own, starts
the test server there and runs::

    python tests/scale/scale.py --config INTEGRATION_CONFIG --collections DIR --work DIR --report DIR --junit FILE

One round per seed (``SCALE_SEEDS``, default 89). Each round:

1. resets the test server, seeds its random numbers and scripts one fault for
   ``GET <DEMO-SITE>/token``: ``probability`` ``SCALE_FAULT_RATE`` (default
   0.2), ``actions`` 503 (``respond``) or a TCP reset (``reset``), for ever
   (``count: -1``);
2. writes an inventory of ``SCALE_HOSTS`` hosts (default 1000, local
   connection) and runs tests/scale/scale.yml with ``--forks SCALE_FORKS``
   (default 50) and ``-vvvv``, with an empty ``cache_dir``: two lookups per
   host, the second a later task of the same play;
3. measures the run's wall time and the peak memory of ansible-playbook and
   every process it starts (sampled from /proc, see ``TreeSampler``);
4. checks what a user must be able to count on, one JUnit case each: every
   host ran both tasks and got the same token (compared by SHA-256 digest),
   the one in the cache; the site issued 1 token; it received at most 1 +
   ``retries`` token requests (the lookup's documented default), each one
   the token or a fault; the second task sent no request; every cache entry
   is whole JSON of the expected fields, mode 0600, in a 0700 directory, with
   no temporary copy left; and no temporary file of the run is left.

With ``SCALE_BASELINE=1`` (the default of ``make scale``, not of the side
suite) the same plays run once more with a constant in place of the lookup:
Ansible's own wall time and memory for as many hosts and forks, beside the
rounds' (no checks but that it succeeds and sends the site no request).

The secrets scan (tests/scripts/leak_scan.py, run by run.sh over the copy's
``tests/output``, where the playbook's output and Ansible's log go) checks that
neither the password nor the token appears anywhere.

Writes ``scale.md`` (the table for docs/reliability.md) and ``scale.json``
into the report directory, and the JUnit file. Exits 1 when a check failed.

With seed 89 the site's fault sequence for token requests begins reset, 503,
reset, token: the issuing fork needs all of its 3 retries, while the other
forks wait for the cache's lock. ``SCALE_SEEDS=89,55`` adds a round whose
sequence begins 503, reset, token.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOK = os.path.join(HERE, 'scale.yml')
SITE = 'DEMO-SITE'
# A run that takes longer than this has hung: it is killed and fails.
HANG_SECONDS = 1800
SAMPLE_SECONDS = 0.25
PAGE_SIZE = os.sysconf('SC_PAGE_SIZE')
MIB = 1024.0 * 1024.0
CACHE_FILE = re.compile(r'^(cache\.key|(token|answer|registry)-[0-9a-f]{64})(\.lock)?$')
# mkstemp's copies of a file being written (plugins/module_utils/_private_files.py)
TEMPORARY_COPY = re.compile(r'^\..+\.[a-z0-9_]{8}\.(tmp|probe)$')
# The fields each kind of cache entry has at least (plugins/plugin_utils/_token_cache.py).
ENTRY_FIELDS = {'token': {'token', 'issuer'}, 'answer': {'token', 'reusable_until', 'warnings'}}


def env_int(name, default):
    value = os.environ.get(name, '').strip()
    return int(value) if value else default


def env_float(name, default):
    value = os.environ.get(name, '').strip()
    return float(value) if value else default


def env_seeds():
    value = os.environ.get('SCALE_SEEDS', '').strip()
    return [int(part) for part in value.split(',') if part.strip()] if value else [89]


def log(message):
    sys.stderr.write('[scale %s] %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stderr.flush()


def read_integration_config(path):
    """integration_config.yml as testserver.sh writes it: ``key: <JSON string>`` lines."""
    values = {}
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            if line.startswith(('#', '---')) or ':' not in line:
                continue
            key, _sep, value = line.partition(':')
            values[key.strip()] = json.loads(value.strip())
    return values


def digest(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def load_average():
    with open('/proc/loadavg', encoding='ascii') as handle:
        return ' '.join(handle.read().split()[:3])


# --------------------------------------------------------------------------
# the test server


class Server:
    """The test server's control API (over HTTPS with the test CA) and its fixtures."""

    def __init__(self, config_path):
        self.config_path = config_path
        self.config = read_integration_config(config_path)
        self.fixtures_path = self.config['unicore_testserver_fixtures']
        with open(self.fixtures_path, encoding='utf-8') as handle:
            fixtures = json.load(handle)
        self.ca_path = fixtures['ca_cert']
        self.site_path = urllib.request.urlparse(fixtures['sites'][SITE]['url']).path
        self.control_url = self.config['unicore_testserver_control_url']
        self.context = ssl.create_default_context(cafile=self.ca_path)
        workdir = os.path.dirname(self.fixtures_path)
        self.issued_log = os.path.join(workdir, 'issued-tokens.log')
        pidfile = os.path.join(os.path.dirname(workdir), 'harness', 'testserver.pid')
        self.pid = None
        if os.path.isfile(pidfile):
            with open(pidfile, encoding='ascii') as handle:
                self.pid = int(handle.read().split()[0])

    def call(self, method, path, body=None):
        data = json.dumps(body).encode('utf-8') if body is not None else (b'' if method == 'POST' else None)
        request = urllib.request.Request(self.control_url + path, method=method, data=data,
                                         headers={'Content-Type': 'application/json'} if data else {})
        with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
            answer = response.read()
        return json.loads(answer) if answer else {}

    def issued_tokens(self):
        """Every token the server issued since it started (its issued-tokens.log)."""
        with open(self.issued_log, encoding='ascii') as handle:
            return [line.strip() for line in handle if line.strip()]

    def peak_rss_mib(self):
        """The server process's own peak resident memory (VmHWM), or None."""
        try:
            with open('/proc/%d/status' % self.pid, encoding='ascii') as handle:
                for line in handle:
                    if line.startswith('VmHWM:'):
                        return int(line.split()[1]) / 1024.0
        except (OSError, TypeError):
            return None
        return None


# --------------------------------------------------------------------------
# memory of a process tree


def _children_by_parent():
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, encoding='ascii', errors='replace') as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _tree(root):
    children = _children_by_parent()
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def _rss_and_pss(pid):
    """(RSS, PSS) in bytes of one process; None when it is gone."""
    try:
        with open('/proc/%d/statm' % pid, encoding='ascii') as handle:
            rss = int(handle.read().split()[1]) * PAGE_SIZE
        pss = 0
        with open('/proc/%d/smaps_rollup' % pid, encoding='ascii') as handle:
            for line in handle:
                if line.startswith('Pss:'):
                    pss = int(line.split()[1]) * 1024
                    break
        return rss, pss
    except (OSError, ValueError, IndexError):
        return None


class TreeSampler(threading.Thread):
    """Every SAMPLE_SECONDS, the memory of a process and all its descendants, summed.

    RSS counts a page shared by forks (copy-on-write) once per process, so its
    sum overstates what the tree holds; PSS divides each shared page among the
    processes that share it, so its sum is what the tree holds. Both peaks are
    kept, with the most processes seen at once. Short-lived processes between
    two samples are missed; the largest single process is known exactly from
    the kernel (``ru_maxrss`` of ``wait4``).
    """

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.samples = 0
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0
        self.cpu_seconds = 0.0

    def run(self):
        while not self.stop.is_set():
            started = time.thread_time()
            rss_sum = pss_sum = processes = 0
            for pid in _tree(self.root):
                sizes = _rss_and_pss(pid)
                if sizes is None:
                    continue
                rss_sum += sizes[0]
                pss_sum += sizes[1]
                processes += 1
            if processes:
                self.samples += 1
                self.peak_rss = max(self.peak_rss, rss_sum)
                self.peak_pss = max(self.peak_pss, pss_sum)
                self.peak_processes = max(self.peak_processes, processes)
            self.cpu_seconds += time.thread_time() - started
            self.stop.wait(SAMPLE_SECONDS)


def measured_run(command, output_path, env, cwd):
    """Run ``command`` with its output in ``output_path``: exit code, wall seconds, memory figures, CPU seconds."""
    with open(output_path, 'wb') as output:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=cwd)  # pylint: disable=consider-using-with
        sampler = TreeSampler(process.pid)
        sampler.start()
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > HANG_SECONDS:
                process.kill()
            time.sleep(0.05)
        seconds = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        'exit_code': process.returncode,
        'seconds': round(seconds, 1),
        'peak_tree_pss_mib': round(sampler.peak_pss / MIB, 1),
        'peak_tree_rss_mib': round(sampler.peak_rss / MIB, 1),
        'peak_processes': sampler.peak_processes,
        # the largest single process of the tree, from the kernel (children reaped by ansible-playbook included)
        'peak_single_process_rss_mib': round(usage.ru_maxrss / 1024.0, 1),
        'cpu_seconds': round(usage.ru_utime + usage.ru_stime, 1),
        'samples': sampler.samples,
        'sampler_cpu_seconds': round(sampler.cpu_seconds, 1),
    }


# --------------------------------------------------------------------------
# checks


class Checks:
    """JUnit cases: (name, failure message or None, seconds)."""

    def __init__(self):
        self.cases = []

    def check(self, name, passed, message):
        self.cases.append((name, None if passed else message))
        log('%s: %s%s' % ('PASSED' if passed else 'FAILED', name, '' if passed else ' -- ' + message))
        return passed

    @property
    def failed(self):
        return [case for case in self.cases if case[1] is not None]

    def write_junit(self, path):
        suite = ET.Element('testsuite', name='scale', tests=str(len(self.cases)), failures=str(len(self.failed)))
        for name, failure in self.cases:
            case = ET.SubElement(suite, 'testcase', classname='scale', name=name)
            if failure is not None:
                ET.SubElement(case, 'failure', message=failure[:500]).text = failure
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        ET.ElementTree(suite).write(path, encoding='utf-8', xml_declaration=True)


def recap(output):
    """{host: {ok, changed, unreachable, failed, ...}} from the PLAY RECAP of ansible-playbook's output."""
    hosts = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith('PLAY RECAP'):
            in_recap = True
            continue
        match = re.match(r'^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$', line) if in_recap else None
        if match:
            hosts[match.group(1)] = {key: int(value) for key, value in re.findall(r'(\w+)=(\d+)', match.group(2))}
    return hosts


def outcome(entry):
    """What a request of the server's request log met: ``token``, the status of a scripted answer, or the socket fault."""
    if entry['fault'] is None:
        return 'token' if entry['status'] == 200 else 'HTTP %s' % entry['status']
    return str(entry['status']) if entry['fault'] == 'respond' else entry['fault']


def cache_state(cache_dir):
    """What the cache directory holds: its mode, each file's name, mode and, for entries, whether it is whole."""
    state = {'exists': os.path.isdir(cache_dir), 'files': {}, 'problems': [], 'tokens': []}
    if not state['exists']:
        return state
    state['mode'] = '%04o' % stat.S_IMODE(os.lstat(cache_dir).st_mode)
    for name in sorted(os.listdir(cache_dir)):
        path = os.path.join(cache_dir, name)
        status = os.lstat(path)
        state['files'][name] = '%04o' % stat.S_IMODE(status.st_mode)
        if not stat.S_ISREG(status.st_mode):
            state['problems'].append('%s is not a regular file' % name)
        if TEMPORARY_COPY.match(name):
            state['problems'].append('temporary copy left: %s (%d bytes)' % (name, status.st_size))
        elif not CACHE_FILE.match(name):
            state['problems'].append('unexpected file: %s' % name)
        kind = name.split('-', 1)[0]
        if kind in ENTRY_FIELDS and not name.endswith('.lock'):
            with open(path, 'rb') as handle:
                data = handle.read()
            try:
                entry = json.loads(data.decode('utf-8'))
            except ValueError:
                state['problems'].append('%s is not whole JSON (%d bytes): torn' % (name, len(data)))
                continue
            # What else an entry holds is the secrets scan's to check (leak_scan.py); here: whole, and with its token.
            if not isinstance(entry, dict) or not ENTRY_FIELDS[kind] <= set(entry) or not isinstance(entry.get('token'), str):
                held = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
                state['problems'].append('%s holds %s, without the fields %s' % (name, held, sorted(ENTRY_FIELDS[kind])))
                continue
            state['tokens'].append((kind, digest(entry['token'])))
    return state


# The lookup's -v markers (plugins/plugin_utils/_lookup_feedback.py): empty files that outlive the run on purpose,
# so that its forks tell of a token once; swept after a day. No temporary file.
FEEDBACK_MARKERS = re.compile(r'^unicore\.auth-\d+-reported/run-[0-9a-f]+$')


def leftovers(directory):
    """Files under ``directory`` (recursively), as paths relative to it, but the lookup's -v markers."""
    found = []
    for parent, _dirs, files in os.walk(directory):
        found.extend(os.path.relpath(os.path.join(parent, name), directory) for name in files)
    return sorted(path for path in found if not FEEDBACK_MARKERS.match(path))


# --------------------------------------------------------------------------
# one round


def write_inventory(path, hosts):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('# %d hosts, all run on the controller: what matters is that Ansible runs each lookup in a worker of its own\n' % hosts)
        handle.write('[controller]\nlocalhost\n\n[scale]\n')
        for number in range(1, hosts + 1):
            handle.write('host%04d\n' % number)
        handle.write('\n[all:vars]\nansible_connection=local\nansible_python_interpreter="{{ ansible_playbook_python }}"\n')


def playbook_environment(args, work, tmp, log_name):
    """ansible-playbook's environment: the collection copy, Ansible's log in the logs directory, temporary files in ``tmp``.

    A HOME of its own in ``work``: what the collection keeps there (security
    sessions, the default caches) starts empty in every round, as on a fresh machine.
    """
    home = os.path.join(work, 'home')
    os.makedirs(os.path.join(home, '.cache'), mode=0o700)
    env = dict(os.environ, HOME=home, XDG_CACHE_HOME=os.path.join(home, '.cache'),
               ANSIBLE_COLLECTIONS_PATH=args.collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0', ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_DEPRECATION_WARNINGS='true',
               ANSIBLE_LOG_PATH=os.path.join(args.logs, log_name), ANSIBLE_LOCAL_TEMP=os.path.join(tmp, 'ansible-local'),
               ANSIBLE_REMOTE_TEMP=os.path.join(tmp, 'ansible-remote'), ANSIBLE_VERBOSE_TO_STDERR='true', TMPDIR=tmp)
    env.pop('ANSIBLE_CONFIG', None)
    for variable in [key for key in env if key.startswith('UNICORE_')]:
        env.pop(variable)
    return env


def playbook_command(settings, inventory, server, cache_dir, results_path, *extra):
    return [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-vvvv', '-i', inventory, '--forks', str(settings['forks']),
            PLAYBOOK, '-e', 'scale_fixtures=%s' % server.fixtures_path, '-e', 'scale_control_url=%s' % server.control_url,
            '-e', 'scale_cache_dir=%s' % cache_dir, '-e', 'scale_results=%s' % results_path] + list(extra)


def run_baseline(args, server, settings, checks):
    """The same plays with a constant in place of the lookup: what Ansible alone costs for as many hosts and forks."""
    work = os.path.join(args.work, 'baseline')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, mode=0o700)
    tmp = os.path.join(work, 'tmp')
    os.makedirs(tmp)
    inventory = os.path.join(work, 'inventory.ini')
    write_inventory(inventory, settings['hosts'])
    server.call('POST', '/reset')
    output_path = os.path.join(args.logs, 'baseline.log')
    command = playbook_command(settings, inventory, server, os.path.join(work, 'cache', 'tokens'), os.path.join(work, 'results.json'),
                               '-e', 'scale_baseline=true')
    load_before = load_average()
    log('baseline: the same plays without the lookup; load average %s' % load_before)
    run = measured_run(command, output_path, playbook_environment(args, work, tmp, 'ansible-baseline.log'), work)
    load_after = load_average()
    log('baseline: ansible-playbook exited %d after %.1f s; load average %s' % (run['exit_code'], run['seconds'], load_after))
    stats = server.call('GET', '/stats')
    with open(output_path, encoding='utf-8', errors='replace') as handle:
        hosts = recap(handle.read())
    checks.check('baseline: ansible-playbook succeeds without the lookup, and sends the site no request',
                 run['exit_code'] == 0 and stats['requests']['total'] == 0
                 and sum(1 for host, counts in hosts.items() if host != 'localhost' and counts.get('ok') == 2) == settings['hosts'],
                 'exit code %d, %d requests, recap of %d hosts' % (run['exit_code'], stats['requests']['total'], len(hosts)))
    figures = {'hosts': settings['hosts'], 'forks': settings['forks'], 'load_average_before': load_before, 'load_average_after': load_after}
    figures.update(run)
    return figures


def run_round(args, server, settings, seed, checks):
    name = 'seed %d' % seed
    work = os.path.join(args.work, 'round-%d' % seed)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, mode=0o700)
    cache_dir = os.path.join(work, 'cache', 'tokens')
    results_path = os.path.join(work, 'results.json')
    inventory = os.path.join(work, 'inventory.ini')
    write_inventory(inventory, settings['hosts'])
    tmp = os.path.join(work, 'tmp')
    os.makedirs(tmp)

    server.call('POST', '/reset')
    server.call('POST', '/faults/seed', {'seed': seed})
    token_path = server.site_path + '/token'
    if settings['fault_rate'] > 0:      # SCALE_FAULT_RATE=0: the same round on a site without faults, for comparison
        server.call('POST', '/faults', {'faults': [{'path_prefix': token_path, 'method': 'GET', 'actions': ['respond', 'reset'],
                                                    'status': 503, 'probability': settings['fault_rate'], 'count': -1}]})
    issued_before = len(server.issued_tokens())

    output_path = os.path.join(args.logs, 'scale-%d.log' % seed)
    env = playbook_environment(args, work, tmp, 'ansible-%d.log' % seed)
    command = playbook_command(settings, inventory, server, cache_dir, results_path)
    load_before = load_average()
    log('%s: %d hosts, forks %d, %d %% of token requests fail (503 or reset); load average %s'
        % (name, settings['hosts'], settings['forks'], round(settings['fault_rate'] * 100), load_before))
    run = measured_run(command, output_path, env, work)
    load_after = load_average()
    log('%s: ansible-playbook exited %d after %.1f s; load average %s' % (name, run['exit_code'], run['seconds'], load_after))

    stats = server.call('GET', '/stats')
    faults = server.call('GET', '/faults')
    requests = server.call('GET', '/requests')['requests']
    issued = server.issued_tokens()[issued_before:]
    server_peak = server.peak_rss_mib()
    server.call('POST', '/reset')
    with open(output_path, encoding='utf-8', errors='replace') as handle:
        output = handle.read()

    token_requests = [entry for entry in requests if entry['path'] == token_path]
    fault = faults['pending'][0] if faults.get('pending') else {'matched': len(token_requests), 'applied': {}}
    sequence = [outcome(entry) for entry in token_requests]
    outcomes = Counter(sequence)
    results = {}
    if os.path.isfile(results_path):
        with open(results_path, encoding='utf-8') as handle:
            results = json.load(handle)
    first, second = results.get('first', {}), results.get('second', {})
    stats_first = results.get('stats_after_first', {})
    cache = cache_state(cache_dir)
    issued_digests = [digest(token) for token in issued]
    hosts = recap(output)
    scale_hosts = {host: counts for host, counts in hosts.items() if host != 'localhost'}
    bound = 1 + settings['retries']

    # -- the checks ---------------------------------------------------------
    checks.check('%s: ansible-playbook succeeds, every host ran both tasks' % name,
                 run['exit_code'] == 0 and len(scale_hosts) == settings['hosts']
                 and all(counts.get('ok') == 2 and counts.get('failed', 0) == 0 and counts.get('unreachable', 0) == 0
                         for counts in scale_hosts.values()),
                 'exit code %d; %d hosts in the recap, %d not ok=2 failed=0: %s' % (
                     run['exit_code'], len(scale_hosts), sum(1 for counts in scale_hosts.values() if counts.get('ok') != 2 or counts.get('failed')),
                     output[-2000:]))
    values = [value for value in list(first.values()) + list(second.values()) if value]
    checks.check('%s: every host got the same token in both tasks, the one the site issued and the cache holds' % name,
                 len(first) == settings['hosts'] and len(second) == settings['hosts'] and len(values) == 2 * settings['hosts']
                 and len(set(values)) == 1 and issued_digests[-1:] == list(set(values))
                 and sorted(set(token for _kind, token in cache['tokens'])) == sorted(set(values)),
                 '%d and %d hosts reported, %d digests, %d distinct; issued by the site %d, in the cache %d distinct'
                 % (len(first), len(second), len(values), len(set(values)), len(issued_digests), len(set(token for _kind, token in cache['tokens']))))
    checks.check('%s: the site issued exactly 1 token' % name,
                 stats['tokens_issued']['total'] == 1 and len(issued) == 1,
                 'tokens issued: %s (issued-tokens.log: %d)' % (stats['tokens_issued']['total'], len(issued)))
    applied = sum(fault['applied'].values())
    checks.check('%s: at most 1 + retries (%d) token requests, each a fault or the token' % (name, bound),
                 fault['matched'] <= bound and fault['matched'] == applied + stats['tokens_issued']['total']
                 and len(token_requests) == fault['matched'] and stats['requests']['per_site'].get(SITE, 0) == fault['matched'],
                 '%d token requests (bound %d): %s; faults applied %s; requests to %s: %s'
                 % (fault['matched'], bound, dict(outcomes), fault['applied'], SITE, stats['requests']['per_site']))
    checks.check('%s: the second task sent no request (a remembered answer)' % name,
                 bool(stats_first) and stats_first['requests']['total'] == stats['requests']['total'],
                 'requests after the first task %s, after the second %s' % (stats_first.get('requests', {}).get('total'), stats['requests']['total']))
    checks.check('%s: the cache: 0700, every file 0600 and named as the cache names them, entries whole JSON, no temporary copy' % name,
                 cache['exists'] and cache.get('mode') == '0700' and not cache['problems']
                 and set(cache['files'].values()) == {'0600'} and sorted(kind for kind, _token in cache['tokens']) == ['answer', 'token'],
                 'exists %s, mode %s, files %s, problems %s, entries %s'
                 % (cache['exists'], cache.get('mode'), cache['files'], cache['problems'], [kind for kind, _token in cache['tokens']]))
    left = leftovers(tmp)
    checks.check('%s: no temporary file of the run is left' % name, not left, 'left in %s: %s' % (tmp, left[:20]))
    deprecations = output.count('[DEPRECATION WARNING]')
    checks.check('%s: no deprecation warning' % name, deprecations == 0, '%d deprecation warnings in %s' % (deprecations, output_path))

    figures = {
        'seed': seed,
        'hosts': settings['hosts'],
        'forks': settings['forks'],
        'tasks_per_host': 2,
        'fault_rate': settings['fault_rate'],
        'faults': '503 or TCP reset, equal chances',
        'retries': settings['retries'],
        'token_requests': fault['matched'],
        'token_request_sequence': sequence,
        'token_requests_by_outcome': dict(outcomes),
        'faults_applied': fault['applied'],
        'tokens_issued': stats['tokens_issued']['total'],
        'full_authentications': stats['full_authentications_total'],
        'requests_total': stats['requests']['total'],
        'requests_after_first_task': stats_first.get('requests', {}).get('total'),
        'distinct_tokens': len(set(values)),
        'hosts_failed': sum(1 for counts in scale_hosts.values() if counts.get('failed', 0)),
        'failure_messages': sorted(set(re.sub(r'https://[^/ ]+', '<server>', line) for line in output.splitlines() if line.startswith('[ERROR]'))),
        'hosts_with_the_token': min(len([value for value in first.values() if value]), len([value for value in second.values() if value])),
        'cache_files': sorted(re.sub(r'-[0-9a-f]{64}', '-<hash>', name) for name in cache['files']),
        'load_average_before': load_before,
        'load_average_after': load_after,
        'server_peak_rss_mib': None if server_peak is None else round(server_peak, 1),
        'output_bytes': len(output.encode('utf-8')),
    }
    figures.update(run)
    return figures


# --------------------------------------------------------------------------
# the report


def machine():
    with open('/proc/cpuinfo', encoding='ascii', errors='replace') as handle:
        model = next((line.split(':', 1)[1].strip() for line in handle if line.startswith('model name')), '?')
    return '%d CPUs (%s), Linux %s, Python %s' % (os.cpu_count(), model, os.uname().release, sys.version.split()[0])


def ansible_version():
    try:
        first = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), '--version'], capture_output=True, text=True,
                               check=False, timeout=60).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return '?'
    match = re.search(r'\[core ([^\]]+)\]', first)
    return 'ansible-core %s' % match.group(1) if match else first


def report_text(rounds, baseline, settings):
    lines = ['| seed | hosts | forks | tasks per host | fault rate (token requests) | token requests seen, in order | by outcome | retries '
             '| bound (1 + retries) | tokens issued | distinct tokens among hosts | requests in the second task | wall time '
             '| peak memory: process tree PSS / RSS sum / largest process | processes at once | load average before → after |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for figures in rounds:
        by_outcome = ', '.join('%s %d' % item for item in sorted(figures['token_requests_by_outcome'].items()))
        second = None if figures['requests_after_first_task'] is None else figures['requests_total'] - figures['requests_after_first_task']
        lines.append('| %d | %d | %d | 2 | %d %% (503 or reset) | %d: %s | %s | %d | %d | %d | %d | %s | %.1f s | %.0f / %.0f / %.0f MiB | %d | %s → %s |' % (
            figures['seed'], figures['hosts'], figures['forks'], round(figures['fault_rate'] * 100), figures['token_requests'],
            ', '.join(figures['token_request_sequence']), by_outcome, figures['retries'], 1 + figures['retries'], figures['tokens_issued'],
            figures['distinct_tokens'], -1 if second is None else second, figures['seconds'], figures['peak_tree_pss_mib'],
            figures['peak_tree_rss_mib'], figures['peak_single_process_rss_mib'], figures['peak_processes'],
            figures['load_average_before'], figures['load_average_after']))
    if baseline is not None:
        lines.append('| baseline: a constant in place of the lookup | %d | %d | 2 | – | – | – | – | – | – | – | – | %.1f s '
                     '| %.0f / %.0f / %.0f MiB | %d | %s → %s |' % (
                         baseline['hosts'], baseline['forks'], baseline['seconds'], baseline['peak_tree_pss_mib'], baseline['peak_tree_rss_mib'],
                         baseline['peak_single_process_rss_mib'], baseline['peak_processes'], baseline['load_average_before'],
                         baseline['load_average_after']))
    lines.append('')
    lines.append('Measured on %s, %s; ansible-playbook at -vvvv, memory sampled from /proc every %.2f s '
                 '(PSS and RSS summed over ansible-playbook and every process it started; the largest process from wait4\'s ru_maxrss).'
                 % (settings['machine'], settings['ansible'], SAMPLE_SECONDS))
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--config', required=True, help="integration_config.yml of the running test server")
    parser.add_argument('--collections', required=True, help='the collections path holding ansible_collections/unicore/auth')
    parser.add_argument('--work', required=True, help="the rounds' scratch directory (inventories, caches, temporary files)")
    parser.add_argument('--logs', required=True, help="where the playbook's output and Ansible's log go")
    parser.add_argument('--report', required=True, help='where scale.md and scale.json go')
    parser.add_argument('--junit', required=True, help='the JUnit XML file')
    args = parser.parse_args()
    for name in ('collections', 'work', 'logs', 'report'):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.logs, exist_ok=True)
    os.makedirs(args.report, exist_ok=True)

    definitions = os.path.join(args.collections, 'ansible_collections', 'unicore', 'auth', 'plugins', 'plugin_utils', '_unicore_token_options.json')
    with open(definitions, encoding='utf-8') as handle:
        retries = json.load(handle)['retries']['default']
    settings = {'hosts': env_int('SCALE_HOSTS', 1000), 'forks': env_int('SCALE_FORKS', 50), 'fault_rate': env_float('SCALE_FAULT_RATE', 0.2),
                'retries': retries, 'machine': machine(), 'ansible': ansible_version()}
    server = Server(args.config)
    checks = Checks()
    rounds = []
    for seed in env_seeds():
        try:
            rounds.append(run_round(args, server, settings, seed, checks))
        except Exception as error:  # pylint: disable=broad-exception-caught
            checks.check('seed %d: the round runs to the end' % seed, False, '%s: %s' % (type(error).__name__, error))
    baseline = None
    if os.environ.get('SCALE_BASELINE', '').strip() in ('1', 'true', 'yes'):
        try:
            baseline = run_baseline(args, server, settings, checks)
        except Exception as error:  # pylint: disable=broad-exception-caught
            checks.check('baseline: the run goes to the end', False, '%s: %s' % (type(error).__name__, error))
    text = report_text(rounds, baseline, settings)
    print(text)
    with open(os.path.join(args.report, 'scale.md'), 'w', encoding='utf-8') as handle:
        handle.write(text)
    with open(os.path.join(args.report, 'scale.json'), 'w', encoding='utf-8') as handle:
        json.dump({'settings': settings, 'rounds': rounds, 'baseline': baseline}, handle, indent=2)
        handle.write('\n')
    checks.write_junit(args.junit)
    log('%d checks, %d failed' % (len(checks.cases), len(checks.failed)))
    return 1 if checks.failed else 0


if __name__ == '__main__':
    sys.exit(main())

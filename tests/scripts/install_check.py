"""The tarball checks and the JUnit report of tests/scripts/install_check.sh.

usage:
  python install_check.py decoys SOURCE
      put a decoy file into every place of SOURCE (a copy of the checkout) that
      build_ignore must leave out of the tarball
  python install_check.py checkout TARBALL SOURCE RESULTS
      the tarball built from the checkout SOURCE: it holds only files git would
      commit and nothing development-only, and every other file of the checkout
  python install_check.py copy TARBALL SOURCE RESULTS
      the tarball built from the copy SOURCE with its decoys: one case per decoy
      (left out) and per part of the collection users need (kept)
  python install_check.py junit RESULTS OUTFILE
      write the cases of RESULTS as one JUnit XML file

RESULTS holds one case a line: NAME, OUTCOME (passed, failed or skipped), a
message, the path of a log and the seconds it took (both may be empty),
separated by tabs. The expectations here are
written down apart from galaxy.yml's build_ignore on purpose: they check it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET

# Put together at run time, so that this file, which the tarball keeps, does not hold it.
MARKER = ' '.join(('unicore.auth', 'install_check', 'decoy:', 'must', 'not', 'reach', 'the', 'tarball'))

# Places that the harness, the other test suites and the usual tools write into a
# checkout, each with a decoy file; the tarball must hold none of them.
DECOYS = (
    ('.venv/bin/python3', 'the harness virtualenv'),
    ('.venv-compat-2.16/pyvenv.cfg', 'another suite\'s virtualenv'),
    ('.venv-importer/pyvenv.cfg', 'another suite\'s virtualenv'),
    ('.venv-docs/lib/python3.11/site-packages/decoy.py', 'another suite\'s virtualenv'),
    ('build/ansible_collections/unicore/auth/tests/output/leak-scan/console.log', 'the harness collection copy'),
    ('build/dist/unicore-auth-0.0.1.tar.gz', 'a tarball of make build'),
    ('unicore-auth-0.0.1.tar.gz', 'a tarball built in the checkout'),
    ('tests/integration/decoy.tar.gz', 'a tarball elsewhere'),
    ('tests/output/junit/sanity/decoy.xml', 'ansible-test and harness output'),
    ('tests/integration/integration_config.yml', 'the test server coordinates the harness writes'),
    ('tests/integration/integration.cfg', 'the ansible.cfg the harness writes for a run'),
    ('.lint-examples.decoy/plugins/modules/example.yml', 'the examples tests/scripts/lint_examples.py extracts'),
    ('plugins/modules/__pycache__/unicore_access_info.cpython-311.pyc', 'a Python cache'),
    ('plugins/module_utils/_stray.pyc', 'a Python cache'),
    ('.pytest_cache/v/cache/lastfailed', 'a pytest cache'),
    ('tests/unit/.pytest_cache/v/cache/lastfailed', 'a pytest cache below the root'),
    ('.mypy_cache/3.11/decoy.json', 'a mypy cache'),
    ('.tox/py311/decoy', 'a tox environment'),
    ('.nox/decoy/decoy', 'a nox environment'),
    ('.ansible/collections/decoy', 'ansible-lint\'s cache'),
    ('.cache/decoy', 'a tool cache'),
    ('changelogs/.plugin-cache.yaml', 'antsibull-changelog\'s cache'),
)

# Tracked files that are for development only: the harness entry point, the demo, CI.
TRACKED_DEV_ONLY = ('Makefile', 'demo/', '.ci/', '.gitignore')
# What ansible-galaxy never puts into a tarball: galaxy.yml becomes MANIFEST.json.
REPLACED = ('galaxy.yml',)

# What a user of the installed collection needs (directories end in /).
KEPT = (
    'README.md', 'requirements.txt', '.ansible-lint', 'meta/runtime.yml', 'meta/execution-environment.yml',
    'meta/requirements.txt', 'plugins/modules/', 'plugins/module_utils/', 'plugins/lookup/', 'plugins/filter/',
    'plugins/doc_fragments/', 'plugins/plugin_utils/', 'roles/workflow_token/', 'roles/access_check/', 'playbooks/',
    'docs/', 'extensions/awx/', 'changelogs/changelog.yaml', 'changelogs/config.yaml', 'changelogs/fragments/',
    'tests/unit/', 'tests/integration/targets/', 'tests/unicore-testserver', 'tests/unicore_testserver/',
)
LICENSE_FILES = ('LICENSE', 'LICENSE.md', 'LICENSE.txt', 'COPYING', 'COPYING.md', 'COPYING.txt')

TOP_DEV_DIRS = ('.ci', '.venv', 'build', 'demo', '.pytest_cache', '.mypy_cache', '.tox', '.nox', '.ansible', '.cache')
DEV_FILES = ('Makefile', '.gitignore', 'tests/integration/integration_config.yml', 'tests/integration/integration.cfg',
             'changelogs/.plugin-cache.yaml')


def dev_only(path: str) -> str:
    """Return why a path relative to the collection root is development-only, or ''."""
    parts = path.split('/')
    if parts[0] in TOP_DEV_DIRS or parts[0].startswith(('.venv-', '.lint-examples.')):
        return 'development directory %s/' % parts[0]
    if path in DEV_FILES:
        return 'development file'
    if path.startswith('tests/output/'):
        return 'test output'
    if '__pycache__' in parts or '.pytest_cache' in parts or '.git' in parts:
        return 'cache or repository directory'
    if path.endswith(('.pyc', '.pyo', '.tar.gz')):
        return 'cache file or tarball'
    return ''


def tarball_files(tarball: str) -> set[str]:
    """Return the regular files (and symlinks) of a collection tarball, without MANIFEST.json and FILES.json."""
    with tarfile.open(tarball) as tar:
        names = {os.path.normpath(member.name) for member in tar.getmembers() if not member.isdir()}
    return names - {'MANIFEST.json', 'FILES.json'}


def decoy_content(tarball: str) -> list[str]:
    """Return the files of a tarball that hold the decoy marker, under whatever name."""
    found = []
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None and MARKER.encode() in handle.read():
                    found.append(member.name)
    return found


def git_files(source: str) -> set[str]:
    """Return what git would commit in source: tracked files and untracked files that are not ignored."""
    out = subprocess.run(['git', '-C', source, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                         stdout=subprocess.PIPE, check=True).stdout.decode('utf-8', 'surrogateescape')
    return {os.path.normpath(name) for name in out.split('\0')
            if name and os.path.lexists(os.path.join(source, name)) and not os.path.isdir(os.path.join(source, name))}


def walk_files(source: str) -> set[str]:
    """Return every file (and symlink) under source, except its .git."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = [name for name in dirnames if name != '.git']
        for name in filenames + [name for name in dirnames if os.path.islink(os.path.join(dirpath, name))]:
            found.add(os.path.relpath(os.path.join(dirpath, name), source))
    return found


def plural(count: int, word: str) -> str:
    """Return e.g. '1 file' or '3 files'."""
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def summary(paths, limit: int = 8) -> str:
    """Return a short, sorted list of paths for a message."""
    paths = sorted(paths)
    more = ' (+%d more)' % (len(paths) - limit) if len(paths) > limit else ''
    return ', '.join(paths[:limit]) + more


class Results:
    """The cases of one run, appended to the RESULTS file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def add(self, name: str, ok: bool | None, message: str) -> None:
        """Record a case: ok True passes, False fails, None is skipped."""
        outcome = 'skipped' if ok is None else 'passed' if ok else 'failed'
        message = ' '.join(message.split())
        with open(self.path, 'a', encoding='utf-8') as results:
            results.write('%s\t%s\t%s\t\t\n' % (name, outcome, message))
        print('%-7s %s: %s' % (outcome.upper(), name, message))


def make_decoys(source: str) -> None:
    """Write every decoy file into source."""
    for path, why in DECOYS:
        target = os.path.join(source, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'w', encoding='utf-8') as decoy:
            decoy.write('%s (%s)\n' % (MARKER, why))
    print('wrote %d decoys into %s' % (len(DECOYS), source))


def check_license(results: Results, name: str, source_files: set[str], files: set[str]) -> None:
    """The license file is kept, or the case is skipped when the checkout has none."""
    licenses = [path for path in LICENSE_FILES if path in source_files]
    if not licenses:
        results.add(name, None, 'the checkout has no license file (%s); galaxy.yml names the license only'
                    % ', '.join(LICENSE_FILES[::3]))
    else:
        missing = [path for path in licenses if path not in files]
        results.add(name, not missing, 'missing: %s' % summary(missing) if missing else 'kept %s' % summary(licenses))


def check_checkout(tarball: str, source: str, results: Results) -> None:
    """The tarball built from the checkout as it is, with its real .venv, build/ and caches."""
    files = tarball_files(tarball)
    committed = git_files(source)
    unexpected = sorted(path for path in files if path not in committed or dev_only(path))
    results.add('checkout tarball holds only files git would commit, none development-only', not unexpected,
                'unexpected: %s' % summary('%s (%s)' % (path, dev_only(path) or 'not in git ls-files')
                                           for path in unexpected)
                if unexpected else '%d files, all in git ls-files and none development-only' % len(files))
    wanted = {path for path in committed
              if not dev_only(path) and not path.startswith(TRACKED_DEV_ONLY) and path not in REPLACED}
    missing = wanted - files
    left_out = ', '.join(TRACKED_DEV_ONLY + REPLACED)
    results.add('checkout tarball keeps every file of the collection', not missing,
                'missing: %s' % summary(missing) if missing
                else 'all %d files git would commit, less %s' % (len(wanted), left_out))


def check_copy(tarball: str, source: str, results: Results) -> None:
    """The tarball built from a copy with a decoy in every place build_ignore must cover."""
    files = tarball_files(tarball)
    source_files = walk_files(source)
    for path, why in DECOYS:
        if not os.path.exists(os.path.join(source, path)):
            results.add('leaves out %s' % path, False, 'the decoy was not written')
            continue
        results.add('leaves out %s' % path, path not in files,
                    '%s: %s' % (why, 'in the tarball' if path in files else 'left out'))
    for prefix in TRACKED_DEV_ONLY:
        present = sorted(path for path in source_files if path == prefix or path.startswith(prefix))
        leaked = [path for path in present if path in files]
        results.add('leaves out %s' % prefix, bool(present) and not leaked,
                    'in the tarball: %s' % summary(leaked) if leaked
                    else 'left out (%s)' % plural(len(present), 'file') if present
                    else 'not in the copy: nothing to check')
    results.add('leaves out .git', not any(path.startswith('.git/') for path in files),
                'the copy\'s git repository: %s' % ('left out' if os.path.isdir(os.path.join(source, '.git'))
                                                    else 'not in the copy'))
    marked = decoy_content(tarball)
    results.add('no decoy content under any name', not marked,
                'decoy content in: %s' % summary(marked) if marked else 'no file holds the decoy marker')

    decoys = {decoy[0] for decoy in DECOYS}
    wanted = {path for path in source_files
              if path not in decoys and not dev_only(path) and not path.startswith(TRACKED_DEV_ONLY)
              and path not in REPLACED}
    covered = set()
    for item in KEPT:
        expected = {path for path in wanted if path == item or item.endswith('/') and path.startswith(item)}
        covered |= expected
        missing = expected - files
        results.add('keeps %s' % item, bool(expected) and not missing,
                    'missing: %s' % summary(missing) if missing
                    else 'all %s' % plural(len(expected), 'file') if expected else 'not in the checkout')
    rest = wanted - covered
    missing = rest - files
    results.add('keeps the other files of the collection', not missing,
                'missing: %s' % summary(missing) if missing else '%d more files (tests/bench/, tests/scripts/, ...)'
                % len(rest))
    check_license(results, 'keeps the license file', source_files, files)


def write_junit(results_path: str, outfile: str) -> int:
    """Write the cases as one JUnit XML file; return the number of failed cases."""
    cases = []
    if os.path.exists(results_path):
        with open(results_path, encoding='utf-8', errors='replace') as results:
            for line in results:
                fields = (line.rstrip('\n').split('\t') + ['', '', '', '', ''])[:5]
                if fields[0]:
                    cases.append(fields)
    failures = sum(1 for case in cases if case[1] == 'failed')
    skipped = sum(1 for case in cases if case[1] == 'skipped')
    suite = ET.Element('testsuite', name='install', tests=str(len(cases)), failures=str(failures),
                       skipped=str(skipped))
    for name, outcome, message, log, seconds in cases:
        case = ET.SubElement(suite, 'testcase', classname='install', name=name)
        if seconds:
            case.set('time', seconds)
        if outcome in ('failed', 'skipped'):
            element = ET.SubElement(case, 'failure' if outcome == 'failed' else 'skipped', message=message)
            if log and os.path.isfile(log):
                with open(log, encoding='utf-8', errors='replace') as handle:
                    text = handle.read()
                element.text = '%s\n--- last lines of %s ---\n%s' % (message, log, '\n'.join(text.splitlines()[-60:]))
        elif message:
            ET.SubElement(case, 'system-out').text = message
    ET.ElementTree(suite).write(outfile, encoding='utf-8', xml_declaration=True)
    print('wrote %s: %d cases, %d failed, %d skipped' % (outfile, len(cases), failures, skipped))
    return failures


def main(argv: list[str]) -> int:
    """Entry point."""
    if argv[:1] == ['decoys'] and len(argv) == 2:
        make_decoys(argv[1])
    elif argv[:1] in (['checkout'], ['copy']) and len(argv) == 4:
        (check_checkout if argv[0] == 'checkout' else check_copy)(argv[1], argv[2], Results(argv[3]))
    elif argv[:1] == ['junit'] and len(argv) == 3:
        write_junit(argv[1], argv[2])
    else:
        sys.stderr.write(__doc__ or '')
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

"""Put the offline get-pip stand-in where ansible-test looks for its cached get-pip script.

Run with the harness venv's Python (the one ansible-test is installed in).  The
pip version(s) ansible-test bootstraps are read from ansible-test itself
(``ansible_test._internal.python_requirements.get_venv_packages``), falling back
to parsing that module's source, so nothing is hard-coded here.

A cached file that is not a copy of the stand-in (e.g. a real get-pip.py that
was downloaded elsewhere) is left alone.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import sys
import types

MARKER = 'unicore.auth test harness: get-pip stand-in'
STAND_IN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'get_pip_offline.py')
CACHE_DIR = os.path.expanduser('~/.ansible/test/cache')


def pip_versions() -> set[str]:
    """Return the pip versions ansible-test bootstraps into its virtual environments."""
    try:
        from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS
        from ansible_test._internal.python_requirements import get_venv_packages

        return {get_venv_packages(types.SimpleNamespace(version=version))['pip'] for version in REMOTE_ONLY_PYTHON_VERSIONS + CONTROLLER_PYTHON_VERSIONS}
    except Exception as ex:  # pylint: disable=broad-exception-caught
        sys.stderr.write('could not ask ansible-test for its pip version (%s), parsing its source instead\n' % ex)

    import ansible_test  # pylint: disable=import-outside-toplevel

    path = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')

    with open(path, encoding='utf-8') as source:
        versions = set(re.findall(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", source.read()))

    if not versions:
        raise SystemExit('cannot determine the pip version ansible-test bootstraps (%s)' % path)

    return versions


def main() -> int:
    """Copy the stand-in to the cache path of every pip version ansible-test may request."""
    os.makedirs(CACHE_DIR, exist_ok=True)

    for version in sorted(pip_versions()):
        path = os.path.join(CACHE_DIR, 'get_pip_%s.py' % version.replace('.', '_'))

        if os.path.exists(path):
            with open(path, encoding='utf-8', errors='replace') as cached:
                ours = MARKER in cached.read()

            if not ours:
                print('keeping existing get-pip script for pip %s: %s' % (version, path))
                continue

            if filecmp.cmp(path, STAND_IN, shallow=False):
                continue

        shutil.copyfile(STAND_IN, path)
        print('installed offline get-pip stand-in for pip %s: %s' % (version, path))

    return 0


if __name__ == '__main__':
    sys.exit(main())

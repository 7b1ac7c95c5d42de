"""Offline stand-in for the get-pip.py script that ansible-test bootstraps pip with.

unicore.auth test harness: get-pip stand-in (this marker line lets
install_get_pip.py recognise copies of this file).

ansible-test creates its managed virtual environments (``sanity --venv``, the
per-test sanity venvs) without pip and then runs
``https://ci-files.testing.ansible.com/ansible-test/get-pip-<pip version>.py``,
which is cached as ``~/.ansible/test/cache/get_pip_<pip_version>.py``.  That
host is unreachable here, so ``make`` copies this file into the cache instead.

ansible-test runs it (through its ``quiet_pip.py`` wrapper, via runpy) with
pip's install arguments, e.g.::

    python get_pip_24_2.py --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel

Like get-pip.py this installs the requested packages into the running
interpreter's environment, but it seeds pip from the wheel that ships with the
interpreter (``python -m ensurepip``, no network) and then installs the
requested packages (the exact pip version ansible-test asks for) from the
package index with that pip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

BOOTSTRAP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def run(cmd: list[str], quiet: bool = False) -> None:
    """Run a command; with quiet=True its output is shown only when it fails."""
    if not quiet:
        subprocess.run(cmd, check=True)
        return

    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)

    if proc.returncode:
        sys.stderr.write(proc.stdout)
        raise subprocess.CalledProcessError(proc.returncode, cmd)


def is_installed(name: str) -> bool:
    """Return True if the named distribution is installed in this interpreter's environment."""
    cmd = [sys.executable, '-m', 'pip', 'show', '--quiet', '--disable-pip-version-check', name]
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0


def requested(args: list[str], name: str) -> bool:
    """Return True if a requirement for the named distribution is among the arguments."""
    pattern = re.compile(r'^%s\s*([<>=!~;\[]|$)' % re.escape(name), re.IGNORECASE)
    return any(pattern.match(arg) for arg in args if not arg.startswith('-'))


def main(args: list[str]) -> int:
    """Bootstrap pip, then install the requested packages with it."""
    no_setuptools = '--no-setuptools' in args or bool(os.environ.get('PIP_NO_SETUPTOOLS'))
    no_wheel = '--no-wheel' in args or bool(os.environ.get('PIP_NO_WHEEL'))
    pip_args = [arg for arg in args if arg not in BOOTSTRAP_ONLY_OPTIONS]

    try:
        # 1. seed pip from the interpreter's bundled wheel (works offline)
        run([sys.executable, '-m', 'ensurepip', '--default-pip'], quiet=True)

        # 2. install the requested packages (normally just the pinned pip) from the index
        if any(not arg.startswith('-') for arg in pip_args):
            run([sys.executable, '-m', 'pip', 'install', '--quiet'] + pip_args)

        # 3. honour --no-setuptools / --no-wheel like get-pip.py: on Python < 3.12
        #    ensurepip also seeds setuptools, which get-pip.py would not install
        unwanted = []

        if no_setuptools and not requested(pip_args, 'setuptools') and is_installed('setuptools'):
            unwanted.append('setuptools')

        if no_wheel and not requested(pip_args, 'wheel') and is_installed('wheel'):
            unwanted.append('wheel')

        if unwanted:
            run([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', '--disable-pip-version-check'] + unwanted)
    except subprocess.CalledProcessError as ex:
        sys.stderr.write('get-pip stand-in (unicore.auth harness) failed: %s\n' % ex)
        return 1

    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

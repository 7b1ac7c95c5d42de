# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by all the unit tests of the plugins."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _errors, _private_files

# The directory that holds ansible_collections/ (from a module, which keeps the path it was imported by).
COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(_errors.__file__), *['..'] * 5))


@pytest.fixture
def fresh_python():
    """``fresh_python(lines, stdin='')``: run a program in a new interpreter that imports this collection; return what it prints, as JSON.

    For what only a fresh process can show: which modules an import path loads.
    The program gets the collection root as ``sys.argv[1]``.
    """
    def run(lines, stdin=''):
        result = subprocess.run([sys.executable, '-c', '\n'.join(lines), COLLECTION_ROOT], input=stdin, capture_output=True, text=True,
                                check=False, env=dict(os.environ, PYTHONPATH=COLLECTION_ROOT), timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    return run


class _FullDiskOs:
    """``os`` for _private_files as on a full file system: files are created, but no byte can be written (ENOSPC)."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def write(descriptor, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def fill_disk(monkeypatch):
    """``fill_disk()``: from now on, every file the collection writes is on a full file system (the integration
    target reliability_crashes shows the same on a real one)."""
    return lambda: monkeypatch.setattr(_private_files, 'os', _FullDiskOs())


@pytest.fixture(autouse=True)
def _sessions_kept_apart_from_the_users_home(monkeypatch, tmp_path_factory):
    """Every test has a HOME of its own, so that no test keeps security sessions in ~/.cache of whoever runs the tests.

    The modules' default security_session_dir is under HOME; a session one test
    kept would otherwise stand in for the credentials of the next.
    """
    monkeypatch.setenv('HOME', str(tmp_path_factory.mktemp('home')))

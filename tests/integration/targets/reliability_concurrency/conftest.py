# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the concurrency and file-safety tests: those of reliability_support.py, and files for links to point at."""

from __future__ import annotations

import os
import stat
import sys

import pytest

# What the pytest targets share (needs/target/setup_unicore_testserver).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=unused-import,wrong-import-position
from reliability_support import Playbooks, config_path, control, figures, scratch, server, site, work_dir  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))
PRECIOUS = b'precious data that no token or cache write may touch\n'


def plant_precious(path):
    """A 0644 file with known content, for links to point at."""
    with open(path, 'wb') as handle:
        handle.write(PRECIOUS)
    os.chmod(path, 0o644)
    return path


def read_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()


def assert_precious_unchanged(path):
    assert read_bytes(path) == PRECIOUS, '%s was written through a link' % path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644, 'the mode of %s was changed through a link' % path


@pytest.fixture(scope='session')
def playbooks(config_path, work_dir):  # pylint: disable=redefined-outer-name
    return Playbooks(HERE, config_path, work_dir)

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the clock tests: those of reliability_support.py, and playbooks run under faketime."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

# What the pytest targets share (needs/target/setup_unicore_testserver).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=unused-import,wrong-import-position
from reliability_support import Playbooks, config_path, control, figures, scratch, server, site, work_dir  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))


class ClockPlaybooks(Playbooks):
    """Playbook runs whose every process (ansible-playbook, its forks, the modules) has a clock ``offset`` seconds off.

    Debian's faketime preloads libfaketime; the test server, started by the
    harness, keeps the real time.
    """

    def __init__(self, target_dir, config_path_, work_dir_, offset, inventory='inventory_localhost.ini'):
        super().__init__(target_dir, config_path_, work_dir_)
        self.offset = offset
        self.inventory = os.path.join(target_dir, inventory)

    def command(self, playbook, extra_vars):
        command = super().command(playbook, extra_vars)
        command[command.index('-i') + 1] = self.inventory
        # '-f': time goes on from the offset, as a real clock that is off does.
        return ['faketime', '-f', '%+ds' % self.offset] + command if self.offset else command


@pytest.fixture(scope='session')
def faketime():
    """The faketime program (the harness installs Debian's package); its absence fails the tests, never skips them."""
    path = shutil.which('faketime')
    assert path, 'faketime is not installed (Debian package faketime; tests/scripts/system_packages.sh installs it)'
    return path


@pytest.fixture
def playbooks_at(faketime, config_path, work_dir):  # pylint: disable=redefined-outer-name,unused-argument
    """``playbooks_at(offset, inventory=...)``: ClockPlaybooks with this machine's clock ``offset`` seconds off the site's."""
    def build(offset, inventory='inventory_localhost.ini'):
        return ClockPlaybooks(HERE, config_path, work_dir, offset, inventory)
    return build

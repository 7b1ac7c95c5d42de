# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() the way Ansible does, for the module tests."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils import _internal as module_internal
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def module_runner(capsys, monkeypatch):
    """``module_runner(main, **args)``: run ``main`` with ``args``; returns (result, stdout).

    A module runs in a process of its own: no warnings of an earlier run, and not on the
    controller (once other tests have imported controller code, warn() would go to the display).
    """
    monkeypatch.setattr(module_internal, 'is_controller', False)

    def run(main, **args):
        monkeypatch.setattr(module_warnings, '_global_warnings', {})
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                main()
        out = capsys.readouterr().out
        return json.loads(out), out
    return run

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few test helpers that differ between the ansible-core versions the collection supports (2.16 and later).

ansible-core 2.19 brought ``patch_module_args``, data tagging (``trust_as_template``)
and a module-side notion of "running on the controller"; the versions before it
have the classic equivalents. The unit tests use these helpers, never the
2.19-only names, so that the compatibility matrix (tests/scripts/compat.sh) runs
every one of them on 2.16, 2.17 and 2.18 too.
"""

from __future__ import annotations

import contextlib
import json
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings

try:
    from ansible.module_utils.testing import patch_module_args as _patch_module_args
except ImportError:  # before ansible-core 2.19
    _patch_module_args = None

try:
    from ansible.template import trust_as_template as _trust_as_template
except ImportError:  # before ansible-core 2.19: a plain string is templated, no tag needed
    _trust_as_template = None

try:
    from ansible.module_utils import _internal as _module_internal
except ImportError:  # before ansible-core 2.19
    _module_internal = None


@contextlib.contextmanager
def patch_module_args(args=None):
    """Expose ``args`` to the ``AnsibleModule`` created within this context, as Ansible hands a module its arguments.

    ansible-core 2.19's own helper where it exists, else the classic way: the
    JSON that Ansible would send on stdin, in ``basic._ANSIBLE_ARGS``.
    """
    if _patch_module_args is not None:
        with _patch_module_args(args):
            yield
        return
    payload = json.dumps({'ANSIBLE_MODULE_ARGS': dict(args or {})}).encode('utf-8')
    with mock.patch.object(basic, '_ANSIBLE_ARGS', payload):
        yield


def trust_as_template(value):
    """``value`` marked as a template the way a playbook's own text is (a no-op before ansible-core 2.19)."""
    return value if _trust_as_template is None else _trust_as_template(value)


def as_in_a_module_process(monkeypatch):
    """Make the module code of this process behave as in a fresh module process: no warnings of an earlier run,
    and (ansible-core 2.19 and later) not on the controller, where ``warn()`` would go to the display once
    controller code has been imported."""
    if _module_internal is not None and hasattr(_module_internal, 'is_controller'):
        monkeypatch.setattr(_module_internal, 'is_controller', False)
    # a dict on 2.19 and later, a list before: a new empty one of the same kind
    monkeypatch.setattr(module_warnings, '_global_warnings', type(module_warnings._global_warnings)())
    if hasattr(module_warnings, '_global_deprecations'):
        monkeypatch.setattr(module_warnings, '_global_deprecations', type(module_warnings._global_deprecations)())

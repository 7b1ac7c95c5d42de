# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every unicore.auth module does around its own work (internal to the collection)."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import unicore_argument_spec
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter
from ansible_collections.unicore.auth.plugins.module_utils._registry import options_with_site_url


def unicore_module(extra_options, **module_kwargs):
    """An AnsibleModule with the shared options plus ``extra_options``."""
    return AnsibleModule(argument_spec=unicore_argument_spec(**extra_options), supports_check_mode=True, **module_kwargs)


def run_unicore_module(module, work, at_site=True):
    """Call ``work(options)`` and exit with its result, or fail with the error's message and no traceback.

    ``at_site``: the module talks to a site, whose ``url`` is given or found in
    the Registry (``registry_url`` + ``site``) here, once, before ``work`` runs.
    """
    options = OptionAdapter.from_ansible_module(module)
    try:
        if at_site:
            options = options_with_site_url(options, module.warn)
        result = work(options)
    except UnicoreError as error:
        fail_with(module, error)
    for warning in result.pop('warnings', []):
        module.warn(warning)
    diff = result.pop('diff', None)
    if diff is not None and module._diff:
        result['diff'] = diff
    module.exit_json(**result)


def fail_with(module, error):
    if error.missing_library:
        module.fail_json(msg='%s: %s' % (error.message, missing_required_lib(error.missing_library)))
    details = {}
    if error.url is not None:
        details['url'] = error.url
    if error.status is not None:
        details['status'] = error.status
    module.fail_json(msg=error.message, **details)

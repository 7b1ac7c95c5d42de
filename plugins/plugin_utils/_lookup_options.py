# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the unicore.auth lookups, from every documented source (internal to the collection).

``set_options`` gives the direct arguments, ``vars:``, ``env:`` and ``ini:`` their
documented precedence, but three things it does not do are done here:

* variables arrive untemplated (``"{{ vault_password }}"``), and ``set_options``
  would type-check the template string, so they are templated first;
* a ``path`` option turns a blank value into the working directory and a
  relative one into a path under it; AWX injects blanks for inputs left empty,
  and UNICORE looks for a relative ``identity`` under ``~/.uftp/``, so path
  options are taken from their raw source;
* the key file named by ``identity`` is read through Ansible's loader, which
  decrypts a vault-encrypted file in memory, never on disk.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleError

from ansible_collections.unicore.auth.plugins.module_utils._credentials import resolve_identity_path
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter


def lookup_options(lookup, variables, direct):
    """Set the lookup's options and return an OptionAdapter over them, templated and with the key loaded."""
    option_variables = _templated_option_variables(lookup, variables or {})
    lookup.set_options(var_options=option_variables, direct=direct)
    overrides = {}
    for name, definition in lookup.option_definitions.items():
        if definition.get('type') == 'path':
            raw = _raw_value(lookup, name, option_variables, direct)
            if raw is not None and str(raw).strip() == '':
                overrides[name] = None
            elif name == 'identity' and raw is not None:
                overrides[name] = resolve_identity_path(raw)
    options = OptionAdapter(lambda name: overrides[name] if name in overrides else lookup.get_option(name),
                            overrides.__setitem__, lambda name: name in lookup.option_definitions)
    _load_identity_file(lookup, options)
    return options


def _templated_option_variables(lookup, variables):
    names = set()
    for definition in lookup.option_definitions.values():
        names.update(entry['name'] for entry in definition.get('vars') or [])
    return dict((name, lookup._templar.template(variables[name])) for name in names if name in variables)


def _raw_value(lookup, name, option_variables, direct):
    """The option's value as its source gave it, or None when Ansible's own reading stands (ini, default)."""
    dummy, origin = lookup.get_option_and_origin(name)
    origin = str(origin)
    if origin == 'Direct':
        return direct.get(name)
    if origin.startswith('var: '):
        return option_variables.get(origin[len('var: '):])
    if origin.startswith('env: '):
        return os.environ.get(origin[len('env: '):])
    return None


def _load_identity_file(lookup, options):
    """Replace ``identity`` by its content, read (and vault-decrypted) by the loader."""
    path = options.get_given('identity')
    if path is None:
        return
    if options.get_given('identity_content') is not None:
        raise UnicoreError('identity and identity_content are mutually exclusive; give the key once')
    try:
        content, dummy = lookup._loader._get_file_contents(str(path))
    except AnsibleError:
        raise UnicoreError('identity: cannot read key file %s' % path)
    options.set_option('identity_content', content.decode('utf-8', errors='replace'))
    options.set_option('identity', None)

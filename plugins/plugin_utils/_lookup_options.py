# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore_token lookup's options, checked, as an OptionAdapter (internal to the collection).

The lookup has set its options from every documented source already
(``LookupModule.set_options_from``); three things ``set_options`` does not do are done here:

* a flag must be a boolean, where Ansible's lenient conversion takes "perhaps" for false;
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
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter


def lookup_options(lookup, option_variables, direct):
    """An OptionAdapter over the lookup's options, which are set already: flags checked, blanks unset, paths as given.

    ``option_variables`` and ``direct`` are what the options were set from: the
    templated option variables and the lookup's arguments.
    """
    overrides = {}
    for name, definition in lookup.option_definitions.items():
        if definition.get('type') == 'bool':
            _check_boolean(name, _raw_value(lookup, name, option_variables, direct))
        if definition.get('type') == 'path':
            raw = _raw_value(lookup, name, option_variables, direct)
            if raw is not None and str(raw).strip() == '':
                overrides[name] = None
            elif name == 'identity' and raw is not None:
                # Imported here: a lookup without identity does not compile the credential code.
                from ansible_collections.unicore.auth.plugins.module_utils._credentials import resolve_identity_path
                overrides[name] = resolve_identity_path(raw)
    return OptionAdapter(lambda name: overrides[name] if name in overrides else lookup.get_option(name),
                         overrides.__setitem__, lambda name: name in lookup.option_definitions,
                         file_reader=lambda path: _read_through_loader(lookup, path))


def _check_boolean(name, raw):
    """Refuse what Ansible's lenient conversion would take for false ("perhaps", "ture")."""
    if raw is None or isinstance(raw, bool):
        return
    try:
        boolean(raw, strict=True)
    except TypeError:
        raise UnicoreError('%s must be a boolean (true or false), got %r' % (name, str(raw)))


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


def _read_through_loader(lookup, path):
    """A file's bytes, vault-decrypted in memory by Ansible's loader."""
    try:
        content, dummy = lookup._loader._get_file_contents(str(path))
    except AnsibleError as error:
        raise OSError(getattr(error, 'message', None) or 'cannot be read')
    return content

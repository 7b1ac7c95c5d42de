# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the unicore.auth lookups, from every documented source (internal to the collection).

``set_options`` gives the direct arguments, ``vars:``, ``env:`` and ``ini:`` their
documented precedence. Two things it does not do are done here: values read
from variables arrive untemplated (``"{{ vault_password }}"``), so they are
templated; and a key file named by ``identity`` is read through Ansible's
loader, which decrypts a vault-encrypted file in memory, never on disk.
"""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter
from ansible_collections.unicore.auth.plugins.module_utils._credentials import resolve_identity_path


def lookup_options(lookup, variables, direct):
    """Set the lookup's options and return an OptionAdapter over them, templated and with the key loaded."""
    lookup.set_options(var_options=variables, direct=direct)
    for name in lookup.option_definitions:
        dummy, origin = lookup.get_option_and_origin(name)
        if str(origin).startswith('var: '):
            # Template the variable itself: the value set_options made of the raw
            # template string may already be mangled (a path type prefixes a directory).
            variable = str(origin)[len('var: '):]
            lookup.set_option(name, lookup._templar.template(variables[variable]))
    options = OptionAdapter.from_plugin(lookup)
    _load_identity_file(lookup, options)
    return options


def _load_identity_file(lookup, options):
    """Replace ``identity`` by its content, read (and vault-decrypted) by the loader."""
    path = options.get_given('identity')
    if path is None:
        return
    if options.get_given('identity_content') is not None:
        raise UnicoreError('identity and identity_content are mutually exclusive; give the key once')
    resolved = resolve_identity_path(path)
    try:
        content, dummy = lookup._loader._get_file_contents(resolved)
    except AnsibleError:
        raise UnicoreError('identity: cannot read key file %s' % resolved)
    options.set_option('identity_content', content.decode('utf-8', errors='replace'))
    options.set_option('identity', None)

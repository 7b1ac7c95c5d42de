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

import contextlib
import os

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter


def lookup_options(lookup, variables, direct):
    """Set the lookup's options and return an OptionAdapter over them: templated, blanks unset, paths as given."""
    unknown = sorted(set(direct) - set(lookup.option_definitions))
    if unknown:
        # Ansible would drop them silently: a misspelt lifetime= would give a token of the default lifetime.
        raise UnicoreError('unknown option(s) %s; the options are listed by ansible-doc -t lookup unicore.auth.unicore_token'
                           % ', '.join(unknown))
    option_variables = _templated_option_variables(lookup, variables or {})
    with _blank_environment_hidden(lookup):
        lookup.set_options(var_options=option_variables, direct=direct)
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


def _templated_option_variables(lookup, variables):
    """The option variables, templated; blank ones left out, as not given."""
    templated = {}
    for name in _source_names(lookup, 'vars'):
        if name in variables:
            value = lookup._templar.template(variables[name])
            if not _is_blank(value):
                templated[name] = value
    return templated


@contextlib.contextmanager
def _blank_environment_hidden(lookup):
    """Hide blank ``UNICORE_*`` variables while options are read.

    AWX injects an empty string for a credential input left blank; Ansible would
    check it against the option's type and choices (``auth_method: ''`` fails)
    instead of treating it as not given. The lookup runs in a worker process of
    its own, and the variables are put back at once.
    """
    hidden = dict((name, os.environ.pop(name)) for name in _source_names(lookup, 'env') if _is_blank(os.environ.get(name)))
    try:
        yield
    finally:
        os.environ.update(hidden)


def _source_names(lookup, source):
    names = set()
    for definition in lookup.option_definitions.values():
        names.update(entry['name'] for entry in definition.get(source) or [])
    return names


def _is_blank(value):
    return isinstance(value, str) and value.strip() == ''


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

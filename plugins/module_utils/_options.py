# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One option adapter over module params and plugin options (internal to the collection).

The credential, transport and client code read options only through this adapter,
so the same code serves modules (``module.params``) and plugins (their resolved options).
"""

from __future__ import annotations


def is_blank(value):
    """True for None and for a string that is empty or only white space: a value that says nothing."""
    return value is None or (isinstance(value, str) and not value.strip())


class OptionAdapter:
    """Reads options from a dict of every option's value, whatever filled it.

    ``file_reader(path)`` reads a file an option names (a key file): plainly in
    a module, through Ansible's loader in a lookup, which decrypts vault files.
    """

    def __init__(self, values, file_reader=None):
        self._values = values
        self._file_reader = file_reader or _read_bytes

    @classmethod
    def from_dict(cls, options, file_reader=None):
        return cls(options, file_reader)

    @classmethod
    def from_ansible_module(cls, module):
        return cls(module.params)

    def with_values(self, **values):
        """A new adapter whose options are these, with ``values`` in place of theirs (such as the url a Registry gave)."""
        return OptionAdapter(dict(self._values, **values), self._file_reader)

    def get_option(self, name):
        """The option's value; ``KeyError`` for an option that does not exist."""
        return self._values[name]

    def get_option_default(self, name, default=None):
        """The option's value, or ``default`` when it is absent or unset."""
        value = self._values.get(name)
        return default if value is None else value

    def get_given(self, name):
        """The option's value when it was really given, else None.

        Empty strings count as not given: AWX injects an empty string for a
        credential input the user left blank. A value of only white space was
        given, so that the check of that very option refuses it (``identity_content``
        of blank lines is an empty key, not a key left out); checks for content use ``is_blank``.
        """
        value = self.get_option_default(name)
        return None if value == '' else value

    def read_file(self, path):
        """The bytes of the file at ``path``; OSError when it cannot be read."""
        return self._file_reader(path)


def _read_bytes(path):
    # A key file may be a link (a mounted secret, a dotfile manager's): it is
    # followed, as ssh follows it, and as the lookup's loader does.
    with open(path, 'rb') as handle:
        return handle.read()

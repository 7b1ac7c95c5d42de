# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One option adapter over module params and plugin options (internal to the collection).

The credential, transport and client code read options only through this adapter,
so the same code serves modules (``module.params``) and plugins (``get_option``).
"""

from __future__ import annotations


class OptionAdapter:
    """Reads options through callables, whatever holds them.

    ``file_reader(path)`` reads a file an option names (a key file): plainly in
    a module, through Ansible's loader in a lookup, which decrypts vault files.
    """

    def __init__(self, getter, setter=None, haver=None, file_reader=None):
        self._getter = getter
        self._setter = setter
        self._haver = haver
        self._file_reader = file_reader or _read_bytes

    @classmethod
    def from_dict(cls, options):
        return cls(options.__getitem__, options.__setitem__, options.__contains__)

    @classmethod
    def from_ansible_module(cls, module):
        return cls.from_dict(module.params)

    @classmethod
    def from_plugin(cls, plugin):
        def has(name):
            try:
                plugin.get_option(name)
            except KeyError:
                return False
            return True

        return cls(plugin.get_option, plugin.set_option, has)

    def has_option(self, name):
        return self._haver(name)

    def get_option(self, name):
        """The option's value; ``KeyError`` for an option that does not exist."""
        return self._getter(name)

    def get_option_default(self, name, default=None):
        """The option's value, or ``default`` when it is absent or unset."""
        if not self.has_option(name):
            return default
        value = self._getter(name)
        return default if value is None else value

    def get_given(self, name):
        """The option's value when it was really given, else None.

        Empty strings count as not given: AWX injects an empty string for a
        credential input the user left blank.
        """
        value = self.get_option_default(name)
        if value is None or (isinstance(value, str) and value == ''):
            return None
        return value

    def set_option(self, name, value):
        self._setter(name, value)

    def read_file(self, path):
        """The bytes of the file at ``path``; OSError when it cannot be read."""
        return self._file_reader(path)


def _read_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type of unicore.auth (internal to the collection)."""

from __future__ import annotations


class UnicoreError(Exception):
    """A finished, user-facing error message that never contains a secret.

    Library code raises only this; modules turn it into ``fail_json`` and plugins
    into ``AnsibleError``, so the user sees the message and no traceback.
    ``status`` is the HTTP status when the server answered, ``missing_library``
    the name of an absent Python library (for ``missing_required_lib``).
    """

    def __init__(self, message, url=None, status=None, missing_library=None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.missing_library = missing_library

    def __str__(self):
        return self.message

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore.auth.token_info filter; documented in token_info.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info as decode_token_info


def token_info(token):
    """The claims of a UNICORE token and when it expires, read without checking the signature."""
    try:
        return decode_token_info(token)
    except UnicoreError as error:
        raise AnsibleFilterError('unicore.auth.token_info: %s' % error.message)


class FilterModule:

    def filters(self):
        return {'token_info': token_info}

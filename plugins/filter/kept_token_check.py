# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore.auth.kept_token_check filter; documented in kept_token_check.yml."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._kept_token import KeptToken, reason_to_replace
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank
from ansible_collections.unicore.auth.plugins.module_utils._preferences import preferences_header
from ansible_collections.unicore.auth.plugins.module_utils._token_request import DEFAULT_LIFETIME, TokenRequest
from ansible_collections.unicore.auth.plugins.module_utils._urls import checked_site_url


def kept_token_check(token, url=None, site_record=None, lifetime=DEFAULT_LIFETIME, renewable=False, limited=True, min_validity=None,
                     preferences=None):
    """Whether a token kept on a host may stay, by the rule unicore_auth_token keeps tokens by."""
    try:
        request = TokenRequest(lifetime, renewable, limited, min_validity, preferences_header(preferences))
        request.validate()
        site_url = checked_site_url(url)
        if is_blank(token):
            return {'fits': False, 'reason': 'no token is kept', 'renews_itself': False, 'site_url': site_url}
        kept = KeptToken.from_file(str(token).strip(), _record(site_record), site_url)
    except UnicoreError as error:
        raise AnsibleFilterError('unicore.auth.kept_token_check: %s' % error.message)
    reason = reason_to_replace(request, kept)
    return {'fits': reason is None, 'reason': reason, 'renews_itself': kept.may_renew_itself(), 'site_url': site_url}


def _record(site_record):
    """The ``.site`` record as a dict: given as one, or as the file's text; anything else records nothing.

    Its ``clock_offset`` is left out: it is how far the clock of the host that
    issued the token was from the site's, and says nothing of the clock of the
    controller, which judges here.
    """
    if isinstance(site_record, str):
        try:
            site_record = json.loads(site_record) if site_record.strip() else None
        except ValueError:
            return None
    if not isinstance(site_record, dict):
        return None
    return dict((key, value) for key, value in site_record.items() if key != 'clock_offset')


class FilterModule:

    def filters(self):
        return {'kept_token_check': kept_token_check}

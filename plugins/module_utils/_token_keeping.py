# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issuing a token and keeping it idempotently: the logic of ``unicore_auth_token`` (internal to the collection)."""

from __future__ import annotations

from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient, transport_from_options
from ansible_collections.unicore.auth.plugins.module_utils._connection_options import check_connection_options
from ansible_collections.unicore.auth.plugins.module_utils._credentials import BearerCredential, auto_auth_method, credential_from_options, given_token
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._kept_token import KeptToken, reason_to_replace, unreadable_cause
from ansible_collections.unicore.auth.plugins.module_utils._site_clock import offset_warning, site_now
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info
from ansible_collections.unicore.auth.plugins.module_utils._token_file import TokenFile, parse_mode
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest
from ansible_collections.unicore.auth.plugins.module_utils._urls import checked_site_url

CLAIM_FIELDS = ('sub', 'iss', 'iat', 'exp', 'renewable', 'limited', 'uid', 'preferences')


# What --diff shows of the token at dest before and after a run: never the token.
DIFF_FIELDS = ('sub', 'iss', 'uid', 'renewable', 'limited', 'expires_at')
# What --diff shows after a check-mode run that would issue a token.
WOULD_ISSUE_DIFF = {'token': 'a new token would be issued (check mode)'}


def token_result(token, info, issued, changed, before=None, would_issue=False):
    """The module's return values for ``token``, and the ``diff`` of the token at dest: its claims ``before`` and after.

    ``before`` is the ``token_info`` of the token kept at dest (None: none); afterwards
    dest holds ``token`` (``info``), or, with ``would_issue`` (check mode), a new token.
    """
    return {
        'changed': changed,
        'issued': issued,
        'token': token,
        'claims': None if info is None else dict((name, info[name]) for name in CLAIM_FIELDS),
        'expires_at': None if info is None else info['expires_at'],
        'expires_in': None if info is None else info['expires_in'],
        'diff': {'before': _described(before), 'after': WOULD_ISSUE_DIFF if would_issue else _described(info)},
    }


def _described(info):
    if info is None:
        return {}
    return dict((name, info[name]) for name in DIFF_FIELDS)


def find_kept_token(options, token_file, url):
    """The token to reuse, if any: at ``dest``, or the bearer token given (``token`` or ``token_file``)."""
    if token_file is not None:
        token = token_file.read()
        if not token:
            return None
        return KeptToken.from_file(token, token_file.site_record(), url)
    if _auth_method(options) != 'bearer':
        return None
    token = given_token(options)
    return None if token is None else KeptToken.given(token)


def _auth_method(options):
    method = options.get_option_default('auth_method', 'auto')
    if method == 'auto':
        try:
            return auto_auth_method(options)
        except UnicoreError:
            return None
    return method


def _renewal_credential(options, kept):
    """The kept token itself as the credential, when ``renew_with_token`` asks for it and it can."""
    if not options.get_option_default('renew_with_token', False) or kept is None or not kept.may_renew_itself():
        return None
    # may_renew_itself: the token parsed as a JWT, in the base64url alphabet, so it can go into a header as it is.
    return BearerCredential(kept.token)


def _issuing_credential(options, kept):
    credential = _renewal_credential(options, kept)
    if credential is not None:
        return credential
    try:
        return credential_from_options(options)
    except UnicoreError as error:
        if options.get_option_default('renew_with_token', False):
            raise UnicoreError('renew_with_token: the token at dest cannot renew itself (it is missing, expired, '
                               'not renewable or from another site), and no other credentials work: %s' % error)
        raise


def keep_auth_token(options, check_mode=False):
    """Return the module result: a kept token when it fits, else a newly issued one.

    ``warnings`` in the result lists what the user should know, such as a kept
    token that was replaced because it was unreadable. With ``return_token``
    false the result has no ``token``: it stays at ``dest``.
    """
    dest = options.get_given('dest')
    returned = options.get_option_default('return_token', True)
    if not returned and dest is None and options.get_option_default('state', 'present') == 'present':
        raise UnicoreError('return_token=false needs dest: without it the token would be issued and then lost')
    result = _keep_or_issue(options, TokenFile(dest) if dest is not None else None, check_mode)
    if not returned:
        del result['token']
    return result


def _keep_or_issue(options, token_file, check_mode):
    url = checked_site_url(options.get_option('url'))
    if options.get_option_default('state', 'present') == 'absent':
        return _remove(token_file, url, check_mode)
    request = TokenRequest.from_options(options)
    request.validate()
    mode = parse_mode(options.get_option_default('mode', '0600'))
    # Checked even when a kept token makes a request needless: a typo would
    # otherwise show only months later, when the token is renewed.
    check_connection_options(options)
    if token_file is not None:
        token_file.check_destination()

    warnings = []
    kept = find_kept_token(options, token_file, url)
    if kept is not None and kept.info is None and kept.source == 'dest':
        warnings.append('dest: %s does not hold a readable UNICORE token%s; a new token replaces it' % (token_file.path, unreadable_cause(kept.token)))
    before = kept.info if kept is not None and kept.source == 'dest' else None
    if kept is not None and reason_to_replace(request, kept) is None and not options.get_option_default('force', False):
        changed = token_file is not None and token_file.ensure_mode(mode, check_mode)
        return dict(token_result(kept.token, kept.info, issued=False, changed=changed, before=before), warnings=warnings)
    if check_mode:
        # Never issue in check mode; show the kept token when it is still usable.
        usable = kept if kept is not None and kept.is_live() else None
        return dict(token_result(usable and usable.token, usable and usable.info, issued=False, changed=True, before=before,
                                 would_issue=True), warnings=warnings)

    if token_file is not None:
        # A full file system would otherwise cost a token that no file keeps.
        token_file.check_room()
    client = UnicoreClient(url, transport_from_options(options, _issuing_credential(options, kept)))
    try:
        token = request.issue(client)
    finally:
        client.transport.close()
    offset = client.clock_offset
    info = token_info(token, now=site_now(offset))
    if token_file is not None:
        token_file.write(token, url, info['iss'], mode, offset)
    skew = offset_warning(offset, url)
    if skew:
        warnings.append(skew)
    return dict(token_result(token, info, issued=True, changed=True, before=before), warnings=warnings)


def _remove(token_file, url, check_mode):
    if token_file is None:
        raise UnicoreError('state=absent needs dest, the token file to remove')
    present = token_file.exists()
    kept = find_kept_token(None, token_file, url) if present else None
    if present and not check_mode:
        token_file.remove()
    result = token_result(None, None, issued=False, changed=present, before=kept and kept.info)
    if kept is not None and kept.info is None:
        result['diff']['before'] = {'token': 'a file that holds no readable UNICORE token'}
    return dict(result, warnings=[])

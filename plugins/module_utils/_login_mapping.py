# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a login maps to, in the collection's own terms (internal to the collection)."""

from __future__ import annotations

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._preferences import header_selections

ANONYMOUS_ROLE = 'anonymous'


def normalised_access_info(client):
    """The server's ``client`` object as flat, always-present fields, plus ``raw`` as sent.

    UNICORE omits keys whose value is null, so every field is looked up with a default.
    """
    xlogin = _mapping(client.get('xlogin'))
    role = _mapping(client.get('role'))
    queues = _mapping(client.get('queues'))
    return {
        'dn': client.get('dn'),
        'role': role.get('selected'),
        'available_roles': list(role.get('availableRoles') or []),
        'uid': xlogin.get('UID'),
        'available_uids': list(xlogin.get('availableUIDs') or []),
        'group': xlogin.get('group'),
        'available_groups': list(xlogin.get('availableGroups') or []),
        'supplementary_groups': list(xlogin.get('selectedSupplementaryGroups') or []),
        'queues': list(queues.get('availableQueues') or []),
        'authentication_method': client.get('authenticationMethod'),
        'raw': client,
    }


def is_unmapped(info, credential):
    """True when real credentials were accepted but map to nobody at this site."""
    return credential.method != 'anonymous' and info['role'] == ANONYMOUS_ROLE


def unmapped_error(url, info):
    return UnicoreError('The login at %s worked (as %s) but maps to no user at this site: the role is "anonymous". '
                        'Ask the site to map this identity, or set require_authenticated: false to accept it'
                        % (url, info['dn']), url=url)


def preference_refused_error(url, preferences, available):
    """The 403 for an unavailable preference, with what the user may choose instead."""
    choices = []
    for label, key in (('uids', 'available_uids'), ('groups', 'available_groups'), ('roles', 'available_roles')):
        choices.append('%s: %s' % (label, ', '.join(available[key]) or 'none'))
    return UnicoreError('%s refused the requested preferences (%s). Available to this user: %s'
                        % (url, preferences, '; '.join(choices)), url=url, status=403)


def _mapping(value):
    return value if isinstance(value, dict) else {}


def fetch_access_info(client, require_authenticated=True):
    """``(access_info, server)`` for the client's login, with errors that tell the user what to change."""
    try:
        access = client.access_info()
    except UnicoreError as error:
        raise refused_preferences_error(client, error) or error
    info = normalised_access_info(access['client'])
    if require_authenticated and is_unmapped(info, client.transport.credential):
        raise unmapped_error(client.url, info)
    return info, access['server']


def refused_preferences_error(client, error):
    """For a 403 caused by a preference the user may not select: an error that lists the choices; else None.

    UNICORE answers such a preference with a bare 403 that names nothing; a
    second call without preferences shows what the user can select instead.
    """
    preferences = client.transport.preferences
    if error.status != 403 or not preferences:
        return None
    client.transport.preferences = None
    try:
        available = normalised_access_info(client.access_info()['client'])
    except UnicoreError:
        return None
    if not _selects_unavailable(preferences, available):
        return None  # every value may be selected: the refusal has another cause
    return preference_refused_error(client.url, preferences, available)


# The access_info list that each selection's values must be in.
_CHOICES_BY_SELECTION = {'uid': 'available_uids', 'group': 'available_groups', 'supgids': 'available_groups', 'role': 'available_roles'}


def _selects_unavailable(header, available):
    """True when ``header`` selects a value the user may not select."""
    for selection, value in header_selections(header):
        choices = available.get(_CHOICES_BY_SELECTION.get(selection), [])
        if any(part not in choices for part in value.split('+')):
            return True
    return False

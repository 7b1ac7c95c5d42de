# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""User preferences: the ``X-UNICORE-User-Preferences`` header (internal to the collection)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError

# The option's dict keys, in header order, and the header key each becomes.
PREFERENCE_KEYS = {
    'uid': 'uid',
    'group': 'group',
    'supplementary_groups': 'supgids',
    'role': 'role',
}

# Keys the server understands in a raw header string (case-insensitive), each with
# the selection it makes: the aliases select what their canonical key does.
SELECTION_BY_HEADER_KEY = {
    'uid': 'uid', 'xlogin': 'uid',
    'group': 'group', 'pgid': 'group',
    'supgids': 'supgids', 'supplementarygroups': 'supgids',
    'role': 'role',
}


def preferences_header(preferences):
    """Turn the ``preferences`` option (dict or raw header string) into the header value.

    Returns None when no preference is set. The server splits the header at ``,``
    and each item at ``:``, so neither may appear inside a value; anything else
    would be answered with a bare 403 that names nothing.
    """
    if preferences is None:
        return None
    if isinstance(preferences, Mapping):
        return _header_from_dict(preferences)
    if isinstance(preferences, str):
        return _checked_header_string(str(preferences))
    raise UnicoreError(
        'preferences must be a dict with keys %s, or a header string such as "uid:alice,group:hpc"; got %s'
        % (', '.join(PREFERENCE_KEYS), _kind(preferences)))


def _header_from_dict(preferences):
    unknown = sorted(str(key) for key in preferences if key not in PREFERENCE_KEYS)
    if unknown:
        raise UnicoreError('preferences has unknown key(s) %s; valid keys are %s'
                           % (', '.join(unknown), ', '.join(PREFERENCE_KEYS)))
    items = []
    for key, header_key in PREFERENCE_KEYS.items():
        value = preferences.get(key)
        if value is None or value == '' or value == []:
            continue
        if key == 'supplementary_groups':
            groups = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
            for group in groups:
                _check_value(key, group)
                if '+' in str(group):
                    raise UnicoreError('preferences.supplementary_groups: group "%s" contains "+", '
                                       'which UNICORE uses to join several groups' % group)
            # UNICORE joins several supplementary groups with "+"; the UCC docs say ","
            # but that would end the item and break the server's parser.
            value = '+'.join(str(group) for group in groups)
        else:
            _check_value(key, value)
        items.append('%s:%s' % (header_key, value))
    return ','.join(items) or None


def _checked_header_string(header):
    header = header.strip()
    if not header:
        return None
    _check_header_text('preferences', header)
    for item in header.split(','):
        parts = item.split(':')
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise UnicoreError('preferences: "%s" is not a key:value item; the header form is "uid:alice,group:hpc"' % item)
        if parts[0].strip().lower() not in SELECTION_BY_HEADER_KEY:
            raise UnicoreError('preferences: unknown key "%s"; valid keys are uid, group, supgids, role'
                               ' (and their aliases xlogin, pgid, supplementaryGroups)' % parts[0].strip())
    return ','.join(item.strip() for item in header.split(','))


def _kind(value):
    """The kind of a value as a playbook author knows it (Ansible hands lazy list and dict types to plugins)."""
    for kind, name in ((bool, 'boolean'), (Mapping, 'dict'), (Sequence, 'list')):
        if isinstance(value, kind) and not isinstance(value, str):
            return name
    return type(value).__name__


def _check_value(key, value):
    if isinstance(value, (Mapping, Sequence, bool)) and not isinstance(value, str):
        raise UnicoreError('preferences.%s must be a single value, not a %s' % (key, _kind(value)))
    text = str(value)
    if not text.strip():
        raise UnicoreError('preferences.%s must not be empty' % key)
    _check_header_text('preferences.%s' % key, text)
    for forbidden in (',', ':'):
        if forbidden in text:
            raise UnicoreError('preferences.%s: value "%s" contains "%s", which the UNICORE preferences header cannot carry'
                               % (key, text, forbidden))


def _check_header_text(option, text):
    # http.client sends a header as Latin-1 bytes: a line break would end the
    # header and could add others, and what is not ASCII arrives as another byte
    # or fails with a traceback. The value is not shown: it may hold such a break.
    if not all(' ' <= char <= '~' for char in text):
        raise UnicoreError('%s must be ASCII characters only, without control characters such as line breaks '
                           '(it is sent in the X-UNICORE-User-Preferences header)' % option)


def header_selections(header):
    """``[(selection, value), ...]`` of a header value, each key turned into what it selects (``xlogin`` -> ``uid``)."""
    selections = []
    for item in (header or '').split(','):
        key, sep, value = item.partition(':')
        if sep:
            key = key.strip().lower()
            selections.append((SELECTION_BY_HEADER_KEY.get(key, key), value.strip()))
    return selections

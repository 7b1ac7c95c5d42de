# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Messages that name where an option came from (internal to the collection).

The collection's messages name options as the modules know them (``password``,
``ca_path``). A playbook's or role's user wrote ``unicore_password`` or
``UNICORE_CA_PATH`` instead, so the controller-side plugins, which read those
sources, follow each option a message names with where its value came from, or
where it is read from when nothing gives it: ``auth_method=password needs
password (read from unicore_password or the environment variable UNICORE_PASSWORD)``.
"""

from __future__ import annotations

import re

# Options whose names are also plain words of messages ("no token was issued", "the site answered"): named only
# where a message names an option, at its start ("token: ..."), after "needs", "set" or "give"; elsewhere they are words.
COMMON_WORDS = frozenset(('cache', 'issuer', 'lifetime', 'preferences', 'retries', 'site', 'subject', 'timeout', 'token', 'url'))
# Where an option name is not a word of its own: in a URL or path, a dotted name, a name=value pair.
_NAME_BOUNDS = r'(?<![\w./=-])%s(?![\w/=-]|\.\w)'
_NAMING_PLACES = r'(?:^|(?<=needs )|(?<=[Ss]et )|(?<=give ))%s(?=[\s:,;)]|$)'
# A setting written out in a message ("set allow_http: true"): the note follows its value.
_SETTING = r'(?P<setting>: [^\s;,()]+)?'
# Where a message's clause begins: there "name:" is the label of what follows ("ca_path: /x does not exist").
_CLAUSE_STARTS = ('; ', '. ')


def origins(definitions, sources, entry=None, entry_decides=()):
    """``{option: origin}`` for the options of ``definitions``, where ``sources`` (an ``OptionSources``) finds them.

    An origin is ``('var', name)``, ``('env', name)``, ``('ini', key)``, ``('direct', name)``, ``('entry', name)``
    (a key of the site entry ``entry``) or, for an option given nowhere, ``(None, None)``; ``('entry', None)`` for
    an option of ``entry_decides`` (those the entry gives as a whole, such as its credentials) that it leaves out.
    """
    found = {}
    for name, definition in definitions.items():
        if entry and name in entry:
            found[name] = ('entry', name)
        elif name in entry_decides:
            found[name] = ('entry', None)
        else:
            dummy_value, where, key = sources.found(name, definition)
            found[name] = (where, key)
    return found


def with_origins(message, definitions, found, config_file=None):
    """``message`` with the first mention of each option followed by where its value came from (or can be set)."""
    named = set()

    def annotate(match):
        name, setting = match.group('name'), match.group('setting') or ''
        if name in named:
            return match.group(0)
        named.add(name)
        note = _origin_note(definitions[name], found.get(name, (None, None)), config_file)
        if not note:
            return match.group(0)
        if setting and match.start() > 0 and not message[:match.start()].endswith(_CLAUSE_STARTS):
            return '%s%s (%s)' % (name, setting, note)
        return '%s (%s)%s' % (name, note, setting)

    return _mentions(definitions).sub(annotate, message)


def _mentions(definitions):
    # Longest names first, so that token_file is not read as token.
    names = sorted(definitions, key=len, reverse=True)
    common = [re.escape(name) for name in names if name in COMMON_WORDS]
    plain = [re.escape(name) for name in names if name not in COMMON_WORDS]
    patterns = [_NAME_BOUNDS % ('(?:%s)' % '|'.join(plain))] if plain else []
    if common:
        patterns.append(_NAMING_PLACES % ('(?:%s)' % '|'.join(common)))
    return re.compile('(?P<name>%s)%s' % ('|'.join(patterns), _SETTING))


def _origin_note(definition, origin, config_file):
    where, name = origin
    if where == 'direct':
        return None  # written in the very call that failed
    if where == 'var':
        return 'from %s' % name
    if where == 'env':
        return 'from the environment variable %s' % name
    if where == 'ini':
        return 'from %s in the [unicore] section of %s' % (name, config_file or 'ansible.cfg')
    if where == 'entry':
        return 'from the site entry' if name else 'not in the site entry, whose own settings replace the shared ones'
    places = ['%s' % variable['name'] for variable in definition.get('vars') or ()]
    places += ['the environment variable %s' % variable['name'] for variable in definition.get('env') or ()]
    return 'read from %s' % ' or '.join(places) if places else None

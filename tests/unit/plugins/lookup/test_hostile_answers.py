# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore_token lookup and its cache against hostile or broken tokens.

A token from the site, a token entry and a remembered answer all go through the
rule of ``_token_claims``: a hostile one is neither kept nor given, and a
planted one is replaced, never echoed. The remembered answers are read by the
plugin file without the collection's code, with a twin of the rule's pattern,
which a test here keeps equal to it.
"""

from __future__ import annotations

import base64
import json
import os
import time

import pytest

from ansible.errors import AnsibleLookupError

from ansible_collections.unicore.auth.plugins.lookup import unicore_token
from ansible_collections.unicore.auth.plugins.module_utils import _token_claims
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.plugin_utils._token_cache import TokenCache
from ansible_collections.unicore.auth.tests.unit.plugins.lookup.conftest import SITE, SITE_DN


def _b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode('utf-8')).rstrip(b'=').decode('ascii')


def token_with(**changes):
    now = int(time.time())
    claims = {'sub': 'CN=Demo User,O=UNICORE,C=EU', 'iss': SITE_DN, 'aud': SITE_DN, 'iat': now - 600, 'exp': now + 3000}
    claims.update(changes)
    claims = dict((name, value) for name, value in claims.items() if value is not None)
    return '%s.%s.c2lnbmF0dXJl' % (_b64url({'alg': 'RS256'}), _b64url(claims))


def entries(cache_dir, kind):
    return sorted(cache_dir / name for name in os.listdir(cache_dir) if name.startswith(kind + '-') and not name.endswith('.lock'))


def contents(cache_dir):
    return dict((name, (cache_dir / name).read_bytes()) for name in sorted(os.listdir(cache_dir)) if not name.endswith('.lock'))


def plant(entry, token):
    """Put ``token`` into a cache entry (a token entry or a remembered answer) in place of the one it holds."""
    content = json.loads(entry.read_text())
    content['token'] = token
    entry.write_text(json.dumps(content))


# ---------------------------------------------------------------- the twin of the rule's pattern

def test_the_plugin_files_pattern_is_the_rules():
    assert unicore_token.TOKEN_SHAPE.pattern == _token_claims.TOKEN_SHAPE.pattern
    assert unicore_token.TOKEN_SHAPE.flags == _token_claims.TOKEN_SHAPE.flags


@pytest.mark.parametrize('value', [token_with(), token_with() + '\nLD_PRELOAD=/tmp/x.so', token_with() + '==', token_with() + '\n',
                                   'a.b.c', 'a.b.', 'a..c', 'a.b.c.d', 'a.b.cé', 'a.b.c\0', 'a b.c.d', ''])
def test_the_plugin_file_and_the_rule_tell_a_tokens_shape_alike(value):
    assert bool(unicore_token.TOKEN_SHAPE.fullmatch(value)) == _token_claims.looks_like_jwt(value)


# ---------------------------------------------------------------- remembered answers and token entries

@pytest.mark.parametrize('hostile', [token_with() + '\nLD_PRELOAD=/tmp/x.so', token_with() + '\r\nX-Injected: yes', token_with() + '==',
                                     'not a token at all'])
def test_a_planted_remembered_answer_is_never_given_and_the_kept_token_is(site, lookup, cache_dir, hostile):
    issued = site.will_issue()
    assert lookup() == issued
    (answer,) = entries(cache_dir, 'answer')
    plant(answer, hostile)
    assert lookup() == issued
    assert len(site.requests) == 1
    # Worked out anew by the rules, and remembered again.
    assert json.loads(answer.read_text())['token'] == issued


@pytest.mark.parametrize('planted, reason', [
    (token_with(exp='4102444800'), 'exp a string, which was read as the year 2100'),
    (token_with(exp=None), 'no exp'),
    (token_with(iat=0, exp=4102444800), 'a lifetime of 130 years'),
    (token_with() + '\n', 'a line end that the lookup would hand on'),
])
def test_a_planted_token_entry_is_replaced_by_a_new_token(site, lookup, cache_dir, planted, reason):
    site.will_issue(1)
    lookup()
    for answer in entries(cache_dir, 'answer'):
        answer.unlink()
    (entry,) = entries(cache_dir, 'token')
    plant(entry, planted)
    second = site.will_issue(2)
    assert lookup() == second, reason
    assert len(site.requests) == 2
    assert json.loads(entry.read_text())['token'] == second


@pytest.mark.parametrize('answer, cause', [
    (token_with() + '\nLD_PRELOAD=/tmp/x.so', 'it holds a line break'),
    (token_with() + '==', 'base64 padding'),
    (token_with(exp=None), 'it has no exp claim'),
    (token_with(exp='4102444800'), 'its exp claim is not a number'),
])
def test_a_hostile_token_from_the_site_fails_the_lookup_and_leaves_the_cache_byte_for_byte(site, lookup, cache_dir, answer, cause):
    site.will_issue(1, valid_for=300)
    lookup(lifetime=600, min_validity=60)
    before = contents(cache_dir)
    site.tokens.append(answer)
    # The cached token (valid for another 5 minutes) does not fit this request, so the site is asked.
    with pytest.raises(AnsibleLookupError) as error:
        lookup(lifetime=600, min_validity=400)
    message = str(error.value)
    assert message.startswith('unicore.auth.unicore_token: GET %s/token returned something that is not a token' % SITE)
    assert cause in message
    for piece in [answer] + answer.split('.') + answer.splitlines():
        assert len(piece) < 8 or piece not in message
    assert contents(cache_dir) == before
    assert len(site.requests) == 2


@pytest.mark.parametrize('entry', [{'token': token_with() + '\nLD_PRELOAD=/tmp/x.so', 'issuer': SITE_DN},
                                   {'token': token_with(exp=None), 'reusable_until': 4102444800, 'warnings': []}])
def test_the_cache_never_writes_an_entry_whose_token_is_no_unicore_token(cache_dir, entry):
    cache = TokenCache(cache_dir)
    cache.write_entry('token-kept', {'token': token_with(), 'issuer': SITE_DN})
    before = contents(cache_dir)
    with pytest.raises(UnicoreError) as error:
        cache.write_entry('token-kept', entry)
    assert str(error.value).startswith('cache_dir: the token to keep in %s is not a UNICORE token: ' % cache.directory)
    assert contents(cache_dir) == before

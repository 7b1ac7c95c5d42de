# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""unicore_auth_token against hostile or broken tokens: from the site, and kept at dest.

The module runs as Ansible runs it (main(), its JSON result); the ``site`` fixture answers below requests.
"""

from __future__ import annotations

import base64
import json
import os
import time

import pytest

from ansible_collections.unicore.auth.plugins.modules import unicore_auth_token

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
LOGIN = {'url': SITE, 'username': 'demouser', 'password': 'Pässw0rd-never-shown'}


def _b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode('utf-8')).rstrip(b'=').decode('ascii')


def unicore_token(**changes):
    """A limited token as the site issues it, valid for another 50 minutes, with ``changes`` to its claims (None: left out)."""
    now = int(time.time())
    claims = {'sub': 'CN=Demo User,O=UNICORE,C=EU', 'iss': SITE_DN, 'aud': SITE_DN, 'iat': now - 600, 'exp': now + 3000, 'uid': 'demouser'}
    claims.update(changes)
    claims = dict((name, value) for name, value in claims.items() if value is not None)
    return '%s.%s.c2lnbmF0dXJl' % (_b64url({'alg': 'RS256'}), _b64url(claims))


@pytest.fixture
def run_module(module_runner):
    return lambda **args: module_runner(unicore_auth_token.main, **args)


@pytest.fixture
def kept(tmp_path):
    """dest holding a good token of this site (and its record), and what its two files hold."""
    dest = tmp_path / 'unicore.token'
    dest.write_text(unicore_token(sub='CN=Kept') + '\n')
    (tmp_path / 'unicore.token.site').write_text(json.dumps({'url': SITE, 'issuer': SITE_DN}) + '\n')
    os.chmod(dest, 0o600)
    os.chmod(tmp_path / 'unicore.token.site', 0o600)
    return dest, files_of(tmp_path)


def files_of(directory):
    return dict((name, (directory / name).read_bytes()) for name in sorted(os.listdir(directory)))


HOSTILE_ANSWERS = {
    'a second line': (unicore_token() + '\nLD_PRELOAD=/tmp/x.so', 'it holds a line break'),
    'base64 padding': (unicore_token() + '==', 'base64 padding'),
    'no exp': (unicore_token(exp=None), 'it has no exp claim'),
    'exp a string': (unicore_token(exp='4102444800'), 'its exp claim is not a number'),
    'exp beyond the year 9999': (unicore_token(exp=10 ** 20, iat=None), 'its exp claim is not a time between 1970 and 9999'),
    'a lifetime of a century': (unicore_token(exp=int(time.time()) + 100 * 366 * 86400), 'more than 10 years'),
    'sub not a string': (unicore_token(sub=['CN=Demo User']), 'its sub claim is not a string'),
}


@pytest.mark.parametrize('case', sorted(HOSTILE_ANSWERS))
def test_a_hostile_token_from_the_site_fails_the_task_and_leaves_dest_byte_for_byte(site, run_module, kept, tmp_path, case):
    answer, cause = HOSTILE_ANSWERS[case]
    dest, before = kept
    site.issues(answer)
    result, out = run_module(dest=str(dest), force=True, **LOGIN)
    assert result.get('failed') is True
    assert result['msg'].startswith('GET %s/token returned something that is not a token (Content-Type: text/plain' % SITE)
    assert cause in result['msg']
    assert 'Traceback' not in out and 'exception' not in result
    for piece in [answer] + answer.split('.') + answer.splitlines():
        assert len(piece) < 8 or piece not in out
    assert files_of(tmp_path) == before
    assert len(site.requests) == 1


@pytest.mark.parametrize('claims, cause', [
    ({'exp': '4102444800'}, 'its exp claim is not a number'),
    ({'exp': None}, 'it has no exp claim'),
    ({'exp': 10 ** 20, 'iat': None}, 'its exp claim is not a time between 1970 and 9999'),
    ({'iat': 0, 'exp': 4102444800}, 'its lifetime (exp - iat) is more than 10 years'),
    ({'preferences': {'uid': 'root'}}, 'its preferences claim is not a string'),
])
def test_a_kept_token_with_claims_unicore_never_writes_is_replaced_and_the_claim_named(site, run_module, kept, claims, cause):
    dest = kept[0]
    broken = unicore_token(**claims)
    dest.write_text(broken + '\n')
    issued = unicore_token(sub='CN=New')
    site.issues(issued)
    result, out = run_module(dest=str(dest), **LOGIN)
    assert (result['changed'], result['issued'], result['token']) == (True, True, issued)
    warning = [text for text in result['warnings'] if 'does not hold' in str(text)]
    assert len(warning) == 1 and '%s does not hold a readable UNICORE token (' % dest in str(warning[0]) and cause in str(warning[0])
    assert 'a new token replaces it' in str(warning[0])
    assert broken not in out and broken.split('.')[1] not in out
    assert dest.read_text() == issued + '\n'

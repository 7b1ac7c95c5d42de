# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""unicore_auth_token as Ansible runs it: main() with module args, its JSON result on stdout.

No network: ``requests``' HTTPAdapter.send answers from a script of issued tokens, so
everything above it (module, token file, client, transport, credentials) is the real code.
"""

from __future__ import annotations

import base64
import json
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


from ansible_collections.unicore.auth.plugins.module_utils import _jwt_credentials
from ansible_collections.unicore.auth.plugins.modules import unicore_auth_token

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
PASSWORD = 'Pässw0rd-never-shown'
LOGIN = {'url': SITE, 'username': 'demouser', 'password': PASSWORD}
MASKED = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def _b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode('utf-8')).rstrip(b'=').decode('ascii')


def unicore_token(valid_for=3000, serial=0):
    expires = int(time.time()) + valid_for
    claims = {'sub': 'CN=Demo User,O=UNICORE,C=EU', 'iss': SITE_DN, 'aud': SITE_DN, 'iat': expires - 3600, 'exp': expires,
              'uid': 'demouser', 'jti': 'token-%d' % serial}
    return '%s.%s.c2lnbmF0dXJl' % (_b64url({'alg': 'RS256'}), _b64url(claims))


@pytest.fixture
def run_module(module_runner):
    """``run_module(**args)``: run the module as Ansible would; returns (result, stdout)."""
    return lambda **args: module_runner(unicore_auth_token.main, **args)


@pytest.fixture
def dest(tmp_path):
    return tmp_path / 'unicore.token'


def warnings_of(result):
    return [warning['event']['msg'] if isinstance(warning, dict) else warning for warning in result.get('warnings', [])]


# ---------------------------------------------------------------- issue, then keep

def test_a_first_run_issues_and_keeps_the_token_and_a_second_run_makes_no_request(site, run_module, dest):
    issued = unicore_token()
    site.issues(issued)
    first, out = run_module(dest=str(dest), lifetime=7200, **LOGIN)
    assert (first['changed'], first['issued'], first['token']) == (True, True, issued)
    assert parse_qs(urlsplit(site.requests[0].url).query) == {'lifetime': ['7200'], 'limited': ['true']}
    assert dest.read_text() == issued + '\n'
    assert os.stat(dest).st_mode & 0o777 == 0o600
    assert PASSWORD not in out

    second, dummy = run_module(dest=str(dest), lifetime=7200, **LOGIN)
    assert (second['changed'], second['issued'], second['token']) == (False, False, issued)
    assert len(site.requests) == 1


def test_the_documented_return_values_are_the_returned_ones(site, run_module):
    site.issues(unicore_token())
    result, dummy = run_module(**LOGIN)
    documented = yaml.safe_load(unicore_auth_token.RETURN)
    assert sorted(documented) == sorted(set(result) - {'changed', 'invocation', 'warnings'})
    assert sorted(documented['claims']['contains']) == sorted(result['claims'])


def test_a_mode_given_as_a_yaml_octal_number_is_applied(site, run_module, dest):
    site.issues(unicore_token())
    run_module(dest=str(dest), mode=0o640, **LOGIN)
    assert os.stat(dest).st_mode & 0o777 == 0o640


def test_a_kept_token_that_came_in_as_the_token_option_is_echoed_masked(site, run_module):
    # Ansible masks any returned value equal to a no_log input; the caller already has the token.
    given = unicore_token()
    result, out = run_module(url=SITE, auth_method='bearer', token=given)
    assert (result['changed'], result['issued'], result['token']) == (False, False, MASKED)
    assert result['claims']['iss'] == SITE_DN
    assert given not in out
    assert site.requests == []


# ---------------------------------------------------------------- check mode and warnings

def test_check_mode_makes_no_request_and_writes_nothing(site, run_module, dest):
    result, dummy = run_module(_ansible_check_mode=True, dest=str(dest), **LOGIN)
    assert (result['changed'], result['issued'], result['token']) == (True, False, None)
    assert site.requests == []
    assert not dest.exists()


def test_a_corrupt_token_file_is_replaced_with_a_warning(site, run_module, dest):
    dest.write_text('not a token\n')
    issued = unicore_token()
    site.issues(issued)
    result, dummy = run_module(dest=str(dest), **LOGIN)
    assert warnings_of(result) == ['dest: %s does not hold a readable UNICORE token; a new token replaces it' % dest]
    assert (result['changed'], dest.read_text()) == (True, issued + '\n')


# ---------------------------------------------------------------- state=absent

def test_state_absent_removes_the_file_without_credentials_or_requests(site, run_module, dest):
    dest.write_text(unicore_token() + '\n')
    result, dummy = run_module(url=SITE, dest=str(dest), state='absent')
    assert (result['changed'], result['token']) == (True, None)
    assert not dest.exists()
    assert site.requests == []


def test_state_absent_without_dest_is_refused_by_ansible(site, run_module):
    result, dummy = run_module(url=SITE, state='absent')
    assert result['failed'] is True
    assert result['msg'] == 'state is absent but all of the following are missing: dest'


# ---------------------------------------------------------------- failures: msg, url, status, no traceback

def test_a_refused_issue_fails_with_message_url_and_status_and_keeps_the_old_file(site, run_module, dest):
    kept = unicore_token(valid_for=60)
    dest.write_text(kept + '\n')
    site.refuses(403)
    result, out = run_module(dest=str(dest), **LOGIN)
    assert result['failed'] is True
    assert result['msg'].startswith('GET %s/token failed: HTTP 403 Forbidden: Access denied' % SITE)
    assert (result['url'], result['status']) == (SITE + '/token', 403)
    assert 'exception' not in result
    assert 'Traceback' not in out and PASSWORD not in out
    assert dest.read_text() == kept + '\n'


def test_an_offline_error_fails_with_its_message_only(site, run_module, tmp_path):
    result, dummy = run_module(dest=str(tmp_path / 'missing' / 'unicore.token'), **LOGIN)
    assert result['failed'] is True
    assert result['msg'] == 'dest: directory %s does not exist' % (tmp_path / 'missing')
    assert 'url' not in result and 'status' not in result
    assert site.requests == []


def test_a_missing_library_is_reported_with_ansibles_missing_required_lib_text(site, run_module, monkeypatch):
    monkeypatch.setattr(_jwt_credentials, 'HAS_JWT', False)
    key = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode('ascii')
    result, dummy = run_module(url=SITE, username='demouser', identity_content=key)
    assert result['failed'] is True
    assert result['msg'].startswith('auth_method=ssh_key needs the Python library PyJWT: ')
    assert 'Failed to import the required Python library (PyJWT)' in result['msg']
    assert 'exception' not in result
    assert site.requests == []


# ---------------------------------------------------------------- return_token and --diff

def test_with_return_token_false_the_result_holds_no_token_but_says_what_happened(site, run_module, dest):
    issued = unicore_token()
    site.issues(issued)
    result, out = run_module(dest=str(dest), return_token=False, **LOGIN)
    assert 'token' not in result and issued not in out
    assert (result['changed'], result['issued'], result['claims']['iss']) == (True, True, SITE_DN)
    assert result['expires_at'] and result['expires_in'] > 0
    assert dest.read_text() == issued + '\n'
    # The rerun keeps it: still no token, the same claims.
    again, out = run_module(dest=str(dest), return_token=False, **LOGIN)
    assert 'token' not in again and issued not in out
    assert (again['changed'], again['issued'], again['claims']) == (False, False, result['claims'])


def test_return_token_false_without_dest_is_refused_before_any_request(site, run_module):
    result, dummy = run_module(return_token=False, **LOGIN)
    assert result['failed'] is True
    assert result['msg'] == 'return_token=false needs dest: without it the token would be issued and then lost'
    assert site.requests == []


DIFF_FIELDS = ['expires_at', 'iss', 'limited', 'renewable', 'sub', 'uid']


def test_diff_mode_shows_the_claims_before_and_after_and_never_the_token(site, run_module, dest):
    first_token, second_token = unicore_token(serial=1), unicore_token(serial=2)
    site.issues(first_token)
    first, out = run_module(dest=str(dest), _ansible_diff=True, **LOGIN)
    assert first['diff']['before'] == {} and sorted(first['diff']['after']) == DIFF_FIELDS
    assert first['diff']['after']['iss'] == SITE_DN
    site.issues(second_token)
    forced, out = run_module(dest=str(dest), force=True, return_token=False, _ansible_diff=True, **LOGIN)
    assert forced['diff']['before'] == first['diff']['after']
    assert sorted(forced['diff']['after']) == DIFF_FIELDS
    assert first_token not in out and second_token not in out
    kept, dummy = run_module(dest=str(dest), _ansible_diff=True, **LOGIN)
    assert kept['diff']['before'] == kept['diff']['after'] == forced['diff']['after']
    removed, dummy = run_module(dest=str(dest), state='absent', _ansible_diff=True, **LOGIN)
    assert removed['diff'] == {'before': forced['diff']['after'], 'after': {}}


def test_diff_mode_in_check_mode_says_a_token_would_be_issued(site, run_module, dest):
    result, dummy = run_module(dest=str(dest), _ansible_diff=True, _ansible_check_mode=True, **LOGIN)
    assert result['diff'] == {'before': {}, 'after': {'token': 'a new token would be issued (check mode)'}}
    assert site.requests == []


def test_without_diff_mode_the_result_has_no_diff(site, run_module, dest):
    site.issues(unicore_token())
    result, dummy = run_module(dest=str(dest), **LOGIN)
    assert 'diff' not in result

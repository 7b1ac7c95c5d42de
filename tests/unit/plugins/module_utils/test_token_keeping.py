# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""keep_auth_token, the logic of unicore_auth_token: keep a fitting token, else issue one.

Options come through an OptionAdapter over module-like params. The real client and
transport run; ``transport_from_options`` is wrapped so that each transport it builds
answers from a script of issued tokens (conftest's ``mount_site``) and records the
credential it was built with. "No request" is shown by no transport being built at all.
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _token_keeping
from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import TOKEN_ARGUMENT_SPEC
from ansible_collections.unicore.auth.plugins.module_utils._credentials import BearerCredential, PasswordCredential
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_keeping import keep_auth_token
from ansible_collections.unicore.auth.plugins.modules.unicore_auth_token import TOKEN_FILE_OPTIONS

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
OTHER_SITE = 'https://partner.example:8080/PARTNER-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
OTHER_DN = 'CN=PARTNER-SITE,O=UNICORE,C=EU'
USER_DN = 'CN=Demo User,O=UNICORE,C=EU'
PASSWORD = 'Pässw0rd-never-shown'
LOGIN = dict(username='demouser', password=PASSWORD)
CLAIM_FIELDS = ('sub', 'iss', 'iat', 'exp', 'renewable', 'limited', 'uid', 'preferences')


def _b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode('utf-8')).rstrip(b'=').decode('ascii')


def unicore_token(valid_for=3000, lifetime=3600, iss=SITE_DN, renewable=False, limited=True, serial=0):
    """A token as a UNICORE site issues it, valid for ``valid_for`` more seconds (signature not checked by anyone here)."""
    expires = int(time.time()) + valid_for
    claims = {'sub': USER_DN, 'iss': iss, 'iat': expires - lifetime, 'exp': expires, 'etd': 'true', 'uid': 'demouser',
              'jti': 'token-%d' % serial}
    if renewable:
        claims['renewable'] = 'true'
    if limited:
        claims['aud'] = iss
    return '%s.%s.%s' % (_b64url({'alg': 'RS256', 'typ': 'JWT'}), _b64url(claims), 'c2lnbmF0dXJl')


@pytest.fixture
def module_options(options):
    """``module_options(**given)``: the params unicore_auth_token would get (every option, defaults filled in)."""
    defaults = {name: spec.get('default') for name, spec in dict(TOKEN_ARGUMENT_SPEC, **TOKEN_FILE_OPTIONS).items()}

    def build(**given):
        return options(**{**defaults, 'url': SITE, **given})
    return build


class Site:
    """The transports keep_auth_token builds, the credentials they carry and the requests they send."""

    def __init__(self, reply):
        self._reply = reply
        self.script = []
        self.credentials = []
        self.adapters = []

    def will_issue(self, *tokens, date=None):
        """Answer the next requests with ``tokens``, with the ``Date`` header ``date`` when given."""
        headers = {'Content-Type': 'text/plain'}
        if date is not None:
            headers['Date'] = date
        self.script.extend(self._reply(200, token + '\n', headers=headers) for token in tokens)

    @property
    def requests(self):
        return [request for adapter in self.adapters for request in adapter.requests]


@pytest.fixture
def site(monkeypatch, mount_site, reply):
    site = Site(reply)
    real_transport_from_options = _token_keeping.transport_from_options

    def transport_from_options(options, credential=None):
        transport = real_transport_from_options(options, credential)
        site.credentials.append(transport.credential)
        site.adapters.append(mount_site(transport, site.script))
        return transport

    monkeypatch.setattr(_token_keeping, 'transport_from_options', transport_from_options)
    return site


@pytest.fixture
def dest(tmp_path):
    return tmp_path / 'unicore.token'


def keep(token, dest, url=SITE, issuer=SITE_DN, record=True, **more_of_the_record):
    """Leave ``token`` at ``dest`` as an earlier run would have, with or without its site record."""
    dest.write_text(token + '\n')
    dest.chmod(0o600)
    if record:
        record_path = dest.parent / (dest.name + '.site')
        record_path.write_text(json.dumps(dict({'url': url, 'issuer': issuer}, **more_of_the_record)))
        record_path.chmod(0o600)


def site_record(dest):
    return json.loads((dest.parent / (dest.name + '.site')).read_text())


def failure(options, check_mode=False):
    with pytest.raises(UnicoreError) as error:
        keep_auth_token(options, check_mode)
    assert PASSWORD not in str(error.value)
    return str(error.value)


# ---------------------------------------------------------------- a kept token that fits

def test_a_fitting_token_at_dest_is_returned_unchanged_without_any_request(site, module_options, dest):
    kept = unicore_token()
    keep(kept, dest)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert (result['changed'], result['issued'], result['token'], result['warnings']) == (False, False, kept, [])
    assert site.credentials == []
    assert dest.read_text() == kept + '\n'


@pytest.mark.parametrize('setting, named', [
    ({'timeout': 0}, 'timeout must be greater than 0'),
    ({'retries': -1}, 'retries must not be negative'),
    ({'preferences': {'group': 'hpc,users'}}, 'preferences.group: value "hpc,users" contains ","'),
    ({'client_key': '/nonexistent/key.pem'}, 'client_key is set but client_cert is not'),
])
def test_unusable_connection_options_are_refused_even_when_the_kept_token_fits(site, module_options, dest, setting, named):
    # Without the check, the typo would show only months later, at renewal.
    keep(unicore_token(), dest)
    assert failure(module_options(dest=str(dest), **dict(LOGIN, **setting))).startswith(named)
    assert site.credentials == []


def test_the_result_carries_the_claims_and_the_expiry(site, module_options, dest):
    kept = unicore_token(valid_for=3000)
    keep(kept, dest)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert sorted(result['claims']) == sorted(CLAIM_FIELDS)
    assert (result['claims']['iss'], result['claims']['sub'], result['claims']['uid']) == (SITE_DN, USER_DN, 'demouser')
    assert (result['claims']['renewable'], result['claims']['limited']) == (False, True)
    assert 2990 <= result['expires_in'] <= 3000
    assert result['expires_at'] == time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(result['claims']['exp']))


def test_a_site_record_with_the_dn_written_differently_still_names_this_site(site, module_options, dest):
    keep(unicore_token(), dest, issuer='cn=DEMO-SITE, o=UNICORE, c=EU')
    assert keep_auth_token(module_options(dest=str(dest), **LOGIN))['changed'] is False
    assert site.credentials == []


def test_a_fitting_bearer_token_option_is_returned_without_any_request(site, module_options):
    given = unicore_token()
    for method in ('bearer', 'auto'):
        result = keep_auth_token(module_options(auth_method=method, token=given))
        assert (result['changed'], result['issued'], result['token']) == (False, False, given)
    assert site.credentials == []


# ---------------------------------------------------------------- reasons to issue

def test_without_a_kept_token_a_token_is_issued_with_the_requested_properties_and_kept_at_dest(site, module_options, dest):
    issued = unicore_token(lifetime=7200, valid_for=7200, renewable=True, limited=False)
    site.will_issue(issued)
    result = keep_auth_token(module_options(dest=str(dest), lifetime=7200, renewable=True, limited=False, mode='0640', **LOGIN))
    assert (result['changed'], result['issued'], result['token'], result['warnings']) == (True, True, issued, [])
    assert (result['claims']['renewable'], result['claims']['limited']) == (True, False)
    request, = site.requests
    assert urlsplit(request.url).path == '/DEMO-SITE/rest/core/token'
    assert parse_qs(urlsplit(request.url).query) == {'lifetime': ['7200'], 'renewable': ['true']}
    assert request.headers['Authorization'] == PasswordCredential('demouser', PASSWORD).authorization_header()
    assert dest.read_text() == issued + '\n'
    assert oct(os.stat(dest).st_mode & 0o777) == oct(0o640)
    assert site_record(dest) == {'url': SITE, 'issuer': SITE_DN, 'clock_offset': 0}


def test_without_dest_a_token_is_issued_and_only_returned(site, module_options, tmp_path):
    issued = unicore_token()
    site.will_issue(issued)
    result = keep_auth_token(module_options(**LOGIN))
    assert (result['changed'], result['issued'], result['token']) == (True, True, issued)
    assert parse_qs(urlsplit(site.requests[0].url).query) == {'lifetime': ['3600'], 'limited': ['true']}
    assert os.listdir(tmp_path) == []


def test_a_token_kept_for_another_url_is_replaced(site, module_options, dest):
    keep(unicore_token(), dest, url=OTHER_SITE)
    issued = unicore_token(serial=1)
    site.will_issue(issued)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert (result['changed'], result['issued'], result['token']) == (True, True, issued)
    assert len(site.requests) == 1
    assert site_record(dest) == {'url': SITE, 'issuer': SITE_DN, 'clock_offset': 0}


def test_a_token_without_a_site_record_is_replaced(site, module_options, dest):
    keep(unicore_token(), dest, record=False)
    site.will_issue(unicore_token(serial=1))
    assert keep_auth_token(module_options(dest=str(dest), **LOGIN))['issued'] is True
    assert site_record(dest) == {'url': SITE, 'issuer': SITE_DN, 'clock_offset': 0}


def test_a_token_from_another_issuer_is_replaced_even_when_the_record_names_this_url(site, module_options, dest):
    keep(unicore_token(iss=OTHER_DN), dest)
    site.will_issue(unicore_token(serial=1))
    assert keep_auth_token(module_options(dest=str(dest), **LOGIN))['issued'] is True


@pytest.mark.parametrize('kept_token, request_options', [
    (unicore_token(valid_for=300), {}),                              # valid for less than min_validity (360 s)
    (unicore_token(valid_for=-60), {}),                              # expired
    (unicore_token(), {'renewable': True}),
    (unicore_token(limited=False), {}),
    (unicore_token(valid_for=3000), {'min_validity': 3100, 'lifetime': 7200}),
])
def test_a_token_that_does_not_fit_the_request_is_replaced(site, module_options, dest, kept_token, request_options):
    keep(kept_token, dest)
    issued = unicore_token(valid_for=7200, lifetime=7200, serial=1, renewable=request_options.get('renewable', False))
    site.will_issue(issued)
    result = keep_auth_token(module_options(dest=str(dest), **dict(LOGIN, **request_options)))
    assert (result['changed'], result['issued'], result['token']) == (True, True, issued)
    assert dest.read_text() == issued + '\n'


@pytest.mark.parametrize('content', ['not a token at all', 'a.b', '', '\n'])
def test_a_dest_without_a_readable_token_is_replaced(site, module_options, dest, content):
    dest.write_text(content)
    issued = unicore_token()
    site.will_issue(issued)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert (result['issued'], dest.read_text()) == (True, issued + '\n')


def test_a_corrupt_token_file_is_replaced_with_a_warning_that_does_not_show_its_content(site, module_options, dest):
    dest.write_text('s3cret-looking-garbage.not.jwt$\n')
    site.will_issue(unicore_token())
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert result['warnings'] == ['dest: %s does not hold a readable UNICORE token; a new token replaces it' % dest]
    assert result['issued'] is True


def test_force_issues_even_when_the_kept_token_fits(site, module_options, dest):
    keep(unicore_token(), dest)
    issued = unicore_token(serial=1)
    site.will_issue(issued)
    result = keep_auth_token(module_options(dest=str(dest), force=True, **LOGIN))
    assert (result['changed'], result['issued'], result['token']) == (True, True, issued)
    assert len(site.requests) == 1


def test_a_bearer_token_that_does_not_fit_logs_in_to_get_a_new_one(site, module_options):
    given = unicore_token(valid_for=100, renewable=True)
    issued = unicore_token(renewable=True, serial=1)
    site.will_issue(issued)
    result = keep_auth_token(module_options(token=given, renewable=True))
    assert (result['issued'], result['token']) == (True, issued)
    assert site.requests[0].headers['Authorization'] == 'Bearer ' + given


# ---------------------------------------------------------------- check mode

def test_check_mode_never_issues_and_writes_nothing(site, module_options, dest):
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN), check_mode=True)
    assert (result['changed'], result['issued'], result['token'], result['claims']) == (True, False, None, None)
    assert site.credentials == []
    assert not dest.exists()


def test_check_mode_shows_a_kept_token_that_is_still_live_but_would_be_replaced(site, module_options, dest):
    kept = unicore_token(valid_for=100)
    keep(kept, dest)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN), check_mode=True)
    assert (result['changed'], result['issued'], result['token']) == (True, False, kept)
    assert site.credentials == []
    assert dest.read_text() == kept + '\n'


def test_check_mode_hides_an_expired_kept_token(site, module_options, dest):
    keep(unicore_token(valid_for=-10), dest)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN), check_mode=True)
    assert (result['changed'], result['token']) == (True, None)


def test_a_kept_token_whose_mode_was_widened_is_put_back_without_a_request(site, module_options, dest):
    keep(unicore_token(), dest)
    dest.chmod(0o644)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert (result['changed'], result['issued']) == (True, False)
    assert oct(os.stat(dest).st_mode & 0o777) == oct(0o600)
    assert site.requests == []


def test_check_mode_reports_a_mode_change_without_making_it(site, module_options, dest):
    keep(unicore_token(), dest)
    dest.chmod(0o644)
    assert keep_auth_token(module_options(dest=str(dest), **LOGIN), check_mode=True)['changed'] is True
    assert oct(os.stat(dest).st_mode & 0o777) == oct(0o644)


def test_check_mode_with_a_fitting_token_reports_no_change(site, module_options, dest):
    keep(unicore_token(), dest)
    assert keep_auth_token(module_options(dest=str(dest), **LOGIN), check_mode=True)['changed'] is False
    assert keep_auth_token(module_options(dest=str(dest), force=True, **LOGIN), check_mode=True)['changed'] is True
    assert site.credentials == []


# ---------------------------------------------------------------- state=absent

def test_state_absent_removes_the_token_and_its_record_once(site, module_options, dest):
    keep(unicore_token(), dest)
    result = keep_auth_token(module_options(dest=str(dest), state='absent'))
    assert (result['changed'], result['token']) == (True, None)
    assert os.listdir(dest.parent) == []
    assert keep_auth_token(module_options(dest=str(dest), state='absent'))['changed'] is False
    assert site.credentials == []


def test_state_absent_in_check_mode_reports_the_change_and_keeps_the_file(site, module_options, dest):
    keep(unicore_token(), dest)
    assert keep_auth_token(module_options(dest=str(dest), state='absent'), check_mode=True)['changed'] is True
    assert dest.exists()


def test_state_absent_needs_dest(site, module_options):
    assert failure(module_options(state='absent')) == 'state=absent needs dest, the token file to remove'


# ---------------------------------------------------------------- renew_with_token

def test_renew_with_token_authenticates_with_the_kept_renewable_token(site, module_options, dest):
    kept = unicore_token(valid_for=100, renewable=True)
    keep(kept, dest)
    issued = unicore_token(renewable=True, serial=1)
    site.will_issue(issued)
    result = keep_auth_token(module_options(dest=str(dest), renewable=True, renew_with_token=True))
    assert (result['issued'], result['token']) == (True, issued)
    credential, = site.credentials
    assert isinstance(credential, BearerCredential) and credential.token == kept
    assert site.requests[0].headers['Authorization'] == 'Bearer ' + kept
    assert dest.read_text() == issued + '\n'


def test_renew_with_token_prefers_the_kept_token_over_given_credentials(site, module_options, dest):
    kept = unicore_token(valid_for=100, renewable=True)
    keep(kept, dest)
    site.will_issue(unicore_token(renewable=True, serial=1))
    keep_auth_token(module_options(dest=str(dest), renewable=True, renew_with_token=True, **LOGIN))
    assert site.requests[0].headers['Authorization'] == 'Bearer ' + kept


@pytest.mark.parametrize('kept_token, record_url', [
    (unicore_token(valid_for=-60, renewable=True), SITE),                  # expired
    (unicore_token(valid_for=100), SITE),                                  # not renewable
    (unicore_token(valid_for=100, renewable=True, iss=OTHER_DN), SITE),    # issued elsewhere
    (unicore_token(valid_for=100, renewable=True), OTHER_SITE),            # kept for another URL
], ids=['expired', 'not-renewable', 'other-issuer', 'other-url'])
def test_renew_with_token_falls_back_to_the_given_credentials(site, module_options, dest, kept_token, record_url):
    keep(kept_token, dest, url=record_url)
    site.will_issue(unicore_token(renewable=True, serial=1))
    result = keep_auth_token(module_options(dest=str(dest), renewable=True, renew_with_token=True, **LOGIN))
    assert result['issued'] is True
    credential, = site.credentials
    assert isinstance(credential, PasswordCredential)
    assert site.requests[0].headers['Authorization'] == PasswordCredential('demouser', PASSWORD).authorization_header()


def test_renew_with_token_without_a_usable_token_or_credentials_says_both(site, module_options, dest):
    keep(unicore_token(valid_for=-60, renewable=True), dest)
    message = failure(module_options(dest=str(dest), renewable=True, renew_with_token=True))
    assert message.startswith('renew_with_token: the token at dest cannot renew itself (it is missing, expired, '
                              'not renewable or from another site), and no other credentials work: no credentials given')
    assert site.credentials == []


def test_without_renew_with_token_a_kept_token_never_stands_in_for_credentials(site, module_options, dest):
    keep(unicore_token(valid_for=100, renewable=True), dest)
    message = failure(module_options(dest=str(dest), renewable=True))
    assert message.startswith('no credentials given')


# ---------------------------------------------------------------- refused before anything happens

@pytest.mark.parametrize('given, message', [
    ({'lifetime': 0}, 'lifetime must be a positive number of seconds, got 0'),
    ({'min_validity': 3600}, 'min_validity (3600 s) must be less than lifetime (3600 s), or no new token would ever be kept'),
    ({'mode': 'rw-------'}, "mode must be an octal number such as \"0600\", got 'rw-------'"),
    ({'url': 'ftp://site.example/rest/core'}, 'url: ftp://site.example/rest/core is not an https:// URL'),
])
def test_a_bad_request_is_refused_before_dest_is_read_or_a_request_made(site, module_options, dest, given, message):
    keep(unicore_token(), dest)
    assert failure(module_options(dest=str(dest), **dict(LOGIN, **given))).startswith(message)
    assert site.credentials == []


def test_an_unusable_dest_is_refused_before_a_token_is_issued(site, module_options, tmp_path):
    message = failure(module_options(dest=str(tmp_path / 'missing' / 'unicore.token'), **LOGIN))
    assert message == 'dest: directory %s does not exist' % (tmp_path / 'missing')
    assert site.credentials == []


def test_a_directory_in_place_of_the_site_record_fails_with_a_message(site, module_options, dest):
    keep(unicore_token(), dest, record=False)
    (dest.parent / (dest.name + '.site')).mkdir()
    message = failure(module_options(dest=str(dest), **LOGIN))
    assert message.startswith('dest: ')
    assert str(dest) in message


def test_a_failed_issue_leaves_the_kept_token_in_place(site, module_options, dest, reply):
    kept = unicore_token(valid_for=100)
    keep(kept, dest)
    site.script.append(reply(403))
    message = failure(module_options(dest=str(dest), **LOGIN))
    assert message.startswith('GET %s/token failed: HTTP 403' % SITE)
    assert dest.read_text() == kept + '\n'
    assert site_record(dest) == {'url': SITE, 'issuer': SITE_DN}


def test_no_room_at_dest_fails_before_a_token_is_issued_and_keeps_the_old_token(site, module_options, dest, monkeypatch, fill_disk):
    kept = unicore_token(valid_for=100)
    keep(kept, dest)
    fill_disk()
    message = failure(module_options(dest=str(dest), force=True, **LOGIN))
    monkeypatch.undo()
    assert message == 'dest: cannot write %s: No space left on device (no token was issued, and the kept files are unchanged)' % dest
    assert site.credentials == []
    assert dest.read_text() == kept + '\n'
    assert sorted(os.listdir(dest.parent)) == ['unicore.token', 'unicore.token.site']


def test_a_fitting_token_is_returned_on_a_full_disk(site, module_options, dest, fill_disk):
    kept = unicore_token()
    keep(kept, dest)
    fill_disk()
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert (result['changed'], result['issued'], result['token']) == (False, False, kept)


# ---------------------------------------------------------------- a clock off from the site's

def http_date(offset):
    """A ``Date`` header of a site whose clock is ``offset`` seconds ahead of this machine's."""
    return email.utils.formatdate(time.time() + offset, usegmt=True)


@pytest.mark.parametrize('offset, words', [(600, ' s behind'), (-600, ' s ahead of')])
def test_the_sites_clock_is_learnt_when_a_token_is_issued_kept_and_warned_about(site, module_options, dest, offset, words):
    # As the site issues it: valid for the lifetime from the site's now.
    site.will_issue(unicore_token(valid_for=3600 + offset), date=http_date(offset))
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert abs(site_record(dest)['clock_offset'] - offset) <= 1
    assert 3590 <= result['expires_in'] <= 3600  # by the site's clock
    assert len(result['warnings']) == 1
    assert words in result['warnings'][0] and SITE in result['warnings'][0] and 'NTP' in result['warnings'][0]
    assert 599 <= int(result['warnings'][0].split('machine is ')[1].split(' s ')[0]) <= 601


@pytest.mark.parametrize('date', [1, -1, None, 'not a date', 'Sun, 31 Feb 2026 25:61:00 GMT'])
def test_an_answer_that_teaches_no_clock_difference_records_zero_and_warns_nothing(site, module_options, dest, date):
    # A number: a Date that many seconds off, made when the test runs.
    site.will_issue(unicore_token(), date=http_date(date) if isinstance(date, int) else date)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert site_record(dest)['clock_offset'] == 0
    assert result['warnings'] == []


def test_a_slow_clock_does_not_keep_a_token_that_the_sites_clock_says_is_nearly_expired(site, module_options, dest):
    # Valid for 500 s by this machine's clock, which is 600 s behind the site's: for the site it expired 100 s ago.
    keep(unicore_token(valid_for=500), dest, clock_offset=600)
    site.will_issue(unicore_token(valid_for=3600 + 600, serial=1), date=http_date(600))
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert result['issued'] is True
    assert len(site.requests) == 1


def test_a_fast_clock_keeps_a_token_that_the_sites_clock_says_is_still_good(site, module_options, dest):
    # Expired 100 s ago by this machine's clock, which is 600 s ahead of the site's: for the site it has 500 s left.
    token = unicore_token(valid_for=-100)
    keep(token, dest, clock_offset=-600)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert (result['issued'], result['changed'], result['token']) == (False, False, token)
    assert 490 <= result['expires_in'] <= 500
    assert site.requests == []


@pytest.mark.parametrize('damaged', ['600', True, 10 ** 12, 1.5e3, None])
def test_a_damaged_clock_offset_in_the_record_is_not_believed(site, module_options, dest, damaged):
    # Valid for 500 s by this machine's clock; believed, an offset of 600 would replace it.
    token = unicore_token(valid_for=500)
    keep(token, dest, clock_offset=damaged)
    result = keep_auth_token(module_options(dest=str(dest), **LOGIN))
    assert (result['issued'], result['token']) == (False, token)

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security sessions kept on this machine between runs: the private store, and the transport and client that use it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time

import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _security_session_store
from ansible_collections.unicore.auth.plugins.module_utils._client import transport_from_options
from ansible_collections.unicore.auth.plugins.module_utils._credentials import BearerCredential, PasswordCredential
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._security_session_store import SecuritySessionStore, login_identity
from ansible_collections.unicore.auth.plugins.module_utils._transport import SESSION_EXPIRY_MARGIN

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
PASSWORD = 'Pässw0rd-never-shown'
SESSION_ID = '0b7c59a4-5d0c-4a53-a1f6-4d8c2e7e9f10'
SESSION = 'X-UNICORE-SecuritySession'
LIFETIME = 'X-UNICORE-SecuritySession-Lifetime'
EIGHT_HOURS_MS = 8 * 3600 * 1000


class WallClock:
    """time.time() that a test moves on."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def ok(reply):
    """``ok(session=None, lifetime_ms=None)``: a 200 JSON answer, carrying a security session when given."""
    def build(session=None, lifetime_ms=None):
        headers = {}
        if session:
            headers[SESSION] = session
        if lifetime_ms is not None:
            headers[LIFETIME] = str(lifetime_ms)
        return reply(200, json_body={'client': {'dn': 'CN=Demo User, O=UNICORE, C=EU'}}, headers=headers)
    return build


@pytest.fixture
def session_dir(tmp_path):
    return str(tmp_path / 'security-sessions')


@pytest.fixture
def store(session_dir):
    """``store(username='demouser', password=PASSWORD, url=SITE, **store_options)``: the store of one login, as a run opens it."""
    def build(username='demouser', password=PASSWORD, url=SITE, **store_options):
        identity = {'url': url, 'username': username, 'password': password, 'method': 'password'}
        return SecuritySessionStore(session_dir, lambda: identity, **store_options)
    return build


def entries(session_dir):
    return sorted(name for name in os.listdir(session_dir) if name.startswith('session-') and not name.endswith('.lock'))


def everything_on_disk(session_dir):
    """Names and contents of every file in the store, as one text."""
    parts = []
    for name in sorted(os.listdir(session_dir)):
        parts.append(name)
        with open(os.path.join(session_dir, name), 'rb') as handle:
            parts.append(handle.read().decode('latin-1'))
    return '\n'.join(parts)


# ---------------------------------------------------------------- the store

def test_a_session_kept_by_one_run_is_found_by_the_next(store):
    store().keep('uid:demouser', SESSION_ID, 3600)
    session_id, seconds_left = store().find('uid:demouser')
    assert session_id == SESSION_ID
    assert 3590 < seconds_left <= 3600


def test_directory_is_private_and_entries_are_0600_with_names_that_reveal_nothing(store, session_dir):
    store().keep(None, SESSION_ID, 3600)
    assert stat.S_IMODE(os.stat(session_dir).st_mode) == 0o700
    for name in os.listdir(session_dir):
        assert stat.S_IMODE(os.stat(os.path.join(session_dir, name)).st_mode) == 0o600
    [name] = entries(session_dir)
    assert name.startswith('session-') and len(name) == len('session-') + 64
    names = ' '.join(os.listdir(session_dir))
    for revealing in (PASSWORD, 'demouser', 'site.example', 'DEMO-SITE', SESSION_ID, SESSION_ID[:8]):
        assert revealing not in names


def test_an_entry_holds_the_session_id_and_its_end_and_never_a_credential(store, session_dir):
    store().keep(None, SESSION_ID, 3600)
    [name] = entries(session_dir)
    with open(os.path.join(session_dir, name), encoding='ascii') as handle:
        assert set(json.load(handle)) == {'session_id', 'expires_at'}
    on_disk = everything_on_disk(session_dir)
    assert PASSWORD not in on_disk and 'demouser' not in on_disk and 'site.example' not in on_disk


def test_names_are_keyed_so_the_same_login_gets_another_name_in_another_store(tmp_path):
    identity = {'url': SITE, 'password': 'weak'}
    first, second = (SecuritySessionStore(str(tmp_path / name), lambda: identity) for name in ('a', 'b'))
    first.keep(None, SESSION_ID, 3600)
    second.keep(None, SESSION_ID, 3600)
    assert entries(str(tmp_path / 'a')) != entries(str(tmp_path / 'b'))


@pytest.mark.parametrize('other', [
    pytest.param({'password': 'a wrong password'}, id='wrong-password'),
    pytest.param({'username': 'otheruser'}, id='other-user'),
    pytest.param({'url': 'https://site.example:8080/PARTNER-SITE/rest/core'}, id='other-site'),
])
def test_a_session_is_never_found_for_another_login_or_site(store, other):
    store().keep(None, SESSION_ID, 3600)
    assert store(**other).find(None) is None


def test_other_preferences_use_another_entry(store, session_dir):
    store().keep('uid:demouser', SESSION_ID, 3600)
    assert store().find('uid:demouser,group:hpc') is None
    assert store().find(None) is None
    store().keep('uid:demouser,group:hpc', 'another-session', 3600)
    assert len(entries(session_dir)) == 2
    assert store().find('uid:demouser')[0] == SESSION_ID


def test_a_session_is_not_offered_within_the_margin_before_it_ends(store):
    clock = WallClock()
    store(clock=clock).keep(None, SESSION_ID, 60)
    clock.now += 60 - SESSION_EXPIRY_MARGIN - 1
    assert store(clock=clock).find(None, SESSION_EXPIRY_MARGIN)[0] == SESSION_ID
    clock.now += 1
    assert store(clock=clock).find(None, SESSION_EXPIRY_MARGIN) is None


@pytest.mark.parametrize('lifetime', [None, 0, -5])
def test_a_session_without_a_known_end_is_not_kept(store, session_dir, lifetime):
    store().keep(None, SESSION_ID, lifetime)
    assert entries(session_dir) == []


@pytest.mark.parametrize('session_id', ['with space', 'line\r\nX-Injected: 1', 'non-ascii-é', ''])
def test_an_id_that_could_not_go_into_a_header_is_not_kept(store, session_dir, session_id):
    store().keep(None, session_id, 3600)
    assert entries(session_dir) == []


@pytest.mark.parametrize('content', [b'', b'not json', b'[]', b'{"session_id": "a b", "expires_at": 1e12}',
                                     b'{"session_id": "x", "expires_at": true}', b'{"session_id": "x"}', b'{' + b' ' * 5000 + b'}'])
def test_a_damaged_entry_is_ignored_and_replaced_by_the_next_login(store, session_dir, content):
    store().keep(None, SESSION_ID, 3600)
    [name] = entries(session_dir)
    with open(os.path.join(session_dir, name), 'wb') as handle:
        handle.write(content)
    assert store().find(None) is None
    store().keep(None, 'the-next-login', 3600)
    assert store().find(None)[0] == 'the-next-login'


def test_forget_removes_the_refused_session(store, session_dir):
    store().keep(None, SESSION_ID, 3600)
    refused = store()
    assert refused.forget(None, SESSION_ID) is None
    refused.release()
    assert entries(session_dir) == []


def test_forget_keeps_a_newer_session_another_run_kept_and_returns_it(store, session_dir):
    store().keep(None, 'the-newer-one', 3600)
    session_id, dummy_left = store().forget(None, SESSION_ID)
    assert session_id == 'the-newer-one'
    assert store().find(None)[0] == 'the-newer-one'


def test_a_symbolic_link_in_place_of_the_directory_is_refused(store, session_dir, tmp_path):
    target = tmp_path / 'elsewhere'
    target.mkdir(mode=0o700)
    os.symlink(str(target), session_dir)
    with pytest.raises(UnicoreError, match='security_session_dir: .* symbolic link'):
        store().find(None)


def test_a_symbolic_link_in_place_of_an_entry_is_never_followed(store, session_dir, tmp_path):
    store().keep(None, SESSION_ID, 3600)
    [name] = entries(session_dir)
    planted = tmp_path / 'planted'
    planted.write_text(json.dumps({'session_id': 'planted-session', 'expires_at': time.time() + 3600}))
    os.unlink(os.path.join(session_dir, name))
    os.symlink(str(planted), os.path.join(session_dir, name))
    with pytest.raises(UnicoreError, match='security_session_dir: .* symbolic link') as error:
        store().find(None)
    assert 'planted-session' not in str(error.value)
    # A new login replaces the link itself, never the file it points to.
    store().keep(None, 'the-next-login', 3600)
    assert 'planted-session' in planted.read_text()
    assert not os.path.islink(os.path.join(session_dir, name))


def test_a_directory_others_may_write_to_is_refused(store, session_dir):
    os.makedirs(session_dir)
    os.chmod(session_dir, 0o777)
    with pytest.raises(UnicoreError, match='security_session_dir: .* writable by other users'):
        store().find(None)


def test_a_full_disk_keeps_nothing_and_fails_nothing(store, session_dir, fill_disk):
    fill_disk()
    kept = store()
    assert kept.find(None) is None
    kept.keep(None, SESSION_ID, 3600)
    assert store().find(None) is None


def test_a_store_removed_while_a_run_logs_in_keeps_nothing_and_fails_nothing(store, session_dir):
    """Removing the directory is how a user forgets every session: a run under way is not hurt by it."""
    run = store()
    assert run.find(None) is None
    run.claim(None)
    shutil.rmtree(session_dir)
    run.keep(None, SESSION_ID, 3600)
    assert not os.path.exists(session_dir)
    assert store().find(None) is None


def test_writes_are_atomic_and_leave_no_temporary_copy(store, session_dir):
    for number in range(20):
        store().keep(None, 'session-%d' % number, 3600)
    assert [name for name in os.listdir(session_dir) if name.startswith('.')] == []
    assert store().find(None)[0] == 'session-19'


def test_a_run_waits_for_another_runs_login_at_most_wait_seconds(store, session_dir):
    holder = store()
    holder.claim(None)
    started = time.monotonic()
    waiting = store(wait=0.3)
    waiting.claim(None)
    assert 0.25 <= time.monotonic() - started < 5
    assert waiting.find(None) is None
    holder.release()


def test_forks_starting_together_on_an_empty_store_log_in_once(store, session_dir, tmp_path):
    """What a transport does (find, else claim, find again, else log in and keep), in 30 processes at once."""
    logins = tmp_path / 'logins'
    go = time.time() + 0.5
    children = []
    for number in range(30):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            status = 1
            try:
                while time.time() < go:
                    time.sleep(0.005)
                run = store()
                kept = run.find(None)
                if kept is None:
                    run.claim(None)
                    kept = run.find(None)
                if kept is None:
                    with open(str(logins), 'a', encoding='ascii') as handle:
                        handle.write('%d\n' % number)
                    time.sleep(0.2)  # the site checking the password
                    run.keep(None, 'session-of-%d' % number, 3600)
                run.release()
                status = 0
            finally:
                os._exit(status)
        children.append(pid)
    assert all(os.waitpid(pid, 0)[1] == 0 for pid in children)
    assert len(logins.read_text().split()) == 1
    assert store().find(None)[0] == 'session-of-%s' % logins.read_text().split()[0]
    assert [name for name in os.listdir(session_dir) if name.startswith('.')] == []


# ---------------------------------------------------------------- the transport

@pytest.fixture
def kept_transport(scripted_transport, store):
    """``kept_transport(script, credential=password, preferences=None, **store_options)``: a run's transport with the shared store."""
    def build(script, credential=None, preferences=None, **store_options):
        return scripted_transport(credential or PasswordCredential('demouser', PASSWORD), script, preferences=preferences,
                                  kept_sessions=store(**store_options))
    return build


def test_the_next_run_sends_the_kept_session_instead_of_the_credentials(kept_transport, ok):
    first, first_site = kept_transport([ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS)])
    first.get(SITE)
    first.close()
    second, second_site = kept_transport([ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS - 1000)])
    second.get(SITE)
    assert 'Authorization' in first_site.headers[0]
    assert second_site.headers[0][SESSION] == SESSION_ID
    assert 'Authorization' not in second_site.headers[0]


def test_a_refused_kept_session_is_dropped_and_the_run_logs_in_once_more(kept_transport, reply, ok, session_dir):
    kept_transport([ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS)])[0].get(SITE)
    run, site = kept_transport([reply(432), ok(session='after-restart', lifetime_ms=EIGHT_HOURS_MS)])
    assert run.get(SITE).status_code == 200
    assert site.headers[0][SESSION] == SESSION_ID
    assert 'Authorization' in site.headers[1] and SESSION not in site.headers[1]
    run.close()
    third, third_site = kept_transport([ok(session='after-restart', lifetime_ms=EIGHT_HOURS_MS)])
    third.get(SITE)
    assert third_site.headers[0][SESSION] == 'after-restart'


def test_a_failed_login_leaves_no_session_behind(kept_transport, reply, session_dir):
    run, dummy_site = kept_transport([reply(403, headers={SESSION: SESSION_ID, LIFETIME: str(EIGHT_HOURS_MS)})])
    with pytest.raises(UnicoreError):
        run.get(SITE)
    run.close()
    assert entries(session_dir) == []


def test_other_preferences_log_in_again_and_keep_their_own_session(kept_transport, ok):
    kept_transport([ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS)], preferences='uid:demouser')[0].get(SITE)
    run, site = kept_transport([ok(session='group-hpc', lifetime_ms=EIGHT_HOURS_MS)], preferences='uid:demouser,group:hpc')
    run.get(SITE)
    assert 'Authorization' in site.headers[0] and SESSION not in site.headers[0]
    run.close()
    again, again_site = kept_transport([ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS)], preferences='uid:demouser')
    again.get(SITE)
    assert again_site.headers[0][SESSION] == SESSION_ID


def test_reusing_a_kept_session_writes_nothing(kept_transport, ok, session_dir):
    kept_transport([ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS)])[0].get(SITE)
    [name] = entries(session_dir)
    before = os.stat(os.path.join(session_dir, name))
    run, dummy_site = kept_transport([ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS - 5000)] * 3)
    for dummy in range(3):
        run.get(SITE)
    after = os.stat(os.path.join(session_dir, name))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_without_security_sessions_nothing_is_kept_nor_sent(scripted_transport, store, ok, session_dir):
    run, site = scripted_transport(PasswordCredential('demouser', PASSWORD), [ok(session=SESSION_ID, lifetime_ms=EIGHT_HOURS_MS)] * 2,
                                   security_sessions=False, kept_sessions=store())
    run.get(SITE)
    run.get(SITE)
    assert not os.path.exists(session_dir)
    assert all(SESSION not in headers for headers in site.headers)


# ---------------------------------------------------------------- the identity, from the options

def identity_of(options, credential=None, verify='/etc/pki/site-ca.pem', cert=None, **given):
    opts = options(url=SITE, **given)
    return login_identity(opts, credential or PasswordCredential(given.get('username'), given.get('password')), SITE, verify, cert)()


def test_the_identity_holds_the_secret_so_a_wrong_password_gets_another_entry(options):
    right = identity_of(options, username='demouser', password=PASSWORD)
    wrong = identity_of(options, username='demouser', password='wrong')
    assert right != wrong
    assert right['password'] == PASSWORD  # part of the MAC only: the unit tests above show it is never stored


def test_the_identity_holds_the_site_the_ca_and_the_client_certificate_by_content(options, tmp_path):
    cert = tmp_path / 'client.pem'
    cert.write_text('one certificate')
    base = identity_of(options, username='demouser', password=PASSWORD, cert=str(cert))
    assert identity_of(options, username='demouser', password=PASSWORD, cert=str(cert), verify=True) != base
    cert.write_text('another certificate at the same path')
    assert identity_of(options, username='demouser', password=PASSWORD, cert=str(cert)) != base
    assert base['url'] == SITE


def test_a_token_renewing_itself_is_another_login_than_the_options_password(options):
    by_password = identity_of(options, username='demouser', password=PASSWORD)
    by_kept_token = identity_of(options, BearerCredential('header.payload.signature'), username='demouser', password=PASSWORD)
    assert by_password != by_kept_token
    assert by_kept_token['token'] == 'header.payload.signature'


def test_transport_from_options_keeps_sessions_in_security_session_dir(options, session_dir, tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('')
    transport = transport_from_options(options(url=SITE, username='demouser', password=PASSWORD, ca_path=str(ca),
                                               security_session_dir=session_dir))
    assert transport._kept_sessions.directory == session_dir
    off = transport_from_options(options(url=SITE, username='demouser', password=PASSWORD, security_sessions=False))
    assert off._kept_sessions is None
    unchecked = transport_from_options(options(url=SITE, username='demouser', password=PASSWORD, validate_certs=False))
    assert unchecked._kept_sessions is None


def test_the_default_directory_is_under_the_users_cache():
    assert _security_session_store.DEFAULT_DIRECTORY == '~/.cache/unicore.auth/security-sessions'

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup's controller-side token cache: a private directory, keyed names, one issue per entry."""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import multiprocessing
import os
import re
import stat
import time

import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _private_files
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest
from ansible_collections.unicore.auth.plugins.plugin_utils import _token_cache
from ansible_collections.unicore.auth.plugins.plugin_utils._token_cache import KEY_FILE, TokenCache

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
PASSWORD = 'Pässw0rd-never-shown'
IDENTITY = {'url': SITE, 'username': 'demouser', 'password': PASSWORD, 'lifetime': '3600'}


def _b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode('utf-8')).rstrip(b'=').decode('ascii')


def unicore_token(valid_for=3000, iss=SITE_DN, renewable=False, serial=0):
    """A limited token as a UNICORE site issues it (nobody here checks the signature)."""
    expires = int(time.time()) + valid_for
    claims = {'sub': 'CN=Demo User,O=UNICORE,C=EU', 'iss': iss, 'aud': iss, 'iat': expires - 3600, 'exp': expires,
              'jti': 'token-%d' % serial}
    if renewable:
        claims['renewable'] = 'true'
    return '%s.%s.c2lnbmF0dXJl' % (_b64url({'alg': 'RS256'}), _b64url(claims))


class Issuer:
    """An issue function that hands out the given tokens in turn and counts its calls."""

    def __init__(self, *tokens, issuer=SITE_DN, clock_offset=0):
        self.tokens = list(tokens)
        self.issuer = issuer
        self.clock_offset = clock_offset
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.tokens.pop(0), self.issuer, self.clock_offset


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def refusal(directory):
    with pytest.raises(UnicoreError) as error:
        TokenCache(directory)
    return str(error.value)


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / 'cache' / 'tokens'


# ---------------------------------------------------------------- the directory

def test_the_directory_is_created_private(cache_dir):
    TokenCache(cache_dir)
    assert cache_dir.is_dir()
    assert mode_of(cache_dir) == 0o700


@pytest.mark.parametrize('mode', [0o770, 0o720, 0o703, 0o777])
def test_a_directory_others_can_write_to_is_refused(cache_dir, mode):
    cache_dir.mkdir(parents=True)
    cache_dir.chmod(mode)
    assert refusal(cache_dir) == 'cache_dir: %s is writable by other users (mode %o); make it 0700' % (cache_dir, mode)
    assert os.listdir(cache_dir) == []


def test_a_symbolic_link_in_place_of_the_directory_is_refused(cache_dir, tmp_path):
    private = tmp_path / 'private'
    private.mkdir(mode=0o700)
    cache_dir.parent.mkdir()
    cache_dir.symlink_to(private)
    assert refusal(cache_dir) == ('cache_dir: %s is a symbolic link; give the directory itself '
                                  '(private directories are never reached through links)' % cache_dir)
    assert os.listdir(private) == []


def test_a_file_in_place_of_the_directory_is_refused(cache_dir):
    cache_dir.parent.mkdir()
    cache_dir.write_text('')
    message = refusal(cache_dir)
    assert message.startswith('cache_dir: ')
    assert str(cache_dir) in message


def test_a_directory_of_another_user_is_refused(cache_dir):
    if os.geteuid() == 0:
        cache_dir.mkdir(parents=True, mode=0o700)
        os.chown(cache_dir, 4242, 4242)
        directory = cache_dir
    else:
        # Without root the test cannot give a directory away; the file system root belongs to root.
        directory = '/'
    assert refusal(directory) == 'cache_dir: %s belongs to another user; a private directory must be your own' % directory


def test_a_directory_that_cannot_be_created_is_named(tmp_path):
    (tmp_path / 'file').write_text('')
    message = refusal(tmp_path / 'file' / 'tokens')
    assert message.startswith('cache_dir: cannot create %s: ' % (tmp_path / 'file' / 'tokens'))


# ---------------------------------------------------------------- the key and the entry names

def test_the_key_file_is_private_and_reused(cache_dir):
    first = TokenCache(cache_dir)
    key_path = cache_dir / KEY_FILE
    assert mode_of(key_path) == 0o600
    key = key_path.read_bytes()
    assert len(key) == 32
    second = TokenCache(cache_dir)
    assert key_path.read_bytes() == key
    assert second.entry_name('token', IDENTITY) == first.entry_name('token', IDENTITY)


def test_a_damaged_key_file_is_named(cache_dir):
    TokenCache(cache_dir)
    (cache_dir / KEY_FILE).write_bytes(b'short')
    assert refusal(cache_dir) == 'cache_dir: %s is damaged; remove it and the cache starts afresh' % (cache_dir / KEY_FILE)


def test_entry_names_are_keyed_hashes_that_reveal_nothing(cache_dir, tmp_path):
    cache = TokenCache(cache_dir)
    name = cache.entry_name('token', IDENTITY)
    assert re.fullmatch('token-[0-9a-f]{64}', name)
    canonical = json.dumps(IDENTITY, sort_keys=True, separators=(',', ':')).encode('utf-8')
    # Not a bare hash, which anyone could recompute for a guessed weak password.
    assert name[len('token-'):] not in (hashlib.sha256(canonical).hexdigest(), hashlib.blake2b(canonical, digest_size=32).hexdigest())
    assert TokenCache(tmp_path / 'other-cache').entry_name('token', IDENTITY) != name


def test_the_same_identity_gets_the_same_name_whatever_the_key_order(cache_dir):
    cache = TokenCache(cache_dir)
    assert cache.entry_name('token', dict(reversed(list(IDENTITY.items())))) == cache.entry_name('token', dict(IDENTITY))


@pytest.mark.parametrize('change', [{'password': 'another-password'}, {'username': 'otheruser'}, {'url': SITE + '2'},
                                    {'lifetime': '7200'}, {'token': None}])
def test_any_difference_in_the_identity_gives_another_name(cache_dir, change):
    cache = TokenCache(cache_dir)
    assert cache.entry_name('token', dict(IDENTITY, **change)) != cache.entry_name('token', IDENTITY)


# ---------------------------------------------------------------- get_or_issue

def test_the_first_call_issues_and_later_calls_are_served_from_the_cache(cache_dir):
    token = unicore_token()
    issue = Issuer(token)
    assert TokenCache(cache_dir).get_or_issue(IDENTITY, TokenRequest(), issue) == (token, 0)
    for dummy in range(3):
        assert TokenCache(cache_dir).get_or_issue(IDENTITY, TokenRequest(), issue) == (token, 0)
    assert issue.calls == 1


def test_an_entry_holds_only_the_token_its_issuer_and_the_clock_offset_in_a_private_file(cache_dir):
    token = unicore_token()
    cache = TokenCache(cache_dir)
    cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(token))
    entry = cache_dir / cache.entry_name('token', IDENTITY)
    assert json.loads(entry.read_text()) == {'token': token, 'issuer': SITE_DN, 'clock_offset': 0}
    assert mode_of(entry) == 0o600
    for name in os.listdir(cache_dir):
        assert mode_of(cache_dir / name) == 0o600, name
        content = (cache_dir / name).read_bytes()
        assert PASSWORD.encode('utf-8') not in content and b'demouser' not in content, name


def test_another_identity_gets_its_own_token(cache_dir):
    issue = Issuer(unicore_token(serial=1), unicore_token(serial=2))
    cache = TokenCache(cache_dir)
    first = cache.get_or_issue(IDENTITY, TokenRequest(), issue)
    second = cache.get_or_issue(dict(IDENTITY, password='wrong-password'), TokenRequest(), issue)
    assert first != second
    assert issue.calls == 2


@pytest.mark.parametrize('cached, request_options', [
    (unicore_token(valid_for=300), {}),            # valid for less than min_validity (360 s)
    (unicore_token(valid_for=-60), {}),            # expired
    (unicore_token(renewable=True), {}),           # renewable, a plain token is asked for
    (unicore_token(), {'min_validity': 3500}),
])
def test_a_cached_token_that_no_longer_fits_is_reissued_and_replaced(cache_dir, cached, request_options):
    fresh = unicore_token(valid_for=3590, serial=1)
    issue = Issuer(cached, fresh)
    cache = TokenCache(cache_dir)
    cache.get_or_issue(IDENTITY, TokenRequest(), issue)
    assert cache.get_or_issue(IDENTITY, TokenRequest(**request_options), issue) == (fresh, 0)
    assert issue.calls == 2
    assert cache.get_or_issue(IDENTITY, TokenRequest(**request_options), issue) == (fresh, 0)
    assert issue.calls == 2


def test_issued_is_told_of_each_issue_and_of_the_token_it_replaces_before_the_token_is_kept(cache_dir):
    old, fresh = unicore_token(valid_for=300, serial=1), unicore_token(valid_for=3590, serial=2)
    cache = TokenCache(cache_dir)
    told = []

    def issued(token, replaced):
        # Before the token is kept: no other fork can have reused it yet.
        told.append((token, None if replaced is None else replaced.token, cache._kept_token(cache.entry_name('token', IDENTITY))))
    issue = Issuer(old, fresh)
    cache.get_or_issue(IDENTITY, TokenRequest(), issue, issued=issued)
    cache.get_or_issue(IDENTITY, TokenRequest(), issue, issued=issued)
    cache.get_or_issue(IDENTITY, TokenRequest(), issue, issued=issued)  # a hit: nothing issued, nothing told
    assert [(token, replaced) for token, replaced, dummy in told] == [(old, None), (fresh, old)]
    assert told[0][2] is None and told[1][2].token == old


def test_a_cached_token_is_judged_by_the_clock_of_the_site_as_its_entry_keeps_it(cache_dir):
    # This machine's clock is 600 s behind the site's: a token it thinks valid for 500 s expired at the site.
    nearly_expired, fresh = unicore_token(valid_for=500, serial=1), unicore_token(valid_for=4200, serial=2)
    issue = Issuer(nearly_expired, fresh, clock_offset=600)
    cache = TokenCache(cache_dir)
    assert cache.get_or_issue(IDENTITY, TokenRequest(), issue) == (nearly_expired, 600)
    assert json.loads((cache_dir / cache.entry_name('token', IDENTITY)).read_text())['clock_offset'] == 600
    assert cache.get_or_issue(IDENTITY, TokenRequest(), issue) == (fresh, 600)
    assert issue.calls == 2


def test_a_cached_token_that_a_fast_clock_thinks_expired_is_kept_while_the_site_says_it_is_good(cache_dir):
    # 600 s ahead of the site's: expired 100 s ago here, 500 s left there.
    token = unicore_token(valid_for=-100)
    issue = Issuer(token, clock_offset=-600)
    for dummy in range(3):
        assert TokenCache(cache_dir).get_or_issue(IDENTITY, TokenRequest(), issue) == (token, -600)
    assert issue.calls == 1


def test_a_cached_token_whose_recorded_issuer_differs_from_its_own_is_reissued(cache_dir):
    issue = Issuer(unicore_token(iss='CN=Elsewhere'), unicore_token(serial=1), issuer=SITE_DN)
    cache = TokenCache(cache_dir)
    cache.get_or_issue(IDENTITY, TokenRequest(), issue)
    cache.get_or_issue(IDENTITY, TokenRequest(), issue)
    assert issue.calls == 2


@pytest.mark.parametrize('content', ['', 'not json', '[]', '{"token": ""}', '{"token": "not-a-jwt"}', '{"issuer": "x"}'])
def test_a_damaged_entry_is_reissued(cache_dir, content):
    cache = TokenCache(cache_dir)
    (cache_dir / cache.entry_name('token', IDENTITY)).write_text(content)
    token = unicore_token()
    assert cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(token)) == (token, 0)
    assert json.loads((cache_dir / cache.entry_name('token', IDENTITY)).read_text())['token'] == token


def test_an_entry_is_never_read_through_a_symbolic_link(cache_dir, tmp_path):
    cache = TokenCache(cache_dir)
    planted = tmp_path / 'planted'
    planted.write_text(json.dumps({'token': unicore_token(serial=9), 'issuer': SITE_DN}))
    (cache_dir / cache.entry_name('token', IDENTITY)).symlink_to(planted)
    with pytest.raises(UnicoreError) as error:
        cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(unicore_token()))
    assert str(error.value).startswith('cache_dir: %s is a symbolic link' % (cache_dir / cache.entry_name('token', IDENTITY)))


def test_a_failing_issue_caches_nothing(cache_dir):
    cache = TokenCache(cache_dir)

    def refused():
        raise UnicoreError('GET %s/token failed: HTTP 403 Forbidden' % SITE)
    with pytest.raises(UnicoreError):
        cache.get_or_issue(IDENTITY, TokenRequest(), refused)
    assert not (cache_dir / cache.entry_name('token', IDENTITY)).exists()
    token = unicore_token()
    assert cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(token)) == (token, 0)


# ---------------------------------------------------------------- concurrent forks

def _fork_asks_for_a_token(cache_dir, counter, results, barrier, token, index):
    """One Ansible fork: open the cache and ask for the token; the issue is slow and counted."""
    def issue():
        with open(counter, 'a', encoding='utf-8') as handle:
            handle.write('%d\n' % index)
        time.sleep(0.3)
        return token, SITE_DN, 0
    try:
        barrier.wait(timeout=30)
        got = TokenCache(cache_dir).get_or_issue(IDENTITY, TokenRequest(), issue)
        outcome = 'ok' if got == (token, 0) else 'other token'
    except Exception as exc:  # pylint: disable=broad-exception-caught  # reported to the parent as the outcome
        outcome = '%s: %s' % (type(exc).__name__, exc)
    with open(os.path.join(results, str(index)), 'w', encoding='utf-8') as handle:
        handle.write(outcome)


@pytest.mark.parametrize('forks', [8])
def test_concurrent_forks_on_an_empty_cache_issue_exactly_one_token(tmp_path, cache_dir, forks):
    counter = tmp_path / 'issued'
    results = tmp_path / 'results'
    results.mkdir()
    context = multiprocessing.get_context('fork')
    barrier = context.Barrier(forks)
    token = unicore_token()
    processes = [context.Process(target=_fork_asks_for_a_token,
                                 args=(str(cache_dir), str(counter), str(results), barrier, token, index))
                 for index in range(forks)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * forks
    assert {name: (results / name).read_text() for name in os.listdir(results)} == {str(index): 'ok' for index in range(forks)}
    assert len(counter.read_text().splitlines()) == 1


# ---------------------------------------------------------------- crashes and full disks


NO_ROOM_WARNING = ('cache_dir: cannot keep the token in %s (No space left on device); it is used for this task only, '
                   'and a later lookup asks the site again')


def test_an_empty_key_file_that_a_killed_run_left_is_replaced(cache_dir):
    cache_dir.mkdir(parents=True, mode=0o700)
    (cache_dir / KEY_FILE).write_bytes(b'')
    (cache_dir / KEY_FILE).chmod(0o600)
    cache = TokenCache(cache_dir)
    assert len((cache_dir / KEY_FILE).read_bytes()) == 32 and mode_of(cache_dir / KEY_FILE) == 0o600
    assert cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(unicore_token())) is not None


def test_opening_the_cache_removes_the_copies_that_killed_forks_left(cache_dir):
    TokenCache(cache_dir)
    left = cache_dir / '.token-0123.k1ll3d_0.tmp'
    left.write_text(json.dumps({'token': unicore_token(), 'issuer': SITE_DN}))
    left.chmod(0o600)
    TokenCache(cache_dir)
    assert not left.exists()


def test_the_directory_is_listed_for_copies_once_when_opened_and_not_again_for_each_write(cache_dir, monkeypatch):
    sweeps = []
    for module in (_private_files, _token_cache):
        real_sweep = module.remove_stale_temporaries
        monkeypatch.setattr(module, 'remove_stale_temporaries',
                            lambda *args, real_sweep=real_sweep: sweeps.append(args) or real_sweep(*args))
    cache = TokenCache(cache_dir)
    # The key is written before the sweep of the whole directory, with its own.
    assert sweeps == [(str(cache_dir), KEY_FILE), (str(cache_dir),)]
    token = unicore_token()
    cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(token))
    cache.remember('inputs', {'token': token, 'reusable_until': time.time() + 600, 'warnings': []})
    assert len(sweeps) == 2 and len([name for name in os.listdir(cache_dir) if name.startswith(('token-', 'answer-')) and not name.endswith('.lock')]) == 2


def test_on_a_full_disk_the_issued_token_is_returned_and_not_kept_and_that_is_said_once(cache_dir, monkeypatch, fill_disk):
    cache = TokenCache(cache_dir)
    before = sorted(os.listdir(cache_dir))
    token = unicore_token()
    fill_disk()
    assert cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(token)) == (token, 0)
    cache.remember('inputs', {'token': token, 'reusable_until': time.time() + 600, 'warnings': []})
    monkeypatch.undo()
    assert cache.unkept.no_room
    assert cache.unkept_warning() == NO_ROOM_WARNING % cache_dir
    assert token not in cache.unkept_warning()
    assert sorted(os.listdir(cache_dir)) == sorted(before + [cache.entry_name('token', IDENTITY) + '.lock'])


def test_without_room_for_the_key_nothing_is_kept_and_every_call_issues(cache_dir, monkeypatch, fill_disk):
    fill_disk()
    tokens = [unicore_token(serial=1), unicore_token(serial=2)]
    issue = Issuer(*tokens)
    cache = TokenCache(cache_dir)
    assert not cache.usable
    assert [cache.get_or_issue(IDENTITY, TokenRequest(), issue)[0] for dummy in range(2)] == tokens
    cache.remember('inputs', {'token': tokens[1], 'reusable_until': time.time() + 600, 'warnings': []})
    monkeypatch.undo()
    assert cache.unkept_warning() == NO_ROOM_WARNING % cache_dir
    assert not (cache_dir / KEY_FILE).exists()
    assert [name for name in os.listdir(cache_dir) if not name.endswith('.lock')] == []


def test_a_write_failure_other_than_a_full_disk_is_still_an_error(cache_dir, monkeypatch):
    cache = TokenCache(cache_dir)
    real_fsync = os.fsync

    def fsync(descriptor):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(_private_files.os, 'fsync', fsync)
    with pytest.raises(UnicoreError) as error:
        cache.get_or_issue(IDENTITY, TokenRequest(), Issuer(unicore_token()))
    monkeypatch.setattr(_private_files.os, 'fsync', real_fsync)
    assert str(error.value).startswith('cache_dir: cannot write %s' % cache_dir)
    assert cache.unkept is None

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token file at dest: where it may be, how it is read, and that writing it is atomic."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _token_file
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_file import MAX_TOKEN_BYTES, TokenFile, parse_mode

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
OLD_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbGQifQ.b2xkLXNpZw'
NEW_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJuZXcifQ.bmV3LXNpZw'


def refusal(operation, *args):
    with pytest.raises(UnicoreError) as error:
        operation(*args)
    return str(error.value)


def snapshot(directory):
    """Every name in ``directory`` with its bytes and permission bits."""
    files = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        with open(path, 'rb') as handle:
            files[name] = (handle.read(), stat.S_IMODE(os.lstat(path).st_mode))
    return files


@pytest.fixture
def kept_file(tmp_path):
    """A token file with its site record, as a previous run left them; returns the TokenFile."""
    token_file = TokenFile(tmp_path / 'unicore.token')
    token_file.write(OLD_TOKEN, SITE, SITE_DN, 0o600)
    return token_file


# ---------------------------------------------------------------- parse_mode

@pytest.mark.parametrize('mode', ['0600', '600', '0o600', 0o600, 384])
def test_mode_is_taken_as_octal_text_or_as_the_number_itself(mode):
    assert parse_mode(mode) == 0o600


@pytest.mark.parametrize('mode, number', [('0640', 0o640), ('0400', 0o400), ('2750', 0o2750), (0, 0), ('7777', 0o7777)])
def test_other_modes_are_parsed_the_same_way(mode, number):
    assert parse_mode(mode) == number


@pytest.mark.parametrize('mode', ['rw-------', 'u=rw', '0999', '0x180', '', '10000', 0o10000, -1, True, None, 6.0])
def test_anything_else_is_refused_naming_mode(mode):
    assert refusal(parse_mode, mode) == 'mode must be an octal number such as "0600", got %r' % (mode,)


# ---------------------------------------------------------------- check_destination

def test_a_new_file_in_an_existing_writable_directory_is_a_valid_destination(tmp_path):
    TokenFile(tmp_path / 'unicore.token').check_destination()


def test_checking_the_destination_leaves_nothing_behind(tmp_path):
    TokenFile(tmp_path / 'unicore.token').check_destination()
    assert os.listdir(tmp_path) == []


def test_a_directory_that_refuses_new_files_whatever_its_mode_says_is_named(tmp_path, monkeypatch):
    # What /proc or a read-only mount does, and what mode bits cannot show to root.
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    monkeypatch.setattr(_token_file.tempfile, 'mkstemp', refuse)
    message = refusal(TokenFile(tmp_path / 'unicore.token').check_destination)
    assert message == 'dest: cannot write to directory %s (read-only file system)' % tmp_path


def test_a_missing_directory_is_named(tmp_path):
    missing = tmp_path / 'no-such-dir'
    message = refusal(TokenFile(missing / 'unicore.token').check_destination)
    assert message == 'dest: directory %s does not exist' % missing


def test_a_directory_is_not_a_token_file(tmp_path):
    (tmp_path / 'tokens').mkdir()
    message = refusal(TokenFile(tmp_path / 'tokens').check_destination)
    assert message == 'dest: %s is a directory; give the path of a file' % (tmp_path / 'tokens')


@pytest.mark.parametrize('target', ['victim.txt', 'missing-target', 'subdir'])
def test_a_symbolic_link_is_refused_whatever_it_points_to(tmp_path, target):
    (tmp_path / 'victim.txt').write_text('precious\n')
    (tmp_path / 'subdir').mkdir()
    link = tmp_path / 'unicore.token'
    link.symlink_to(tmp_path / target)
    message = refusal(TokenFile(link).check_destination)
    assert message == ('dest: %s is a symbolic link; give the path of the file itself '
                       '(token files are never written through links)' % link)
    assert (tmp_path / 'victim.txt').read_text() == 'precious\n'


def test_an_unwritable_directory_is_named(tmp_path, monkeypatch):
    directory = tmp_path / 'readonly'
    directory.mkdir()
    directory.chmod(0o500)
    if os.geteuid() == 0:
        # root passes every permission check, and a read-only bind mount needs
        # privileges the test cannot count on: let access() answer as it would
        # for an ordinary user of this 0500 directory.
        real_access = os.access
        monkeypatch.setattr(_token_file.os, 'access',
                            lambda path, how: False if str(path) == str(directory) and how & os.W_OK else real_access(path, how))
    try:
        message = refusal(TokenFile(directory / 'unicore.token').check_destination)
    finally:
        directory.chmod(0o700)
    assert message == 'dest: cannot write to directory %s (permission denied)' % directory


def test_a_relative_dest_and_a_home_dest_are_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert TokenFile('unicore.token').path == str(tmp_path / 'unicore.token')
    assert TokenFile('~/unicore.token').path == str(tmp_path / 'home' / 'unicore.token')
    assert TokenFile('~/unicore.token').site_path == str(tmp_path / 'home' / 'unicore.token.site')


# ---------------------------------------------------------------- reading

def test_reading_an_absent_file_gives_none(tmp_path):
    token_file = TokenFile(tmp_path / 'unicore.token')
    assert (token_file.exists(), token_file.read(), token_file.site_record()) == (False, None, None)


def test_reading_gives_the_token_without_its_line_end_and_the_site_record(kept_file):
    assert kept_file.read() == OLD_TOKEN
    assert kept_file.site_record() == {'url': SITE, 'issuer': SITE_DN}


def test_a_token_written_by_another_program_is_read_without_surrounding_white_space(tmp_path):
    (tmp_path / 'unicore.token').write_text('\n  %s \r\n' % OLD_TOKEN)
    assert TokenFile(tmp_path / 'unicore.token').read() == OLD_TOKEN


@pytest.mark.parametrize('target', ['elsewhere.token', 'missing-target'])
def test_a_token_is_never_read_through_a_symbolic_link(tmp_path, target):
    (tmp_path / 'elsewhere.token').write_text(OLD_TOKEN + '\n')
    link = tmp_path / 'unicore.token'
    link.symlink_to(tmp_path / target)
    token_file = TokenFile(link)
    assert token_file.exists()
    message = refusal(token_file.read)
    assert message == 'dest: %s is a symbolic link; remove it (token files are never read through links)' % link
    assert OLD_TOKEN not in message


def test_the_site_record_is_not_read_through_a_symbolic_link_either(tmp_path):
    (tmp_path / 'record').write_text(json.dumps({'url': SITE, 'issuer': SITE_DN}))
    (tmp_path / 'unicore.token.site').symlink_to(tmp_path / 'record')
    message = refusal(TokenFile(tmp_path / 'unicore.token').site_record)
    assert message == 'dest: %s is a symbolic link; remove it (token files are never read through links)' % (tmp_path / 'unicore.token.site')


def test_an_unreadable_site_record_is_named(tmp_path):
    # check_destination vets dest itself, not <dest>.site: reading it must fail cleanly on its own.
    (tmp_path / 'unicore.token.site').mkdir()
    message = refusal(TokenFile(tmp_path / 'unicore.token').site_record)
    assert message.startswith('dest: cannot read %s: ' % (tmp_path / 'unicore.token.site'))


def test_a_file_far_too_large_for_a_token_reads_as_no_token(tmp_path):
    (tmp_path / 'unicore.token').write_bytes(b'A' * (MAX_TOKEN_BYTES + 1))
    assert TokenFile(tmp_path / 'unicore.token').read() == ''


@pytest.mark.parametrize('record', ['', 'not json', '["a", "list"]', '"text"', '{"url": '])
def test_a_damaged_site_record_counts_as_none(tmp_path, record):
    (tmp_path / 'unicore.token.site').write_text(record)
    assert TokenFile(tmp_path / 'unicore.token').site_record() is None


# ---------------------------------------------------------------- writing

@pytest.fixture(params=[0o022, 0o077], ids=['umask-022', 'umask-077'])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


@pytest.mark.parametrize('mode', [0o600, 0o640, 0o400])
def test_write_keeps_the_bare_token_with_the_mode_and_the_site_record_beside_it(tmp_path, umask, mode):
    # The mode is applied as given, whatever the umask.
    token_file = TokenFile(tmp_path / 'unicore.token')
    token_file.write(NEW_TOKEN, SITE, SITE_DN, mode)
    files = snapshot(tmp_path)
    assert sorted(files) == ['unicore.token', 'unicore.token.site']
    assert files['unicore.token'] == ((NEW_TOKEN + '\n').encode(), mode)
    assert json.loads(files['unicore.token.site'][0]) == {'url': SITE, 'issuer': SITE_DN}
    assert files['unicore.token.site'][1] == mode


def test_write_replaces_a_kept_token_by_a_new_file_and_applies_a_new_mode(kept_file, tmp_path):
    os.chmod(kept_file.path, 0o644)
    old_inode = os.stat(kept_file.path).st_ino
    kept_file.write(NEW_TOKEN, SITE + '2', 'CN=OTHER', 0o600)
    # A new file renamed into place, not the old one rewritten: a reader sees the old token or the new one, never half.
    assert os.stat(kept_file.path).st_ino != old_inode
    assert snapshot(tmp_path)['unicore.token'] == ((NEW_TOKEN + '\n').encode(), 0o600)
    assert kept_file.site_record() == {'url': SITE + '2', 'issuer': 'CN=OTHER'}


def test_write_replaces_a_link_at_dest_instead_of_writing_through_it(tmp_path):
    victim = tmp_path / 'victim.txt'
    victim.write_text('precious\n')
    (tmp_path / 'unicore.token').symlink_to(victim)
    TokenFile(tmp_path / 'unicore.token').write(NEW_TOKEN, SITE, SITE_DN, 0o600)
    assert victim.read_text() == 'precious\n'
    assert not os.path.islink(tmp_path / 'unicore.token')
    assert (tmp_path / 'unicore.token').read_text() == NEW_TOKEN + '\n'


def _failing(name, after=0):
    """A replacement for os.<name> that fails with EIO after ``after`` successful calls."""
    real = getattr(os, name)
    calls = []

    def fail(*args, **kwargs):
        calls.append(args)
        if len(calls) > after:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(*args, **kwargs)
    return fail


@pytest.mark.parametrize('name, after', [
    ('fsync', 0),    # while staging the site record
    ('fsync', 1),    # while staging the token
    ('fchmod', 1),
    ('replace', 0),  # renaming the site record into place
])
def test_a_failure_before_the_token_is_renamed_leaves_the_kept_files_byte_for_byte_and_no_temporary_file(
        kept_file, tmp_path, monkeypatch, name, after):
    before = snapshot(tmp_path)
    monkeypatch.setattr(_token_file.os, name, _failing(name, after))
    message = refusal(kept_file.write, NEW_TOKEN, SITE, 'CN=OTHER', 0o600)
    monkeypatch.undo()
    assert message == 'dest: cannot write %s: %s' % (kept_file.path, os.strerror(errno.EIO))
    assert NEW_TOKEN not in message
    assert snapshot(tmp_path) == before


def test_a_failed_rename_of_the_token_itself_leaves_the_kept_token_and_no_temporary_file(kept_file, tmp_path, monkeypatch):
    before = snapshot(tmp_path)
    monkeypatch.setattr(_token_file.os, 'replace', _failing('replace', after=1))
    refusal(kept_file.write, NEW_TOKEN, SITE, SITE_DN, 0o600)
    monkeypatch.undo()
    after = snapshot(tmp_path)
    assert sorted(after) == ['unicore.token', 'unicore.token.site']
    assert after['unicore.token'] == before['unicore.token']


def test_a_failure_in_a_fresh_directory_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(_token_file.os, 'fsync', _failing('fsync', after=1))
    refusal(TokenFile(tmp_path / 'unicore.token').write, NEW_TOKEN, SITE, SITE_DN, 0o600)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- removing

def test_remove_deletes_the_token_and_its_record_and_says_whether_there_was_anything(kept_file, tmp_path):
    assert kept_file.remove() is True
    assert os.listdir(tmp_path) == []
    assert kept_file.remove() is False


def test_remove_deletes_a_leftover_record_without_a_token(tmp_path):
    (tmp_path / 'unicore.token.site').write_text('{}')
    assert TokenFile(tmp_path / 'unicore.token').remove() is True
    assert os.listdir(tmp_path) == []


def test_remove_deletes_a_link_at_dest_not_its_target(tmp_path):
    victim = tmp_path / 'victim.txt'
    victim.write_text('precious\n')
    (tmp_path / 'unicore.token').symlink_to(victim)
    assert TokenFile(tmp_path / 'unicore.token').remove() is True
    assert os.listdir(tmp_path) == ['victim.txt']


def test_a_failing_removal_is_named(tmp_path):
    (tmp_path / 'unicore.token').mkdir()
    message = refusal(TokenFile(tmp_path / 'unicore.token').remove)
    assert message.startswith('dest: cannot remove %s: ' % (tmp_path / 'unicore.token'))

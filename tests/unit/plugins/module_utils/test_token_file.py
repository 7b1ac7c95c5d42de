# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token file at dest: where it may be, how it is read, that writing it is atomic, and that nothing put at dest changes another file."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _token_file
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._private_files import FileWriteError
from ansible_collections.unicore.auth.plugins.module_utils._token_file import MAX_TOKEN_BYTES, TokenFile, parse_mode

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
# Tokens with the claims a UNICORE site writes (sub, iat, exp): only such a token is ever written.
OLD_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbGQiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.b2xkLXNpZw'
NEW_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJuZXciLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.bmV3LXNpZw'
NOBODY = 65534
NOT_A_REGULAR_FILE = 'dest: %s is %s, not a regular file; remove it (only a regular file is kept as a token file)'
THROUGH_A_LINK = 'dest: %s is a symbolic link; remove it (token files are never read through links)'
SHARED_DIRECTORY = ('dest: directory %s can be written to by other users (%s): another user could replace the token file, '
                    'or swap it for a link, between the checks and its use; keep the token in a directory that only you '
                    'or root can write to, or in a sticky directory of yours or root\'s, such as /tmp')
ANOTHER_OWNER = ('dest: %s belongs to uid %d; in a directory other users can write to, only a file of your own '
                 '(uid %d) is kept, since its owner could put a token of their choosing in it')
root_only = pytest.mark.skipif(os.geteuid() != 0, reason='only root can give a file or directory to another uid (65534, nobody)')


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


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def plant_precious(path):
    """A 0600 file that must keep its content and mode whatever happens at dest."""
    path.write_text('precious\n')
    path.chmod(0o600)
    return path


def swap_for_link(path, target):
    """Put a link to ``target`` at ``path`` in one rename, as an attacker racing the module would."""
    os.symlink(target, str(path) + '.swap')
    os.replace(str(path) + '.swap', path)


@pytest.fixture
def sticky_dir(tmp_path):
    """A directory like /tmp: everybody may write to it, and only a file's owner may rename or remove the file."""
    directory = tmp_path / 'tmp'
    directory.mkdir()
    directory.chmod(0o1777)
    return directory


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
    assert kept_file.site_record() == {'url': SITE, 'issuer': SITE_DN, 'clock_offset': 0}


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


def test_a_directory_in_place_of_the_site_record_is_refused_by_reading(tmp_path):
    # check_destination vets dest itself, not <dest>.site: beside a new token the rename replaces the record,
    # and beside a kept one reading it must fail on its own.
    (tmp_path / 'unicore.token.site').mkdir()
    token_file = TokenFile(tmp_path / 'unicore.token')
    assert refusal(token_file.site_record) == NOT_A_REGULAR_FILE % (token_file.site_path, 'a directory')


def test_a_file_far_too_large_for_a_token_reads_as_no_token(tmp_path):
    (tmp_path / 'unicore.token').write_bytes(b'A' * (MAX_TOKEN_BYTES + 1))
    assert TokenFile(tmp_path / 'unicore.token').read() == ''


@pytest.mark.parametrize('record', ['', 'not json', '["a", "list"]', '"text"', '{"url": '])
def test_a_damaged_site_record_counts_as_none(tmp_path, record):
    (tmp_path / 'unicore.token.site').write_text(record)
    assert TokenFile(tmp_path / 'unicore.token').site_record() is None


# ---------------------------------------------------------------- what may be at dest

@pytest.mark.parametrize('name', ['unicore.token', 'unicore.token.site'])
def test_a_fifo_at_dest_or_its_record_is_refused_at_once(tmp_path, deadline, name):
    # Opening a FIFO to read would otherwise wait until someone writes to it.
    os.mkfifo(tmp_path / name)
    token_file = TokenFile(tmp_path / 'unicore.token')
    expected = NOT_A_REGULAR_FILE % (tmp_path / name, 'a FIFO')
    if name == 'unicore.token':
        assert refusal(token_file.check_destination) == expected
    assert refusal(token_file.read if name == 'unicore.token' else token_file.site_record) == expected
    assert refusal(token_file.ensure_mode, 0o600) == expected


def test_a_fifo_put_at_dest_after_the_check_is_refused_at_once_when_reading(kept_file, deadline):
    kept_file.check_destination()
    os.unlink(kept_file.path)
    os.mkfifo(kept_file.path)
    assert refusal(kept_file.read) == NOT_A_REGULAR_FILE % (kept_file.path, 'a FIFO')


def test_ensure_mode_refuses_a_link_at_dest_and_leaves_its_target_alone(tmp_path):
    precious = plant_precious(tmp_path / 'precious')
    (tmp_path / 'unicore.token').symlink_to(precious)
    message = refusal(TokenFile(tmp_path / 'unicore.token').ensure_mode, 0o644)
    assert message == THROUGH_A_LINK % (tmp_path / 'unicore.token')
    assert (precious.read_text(), mode_of(precious)) == ('precious\n', 0o600)


@pytest.mark.parametrize('name', ['unicore.token', 'unicore.token.site'])
def test_a_link_swapped_in_between_the_check_and_ensure_mode_leaves_its_target_alone(kept_file, tmp_path, name):
    # The reported attack: dest passes the checks, then becomes a link to a file the attacker wants readable.
    precious = plant_precious(tmp_path / 'precious')
    kept_file.check_destination()
    assert kept_file.read() == OLD_TOKEN
    swap_for_link(tmp_path / name, precious)
    message = refusal(kept_file.ensure_mode, 0o644)
    assert message == THROUGH_A_LINK % (tmp_path / name)
    assert (precious.read_text(), mode_of(precious)) == ('precious\n', 0o600)


def test_ensure_mode_puts_back_the_mode_of_both_files_on_their_descriptors_never_by_path(kept_file, monkeypatch):
    os.chmod(kept_file.path, 0o644)
    os.chmod(kept_file.site_path, 0o640)
    monkeypatch.setattr(_token_file.os, 'chmod', _failing('chmod'))
    assert kept_file.ensure_mode(0o600) is True
    assert (mode_of(kept_file.path), mode_of(kept_file.site_path)) == (0o600, 0o600)
    assert kept_file.ensure_mode(0o600) is False


def test_ensure_mode_in_check_mode_tells_without_changing(kept_file):
    os.chmod(kept_file.path, 0o644)
    assert kept_file.ensure_mode(0o600, check_mode=True) is True
    assert mode_of(kept_file.path) == 0o644


def test_ensure_mode_without_a_file_changes_nothing(tmp_path):
    assert TokenFile(tmp_path / 'unicore.token').ensure_mode(0o600) is False
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- directories other users can write to

@pytest.mark.parametrize('mode', [0o770, 0o730, 0o703, 0o777, 0o2775], ids='{:04o}'.format)
def test_a_directory_other_users_can_write_to_is_refused_before_any_read_saying_why(tmp_path, mode):
    directory = tmp_path / 'shared'
    directory.mkdir()
    directory.chmod(mode)
    (directory / 'unicore.token').write_text(OLD_TOKEN + '\n')
    token_file = TokenFile(directory / 'unicore.token')
    expected = SHARED_DIRECTORY % (directory, 'mode %04o' % mode)
    for operation in (token_file.check_destination, token_file.read, token_file.site_record):
        assert refusal(operation) == expected
    assert refusal(token_file.ensure_mode, 0o600) == expected
    assert OLD_TOKEN not in expected


def test_a_sticky_directory_like_tmp_keeps_a_token_file_of_ones_own(sticky_dir):
    token_file = TokenFile(sticky_dir / 'unicore.token')
    token_file.check_destination()
    token_file.write(NEW_TOKEN, SITE, SITE_DN, 0o600)
    token_file.check_destination()
    assert (token_file.read(), token_file.site_record()) == (NEW_TOKEN, {'url': SITE, 'issuer': SITE_DN, 'clock_offset': 0})
    assert os.stat(token_file.path).st_uid == os.geteuid()
    os.chmod(token_file.path, 0o644)
    assert token_file.ensure_mode(0o600) is True
    assert mode_of(token_file.path) == 0o600


@root_only
@pytest.mark.parametrize('name', ['unicore.token', 'unicore.token.site'])
def test_in_a_sticky_directory_a_file_of_another_user_is_refused_naming_its_uid(sticky_dir, name):
    token_file = TokenFile(sticky_dir / 'unicore.token')
    token_file.write(OLD_TOKEN, SITE, SITE_DN, 0o600)
    os.chown(sticky_dir / name, NOBODY, NOBODY)
    expected = ANOTHER_OWNER % (sticky_dir / name, NOBODY, os.geteuid())
    if name == 'unicore.token':
        assert refusal(token_file.check_destination) == expected
    assert refusal(token_file.read if name == 'unicore.token' else token_file.site_record) == expected
    assert refusal(token_file.ensure_mode, 0o644) == expected
    assert mode_of(sticky_dir / name) == 0o600


@root_only
def test_in_a_sticky_directory_a_forged_token_planted_after_the_check_is_not_read(sticky_dir):
    token_file = TokenFile(sticky_dir / 'unicore.token')
    token_file.check_destination()
    (sticky_dir / 'unicore.token').write_text(OLD_TOKEN + '\n')
    os.chown(sticky_dir / 'unicore.token', NOBODY, NOBODY)
    message = refusal(token_file.read)
    assert message == ANOTHER_OWNER % (token_file.path, NOBODY, os.geteuid())
    assert OLD_TOKEN not in message


@root_only
@pytest.mark.parametrize('mode, reasons', [
    (0o755, 'it belongs to uid %d' % NOBODY),
    # Its owner can rename or remove any file in it, sticky or not.
    (0o1777, 'mode 1777, it belongs to uid %d' % NOBODY),
], ids=['0755', 'sticky-1777'])
def test_a_directory_of_another_user_is_refused_saying_whose_it_is(tmp_path, mode, reasons):
    directory = tmp_path / 'theirs'
    directory.mkdir()
    directory.chmod(mode)
    os.chown(directory, NOBODY, NOBODY)
    token_file = TokenFile(directory / 'unicore.token')
    assert refusal(token_file.check_destination) == SHARED_DIRECTORY % (directory, reasons)
    assert os.listdir(directory) == []


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
    assert json.loads(files['unicore.token.site'][0]) == {'url': SITE, 'issuer': SITE_DN, 'clock_offset': 0}
    assert files['unicore.token.site'][1] == mode


def test_write_replaces_a_kept_token_by_a_new_file_and_applies_a_new_mode(kept_file, tmp_path):
    os.chmod(kept_file.path, 0o644)
    old_inode = os.stat(kept_file.path).st_ino
    kept_file.write(NEW_TOKEN, SITE + '2', 'CN=OTHER', 0o600)
    # A new file renamed into place, not the old one rewritten: a reader sees the old token or the new one, never half.
    assert os.stat(kept_file.path).st_ino != old_inode
    assert snapshot(tmp_path)['unicore.token'] == ((NEW_TOKEN + '\n').encode(), 0o600)
    assert kept_file.site_record() == {'url': SITE + '2', 'issuer': 'CN=OTHER', 'clock_offset': 0}


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


# ---------------------------------------------------------------- crashes and full disks


def plant_copy(directory, name, data=b'a token a killed run left\n'):
    path = directory / ('.%s.k1ll3d_0.tmp' % name)
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def test_writing_removes_the_copies_a_killed_run_left_of_the_token_and_its_record(kept_file, tmp_path):
    copies = [plant_copy(tmp_path, 'unicore.token'), plant_copy(tmp_path, 'unicore.token.site')]
    kept_file.write(NEW_TOKEN, SITE, SITE_DN, 0o600)
    assert not any(os.path.lexists(copy) for copy in copies)
    assert sorted(os.listdir(tmp_path)) == ['unicore.token', 'unicore.token.site']
    assert kept_file.read() == NEW_TOKEN


def test_removing_the_token_removes_the_copies_a_killed_run_left(kept_file, tmp_path):
    plant_copy(tmp_path, 'unicore.token')
    assert kept_file.remove() is True
    assert os.listdir(tmp_path) == []


def test_no_room_for_a_new_token_is_found_before_one_is_issued(kept_file, tmp_path, monkeypatch, fill_disk):
    before = snapshot(tmp_path)
    fill_disk()
    with pytest.raises(FileWriteError) as error:
        kept_file.check_room()
    monkeypatch.undo()
    assert str(error.value) == ('dest: cannot write %s: No space left on device (no token was issued, and the kept files are unchanged)'
                                % kept_file.path)
    assert error.value.no_room
    assert snapshot(tmp_path) == before


def test_room_for_a_new_token_leaves_nothing_behind(kept_file, tmp_path):
    before = snapshot(tmp_path)
    kept_file.check_room()
    assert snapshot(tmp_path) == before


def test_writing_on_a_full_disk_names_dest_and_the_cause_and_changes_nothing(kept_file, tmp_path, monkeypatch, fill_disk):
    before = snapshot(tmp_path)
    fill_disk()
    with pytest.raises(FileWriteError) as error:
        kept_file.write(NEW_TOKEN, SITE, SITE_DN, 0o600)
    monkeypatch.undo()
    assert str(error.value) == 'dest: cannot write %s: No space left on device' % kept_file.path
    assert snapshot(tmp_path) == before

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private files: never read through links, only regular files, staged with their mode, replaced atomically, in directories only their user can change."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import stat
import tempfile

import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _private_files
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._private_files import (
    FileLock,
    FileWriteError,
    ensure_private_directory,
    open_private,
    read_private,
    remove_stale_temporaries,
    stage_private,
    write_private,
)


def refusal(operation, *args, **kwargs):
    with pytest.raises(UnicoreError) as error:
        operation(*args, **kwargs)
    return str(error.value)


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def failing(name):
    """A replacement for os.<name> that fails with EIO."""
    def fail(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    return fail


NOT_A_REGULAR_FILE = '%s: %s is %s, not a regular file; remove it (only a regular file is kept as a token file)'
NOBODY = 65534
root_only = pytest.mark.skipif(os.geteuid() != 0, reason='only root can give a file to another uid (65534, nobody)')


@pytest.fixture(params=[0o022, 0o077], ids=['umask-022', 'umask-077'])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def open_descriptors():
    return len(os.listdir('/proc/self/fd'))


def make_fifo(path):
    os.mkfifo(path)


def make_directory(path):
    os.mkdir(path)


def make_socket(path):
    # The socket's name stays in the directory after it is closed.
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)


# ---------------------------------------------------------------- read_private

def test_reading_gives_the_bytes_of_the_file(tmp_path):
    (tmp_path / 'entry').write_bytes(b'\x00token\n')
    assert read_private(str(tmp_path / 'entry'), 'cache_dir') == b'\x00token\n'


def test_reading_an_absent_file_gives_none(tmp_path):
    assert read_private(str(tmp_path / 'absent'), 'dest') is None


@pytest.mark.parametrize('target', ['elsewhere', 'missing-target'])
def test_a_file_is_never_read_through_a_symbolic_link_and_the_message_names_option_and_path(tmp_path, target):
    (tmp_path / 'elsewhere').write_text('planted')
    (tmp_path / 'entry').symlink_to(tmp_path / target)
    message = refusal(read_private, str(tmp_path / 'entry'), 'cache_dir')
    assert message == 'cache_dir: %s is a symbolic link; remove it (token files are never read through links)' % (tmp_path / 'entry')


@pytest.mark.parametrize('make, kind', [(make_fifo, 'a FIFO'), (make_directory, 'a directory'), (make_socket, 'a socket')],
                         ids=['fifo', 'directory', 'socket'])
def test_anything_but_a_regular_file_is_refused_at_once_saying_what_it_is(tmp_path, deadline, make, kind):
    # A FIFO would otherwise block the reader until some writer came, if ever.
    make(str(tmp_path / 'entry'))
    message = refusal(read_private, str(tmp_path / 'entry'), 'dest')
    assert message == NOT_A_REGULAR_FILE % ('dest', tmp_path / 'entry', kind)


def test_a_device_is_refused_saying_what_it_is(deadline):
    message = refusal(read_private, os.devnull, 'cache_dir')
    assert message == NOT_A_REGULAR_FILE % ('cache_dir', os.devnull, 'a device')


@pytest.mark.skipif(not os.path.isdir('/proc/self/fd'), reason='counting open descriptors needs /proc/self/fd')
def test_a_refused_file_leaves_no_descriptor_open(tmp_path, deadline):
    os.mkfifo(tmp_path / 'entry')
    before = open_descriptors()
    refusal(open_private, str(tmp_path / 'entry'), 'dest')
    assert open_descriptors() == before


def test_a_file_that_cannot_be_opened_is_named_with_the_cause(tmp_path, monkeypatch):
    (tmp_path / 'entry').write_bytes(b'token')
    monkeypatch.setattr(_private_files.os, 'open', failing('open'))
    message = refusal(read_private, str(tmp_path / 'entry'), 'dest')
    assert message == 'dest: cannot read %s: %s' % (tmp_path / 'entry', os.strerror(errno.EIO))


def test_open_private_gives_a_read_only_descriptor_of_the_file(tmp_path):
    (tmp_path / 'entry').write_bytes(b'token')
    descriptor = open_private(str(tmp_path / 'entry'), 'dest')
    try:
        assert os.fstat(descriptor).st_ino == os.stat(tmp_path / 'entry').st_ino
        assert os.read(descriptor, 100) == b'token'
    finally:
        os.close(descriptor)
    assert open_private(str(tmp_path / 'absent'), 'dest') is None


def test_with_owner_a_file_of_ones_own_is_read(tmp_path):
    (tmp_path / 'entry').write_bytes(b'token')
    assert read_private(str(tmp_path / 'entry'), 'dest', owner=os.geteuid()) == b'token'


@root_only
def test_with_owner_a_file_of_another_uid_is_refused_naming_that_uid(tmp_path):
    (tmp_path / 'entry').write_bytes(b'planted')
    os.chown(tmp_path / 'entry', NOBODY, NOBODY)
    message = refusal(read_private, str(tmp_path / 'entry'), 'dest', owner=os.geteuid())
    assert message == ('dest: %s belongs to uid %d; in a directory other users can write to, only a file of your own '
                       '(uid %d) is kept, since its owner could put a token of their choosing in it'
                       % (tmp_path / 'entry', NOBODY, os.geteuid()))
    assert 'planted' not in message


def test_with_max_bytes_at_most_one_byte_more_is_read(tmp_path):
    (tmp_path / 'entry').write_bytes(b'A' * 100)
    assert read_private(str(tmp_path / 'entry'), 'dest', max_bytes=10) == b'A' * 11
    assert read_private(str(tmp_path / 'entry'), 'dest', max_bytes=100) == b'A' * 100


# ---------------------------------------------------------------- stage_private

@pytest.mark.parametrize('mode', [0o600, 0o640, 0o400])
def test_a_staged_copy_lies_beside_the_path_with_the_data_and_the_mode_whatever_the_umask(tmp_path, umask, mode):
    staged = stage_private(str(tmp_path / 'unicore.token'), b'token\n', mode)
    temporary = staged.temporary
    assert os.path.dirname(temporary) == str(tmp_path)
    assert os.path.basename(temporary).startswith('.unicore.token.')
    with open(temporary, 'rb') as handle:
        assert handle.read() == b'token\n'
    assert mode_of(temporary) == mode
    assert not os.path.exists(tmp_path / 'unicore.token')
    staged.discard()
    assert os.listdir(tmp_path) == []


def test_the_mode_is_set_on_the_descriptor_before_any_data_is_written(tmp_path, monkeypatch):
    # Set by path, the mode could land on a file another process swapped in.
    calls = []
    real_fchmod = os.fchmod
    monkeypatch.setattr(_private_files.os, 'chmod', failing('chmod'))
    monkeypatch.setattr(_private_files.os, 'fchmod',
                        lambda descriptor, mode: calls.append((os.fstat(descriptor).st_size, mode)) or real_fchmod(descriptor, mode))
    stage_private(str(tmp_path / 'unicore.token'), b'token\n', 0o600).discard()
    assert calls == [(0, 0o600)]


@pytest.mark.parametrize('name', ['fchmod', 'fsync'])
def test_a_failed_staging_raises_os_error_and_leaves_nothing_behind(tmp_path, monkeypatch, name):
    monkeypatch.setattr(_private_files.os, name, failing(name))
    with pytest.raises(OSError):
        stage_private(str(tmp_path / 'unicore.token'), b'token\n', 0o600)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- write_private

def test_writing_replaces_the_file_by_a_new_one_with_the_mode(tmp_path):
    path = tmp_path / 'entry'
    path.write_bytes(b'old')
    path.chmod(0o644)
    old_inode = os.stat(path).st_ino
    write_private(str(path), b'new', 0o600, 'cache_dir')
    # A new file renamed into place, not the old one rewritten: a reader sees the old data or the new, never half.
    assert os.stat(path).st_ino != old_inode
    assert (path.read_bytes(), mode_of(path)) == (b'new', 0o600)
    assert os.listdir(tmp_path) == ['entry']


def test_writing_replaces_a_link_instead_of_writing_through_it(tmp_path):
    victim = tmp_path / 'victim'
    victim.write_bytes(b'precious')
    (tmp_path / 'entry').symlink_to(victim)
    write_private(str(tmp_path / 'entry'), b'new', 0o600, 'cache_dir')
    assert victim.read_bytes() == b'precious'
    assert not os.path.islink(tmp_path / 'entry')
    assert (tmp_path / 'entry').read_bytes() == b'new'


@pytest.mark.parametrize('name', ['fsync', 'replace'])
def test_a_failed_write_names_the_option_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, name):
    path = tmp_path / 'entry'
    path.write_bytes(b'old')
    monkeypatch.setattr(_private_files.os, name, failing(name))
    message = refusal(write_private, str(path), b'new', 0o600, 'cache_dir')
    monkeypatch.undo()
    assert message == 'cache_dir: cannot write %s: %s' % (path, os.strerror(errno.EIO))
    assert os.listdir(tmp_path) == ['entry']
    assert path.read_bytes() == b'old'


# ---------------------------------------------------------------- ensure_private_directory

def test_a_missing_directory_is_created_private_whatever_the_umask(tmp_path, umask):
    directory = tmp_path / 'cache' / 'tokens'
    ensure_private_directory(str(directory), 'cache_dir')
    assert directory.is_dir()
    assert mode_of(directory) == 0o700


def test_an_existing_private_directory_is_accepted_as_it_is(tmp_path):
    (tmp_path / 'tokens').mkdir(mode=0o700)
    (tmp_path / 'tokens' / 'entry').write_text('kept')
    ensure_private_directory(str(tmp_path / 'tokens'), 'cache_dir', create=False)
    assert os.listdir(tmp_path / 'tokens') == ['entry']


def test_without_create_a_missing_directory_is_refused_and_not_created(tmp_path):
    message = refusal(ensure_private_directory, str(tmp_path / 'tokens'), 'cache_dir', create=False)
    assert message == 'cache_dir: directory %s does not exist' % (tmp_path / 'tokens')
    assert os.listdir(tmp_path) == []


def test_a_symbolic_link_in_place_of_the_directory_is_refused_even_to_a_private_directory(tmp_path):
    (tmp_path / 'private').mkdir(mode=0o700)
    (tmp_path / 'tokens').symlink_to(tmp_path / 'private')
    message = refusal(ensure_private_directory, str(tmp_path / 'tokens'), 'cache_dir')
    assert message == ('cache_dir: %s is a symbolic link; give the directory itself '
                       '(private directories are never reached through links)' % (tmp_path / 'tokens'))


def test_a_file_in_place_of_the_directory_is_refused(tmp_path):
    (tmp_path / 'tokens').write_text('')
    message = refusal(ensure_private_directory, str(tmp_path / 'tokens'), 'cache_dir')
    assert message == 'cache_dir: %s is not a directory' % (tmp_path / 'tokens')


def test_a_directory_that_cannot_be_created_is_named_with_the_cause(tmp_path):
    (tmp_path / 'file').write_text('')
    message = refusal(ensure_private_directory, str(tmp_path / 'file' / 'tokens'), 'cache_dir')
    assert message == 'cache_dir: cannot create %s: %s' % (tmp_path / 'file' / 'tokens', os.strerror(errno.ENOTDIR))


def test_a_directory_of_another_user_is_refused(tmp_path):
    if os.geteuid() == 0:
        directory = tmp_path / 'tokens'
        directory.mkdir(mode=0o700)
        os.chown(directory, 4242, 4242)
    else:
        # Without root the test cannot give a directory away; the file system root belongs to root.
        directory = '/'
    message = refusal(ensure_private_directory, str(directory), 'cache_dir', create=False)
    assert message == 'cache_dir: %s belongs to another user; a private directory must be your own' % directory


@pytest.mark.parametrize('mode', [0o770, 0o720, 0o703, 0o777])
def test_a_directory_others_can_write_to_is_refused_with_its_mode(tmp_path, mode):
    directory = tmp_path / 'tokens'
    directory.mkdir()
    directory.chmod(mode)
    message = refusal(ensure_private_directory, str(directory), 'cache_dir')
    assert message == 'cache_dir: %s is writable by other users (mode %o); make it 0700' % (directory, mode)


# ---------------------------------------------------------------- crashes: killed writers, stale copies, syncing

def killed_at(step, path, data):
    """Fork a writer of ``data`` to ``path`` that SIGKILLs itself right after the file operation ``step``; its wait status."""
    pid = os.fork()
    if pid == 0:  # the writer: it never returns
        try:
            real = getattr(os, step) if step != 'mkstemp' else tempfile.mkstemp

            def then_die(*args, **kwargs):
                result = real(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGKILL)
                return result
            if step == 'mkstemp':
                _private_files.tempfile = type('TempfileThenDie', (), {'mkstemp': staticmethod(then_die)})
            else:
                _private_files.os = type('OsThenDie', (), {'__getattr__': lambda self, name: getattr(os, name), step: staticmethod(then_die)})()
            write_private(path, data, 0o600, 'cache_dir')
        finally:
            os._exit(70)  # pylint: disable=protected-access
    return os.waitpid(pid, 0)[1]


def temporaries(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith('.tmp'))


@pytest.mark.parametrize('step, outcome', [
    ('mkstemp', 'old'), ('write', 'old'), ('fsync', 'old'), ('replace', 'new'),
])
def test_a_writer_killed_at_any_step_leaves_the_old_file_or_the_new_one_and_the_next_write_cleans_up(tmp_path, step, outcome):
    path = tmp_path / 'entry'
    write_private(str(path), b'old data\n', 0o600, 'cache_dir')
    status = killed_at(step, str(path), b'new data\n')
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert path.read_bytes() == (b'old data\n' if outcome == 'old' else b'new data\n')
    assert mode_of(path) == 0o600
    left = temporaries(tmp_path)
    # Killed before the rename: a private copy is left (empty before the write), never readable by others.
    assert len(left) == (1 if outcome == 'old' else 0)
    assert all(mode_of(tmp_path / name) == 0o600 for name in left)
    write_private(str(path), b'next data\n', 0o600, 'cache_dir')
    assert path.read_bytes() == b'next data\n'
    if step == 'mkstemp':
        # Empty, and perhaps a writer's that has not locked it yet: left for the grace period, then removed.
        assert temporaries(tmp_path) == left and (tmp_path / left[0]).stat().st_size == 0
        age(tmp_path / left[0], _private_files.EMPTY_TEMPORARY_GRACE + 1)
        write_private(str(path), b'last data\n', 0o600, 'cache_dir')
    assert temporaries(tmp_path) == []


def age(path, seconds):
    status = os.lstat(path)
    os.utime(path, (status.st_atime - seconds, status.st_mtime - seconds))


def test_a_copy_that_a_live_writer_holds_is_never_removed(tmp_path):
    staged = stage_private(str(tmp_path / 'entry'), b'data', 0o600)
    age(staged.temporary, 3600)
    assert remove_stale_temporaries(str(tmp_path)) == 0
    assert os.path.exists(staged.temporary)
    staged.commit()
    assert os.listdir(tmp_path) == ['entry']


def test_a_staged_copy_is_locked_until_it_is_renamed(tmp_path):
    staged = stage_private(str(tmp_path / 'entry'), b'data', 0o600)
    descriptor = os.open(staged.temporary, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        staged.commit()
        # The same file, now at its name: let go of.
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(descriptor)


def plant_copy(directory, name, data=b'left by a killed writer', suffix='.tmp'):
    path = os.path.join(str(directory), '.%s.abcd_123%s' % (name, suffix))
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    return path


def test_only_copies_of_the_name_are_removed_and_only_regular_files_of_ones_own(tmp_path):
    mine = [plant_copy(tmp_path, 'unicore.token'), plant_copy(tmp_path, 'unicore.token.site'),
            plant_copy(tmp_path, 'unicore.token', suffix='.probe')]
    other_name = plant_copy(tmp_path, 'unicore.tokens')
    not_a_copy = str(tmp_path / '.unicore.token.tmp')
    with open(not_a_copy, 'wb') as handle:
        handle.write(b'a file of the user')
    victim = tmp_path / 'victim'
    victim.write_bytes(b'precious')
    link = str(tmp_path / '.unicore.token.link_123.tmp')
    os.symlink(victim, link)
    assert remove_stale_temporaries(str(tmp_path), 'unicore.token') == 3
    assert not any(os.path.lexists(path) for path in mine)
    assert os.path.exists(other_name) and os.path.exists(not_a_copy) and os.path.islink(link)
    assert victim.read_bytes() == b'precious'


def test_a_write_sweeps_for_its_copies_unless_the_caller_swept_the_directory_itself(tmp_path, monkeypatch):
    # remove_stale=False is for the token cache, which sweeps its whole directory when it is opened.
    sweeps = []
    real_sweep = remove_stale_temporaries
    monkeypatch.setattr(_private_files, 'remove_stale_temporaries', lambda *args: sweeps.append(args) or real_sweep(*args))
    copy = plant_copy(tmp_path, 'entry')
    write_private(str(tmp_path / 'entry'), b'new', 0o600, 'cache_dir', remove_stale=False)
    assert sweeps == [] and os.path.exists(copy)
    assert (tmp_path / 'entry').read_bytes() == b'new'
    write_private(str(tmp_path / 'entry'), b'newer', 0o600, 'cache_dir')
    assert sweeps == [(str(tmp_path), 'entry')] and not os.path.exists(copy)


@root_only
def test_a_copy_of_another_user_is_left_alone(tmp_path):
    path = plant_copy(tmp_path, 'entry')
    os.chown(path, NOBODY, NOBODY)
    assert remove_stale_temporaries(str(tmp_path)) == 0
    assert os.path.exists(path)


def test_a_lock_dies_with_the_process_that_held_it(tmp_path):
    lock_path = str(tmp_path / 'entry.lock')
    pid = os.fork()
    if pid == 0:
        try:
            FileLock(lock_path, 'cache_dir').acquire()
            os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(70)  # pylint: disable=protected-access
    os.waitpid(pid, 0)
    descriptor = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise BlockingIOError if the lock had outlived its holder
    finally:
        os.close(descriptor)


def test_the_data_is_synced_before_the_rename_and_the_directory_after_it(tmp_path, monkeypatch):
    # What SIGKILL cannot show: after a power cut, the name must hold the old data or the new, never an empty file.
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(_private_files.os, 'fsync',
                        lambda descriptor: calls.append('fsync %s' % ('directory' if stat.S_ISDIR(os.fstat(descriptor).st_mode) else 'file'))
                        or real_fsync(descriptor))
    monkeypatch.setattr(_private_files.os, 'replace', lambda source, target: calls.append('replace') or real_replace(source, target))
    write_private(str(tmp_path / 'entry'), b'data', 0o600, 'cache_dir')
    assert calls == ['fsync file', 'replace', 'fsync directory']


def test_a_failed_directory_sync_after_the_rename_is_no_failure(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def fsync(descriptor):
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        real_fsync(descriptor)
    monkeypatch.setattr(_private_files.os, 'fsync', fsync)
    write_private(str(tmp_path / 'entry'), b'data', 0o600, 'cache_dir')
    assert (tmp_path / 'entry').read_bytes() == b'data'


def test_a_write_on_a_full_file_system_says_so_and_leaves_the_old_file_and_no_copy(tmp_path, monkeypatch, fill_disk):
    path = tmp_path / 'entry'
    path.write_bytes(b'old')
    fill_disk()
    with pytest.raises(FileWriteError) as error:
        write_private(str(path), b'new', 0o600, 'cache_dir')
    monkeypatch.undo()
    assert str(error.value) == 'cache_dir: cannot write %s: No space left on device' % path
    assert (error.value.errno, error.value.no_room) == (errno.ENOSPC, True)
    assert os.listdir(tmp_path) == ['entry'] and path.read_bytes() == b'old'


def test_other_write_failures_are_no_lack_of_room(tmp_path, monkeypatch):
    monkeypatch.setattr(_private_files.os, 'fsync', failing('fsync'))
    with pytest.raises(FileWriteError) as error:
        write_private(str(tmp_path / 'entry'), b'new', 0o600, 'cache_dir')
    assert (error.value.errno, error.value.no_room) == (errno.EIO, False)


def test_no_room_for_a_private_directory_says_so(tmp_path, monkeypatch):
    def makedirs(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(_private_files.os, 'makedirs', makedirs)
    with pytest.raises(FileWriteError) as error:
        ensure_private_directory(str(tmp_path / 'tokens'), 'cache_dir')
    assert str(error.value) == 'cache_dir: cannot create %s: No space left on device' % (tmp_path / 'tokens')
    assert error.value.no_room


class NoRoomForNewFilesOs:
    """``os`` for _private_files as on a file system where not even an empty file can be created (ENOSPC)."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def open(path, flags, mode=0o777):
        if flags & os.O_CREAT:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.open(path, flags, mode)


def test_no_room_for_a_lock_file_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(_private_files, 'os', NoRoomForNewFilesOs())
    with pytest.raises(FileWriteError) as error:
        FileLock(str(tmp_path / 'entry.lock'), 'cache_dir').acquire()
    assert str(error.value) == 'cache_dir: cannot lock %s: No space left on device' % (tmp_path / 'entry.lock')
    assert error.value.no_room

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup's cache_dir: refused when others could write to it or own it, or when it is a link.

The lookup runs through ansible-playbook against the test server. A refused
cache_dir must fail the lookup with a message that names cache_dir, the
directory and the cause, before any request: the server counts no request,
and nothing is written into the directory. The advice in the message works:
after chmod 0700 the same directory serves. A new cache is 0700 with 0600
files even under umask 000. Links planted inside a cache are not followed.
"""

from __future__ import annotations

import os
import pwd
import re
import stat
import tempfile

import pytest

from conftest import assert_precious_unchanged, plant_precious

NOBODY = 65534

WRITABLE_MODES = {
    'group_writable_0770': 0o770,
    'group_writable_0720': 0o720,
    'world_writable_0777': 0o777,
    'world_writable_0703': 0o703,
}


def other_owner_directory(root):
    """A directory that belongs to another user, and how it was found.

    As root, a new directory is given to nobody (uid 65534). Otherwise no user can
    give a directory away, so an existing directory of root's stands in for it:
    the lookup must refuse it before it tries to write anything.
    """
    if os.getuid() == 0:
        path = os.path.join(root, 'other_owner')
        os.mkdir(path, 0o700)
        os.chown(path, NOBODY, -1)
        return path, 'a 0700 directory chowned to uid %d (%s)' % (NOBODY, _user_name(NOBODY))
    for path in ('/usr/share', '/usr', '/'):
        status = os.lstat(path)
        if stat.S_ISDIR(status.st_mode) and status.st_uid != os.getuid():
            return path, 'the existing directory %s of uid %d (not root: cannot chown)' % (path, status.st_uid)
    raise AssertionError('no directory of another user found for the other_owner case')


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return 'no name'


def listing(path):
    return sorted(os.listdir(path))


class Layout:
    def __init__(self, root):
        self.root = root
        self.other_owner_path = None
        self.other_owner_variant = None

    def path(self, *names):
        return os.path.join(self.root, *names)


@pytest.fixture(scope='module')
def layout(work_dir):
    return Layout(tempfile.mkdtemp(prefix='cache_dir.', dir=work_dir))


@pytest.fixture(scope='module')
def refused(playbooks, control, layout, figures):
    """Every unsafe cache_dir in one run, and the server's counters of that run."""
    cases = []
    for name, mode in WRITABLE_MODES.items():
        os.mkdir(layout.path(name))
        os.chmod(layout.path(name), mode)
        cases.append({'name': name, 'cache_dir': layout.path(name)})

    layout.other_owner_path, layout.other_owner_variant = other_owner_directory(layout.root)
    print('other_owner case: %s' % layout.other_owner_variant)
    cases.append({'name': 'other_owner', 'cache_dir': layout.other_owner_path})

    os.mkdir(layout.path('own_private'), 0o700)
    os.symlink(layout.path('own_private'), layout.path('link_to_own_private'))
    cases.append({'name': 'link_to_own_private_dir', 'cache_dir': layout.path('link_to_own_private')})
    os.mkdir(layout.path('open_target'))
    os.chmod(layout.path('open_target'), 0o777)
    os.symlink(layout.path('open_target'), layout.path('link_to_open'))
    cases.append({'name': 'link_to_world_writable_dir', 'cache_dir': layout.path('link_to_open')})

    plant_precious(layout.path('a_file'))
    cases.append({'name': 'a_file', 'cache_dir': layout.path('a_file')})

    os.mkdir(layout.path('key_link'), 0o700)
    plant_precious(layout.path('key_link_target'))
    os.symlink(layout.path('key_link_target'), layout.path('key_link', 'cache.key'))
    cases.append({'name': 'key_is_a_link', 'cache_dir': layout.path('key_link')})

    control.reset()
    results, dummy = playbooks.results('lookup_cases.yml', cases)
    stats = control.stats()
    figures.record('cache_dir_refusals', {
        'cases': sorted(results), 'refused': sorted(name for name, result in results.items() if result['failed']),
        'requests': stats['requests']['total'], 'tokens_issued': stats['tokens_issued']['total'],
        'other_owner_variant': layout.other_owner_variant,
    })
    return results, stats


@pytest.mark.parametrize('case', sorted(WRITABLE_MODES))
def test_cache_dir_writable_by_others_is_refused(refused, layout, case):
    result = refused[0][case]
    assert result['failed'] and not result['digest']
    expected = 'cache_dir: %s is writable by other users (mode %o); make it 0700' % (layout.path(case), WRITABLE_MODES[case])
    assert expected in result['msg']
    assert listing(layout.path(case)) == []


def test_cache_dir_of_another_user_is_refused(refused, layout):
    result = refused[0]['other_owner']
    print('other_owner case: %s' % layout.other_owner_variant)
    assert result['failed'] and not result['digest']
    expected = 'cache_dir: %s belongs to another user' % layout.other_owner_path
    assert expected in result['msg']
    if os.getuid() == 0:
        assert listing(layout.other_owner_path) == []


def test_cache_dir_that_is_a_link_to_a_private_directory_is_refused_as_a_link(refused, layout):
    result = refused[0]['link_to_own_private_dir']
    assert result['failed'] and not result['digest']
    expected = 'cache_dir: %s' % layout.path('link_to_own_private')
    assert expected in result['msg']
    # The cause a user needs: the path is a link (it does lead to a directory).
    assert 'symbolic link' in result['msg'], result['msg']
    assert listing(layout.path('own_private')) == []


def test_cache_dir_that_is_a_link_to_an_open_directory_is_not_followed(refused, layout):
    result = refused[0]['link_to_world_writable_dir']
    assert result['failed'] and not result['digest']
    expected = 'cache_dir: %s' % layout.path('link_to_open')
    assert expected in result['msg']
    assert listing(layout.path('open_target')) == []


def test_cache_dir_that_is_a_file_is_refused(refused, layout):
    result = refused[0]['a_file']
    assert result['failed'] and not result['digest']
    expected = 'cache_dir: %s is not a directory' % layout.path('a_file')
    assert expected in result['msg']
    assert_precious_unchanged(layout.path('a_file'))


def test_cache_key_that_is_a_link_is_not_followed(refused, layout):
    result = refused[0]['key_is_a_link']
    assert result['failed'] and not result['digest']
    expected = 'cache_dir: %s is a symbolic link' % layout.path('key_link', 'cache.key')
    assert expected in result['msg']
    assert_precious_unchanged(layout.path('key_link_target'))
    assert os.path.islink(layout.path('key_link', 'cache.key'))


def test_refused_lookups_ask_the_site_for_nothing(refused):
    results, stats = refused
    assert sorted(name for name, result in results.items() if not result['failed']) == []
    assert (stats['requests']['total'], stats['tokens_issued']['total']) == (0, 0)


@pytest.fixture(scope='module')
def served(playbooks, control, layout, refused):
    """After the refusals: chmod 0700 as the message advises, and a new cache under umask 000."""
    os.chmod(layout.path('group_writable_0770'), 0o700)
    cases = [
        {'name': 'after_chmod_0700', 'cache_dir': layout.path('group_writable_0770')},
        {'name': 'new_cache_umask_000', 'cache_dir': layout.path('new', 'tokens')},
    ]
    control.reset()
    results, dummy = playbooks.results('lookup_cases.yml', cases, umask=0o000)
    return results, control.stats()


def test_the_advice_of_the_message_works(served, layout):
    results, stats = served
    assert not results['after_chmod_0700']['failed'] and results['after_chmod_0700']['digest']
    assert stats['tokens_issued']['total'] == 2


def test_a_new_cache_is_private_even_with_umask_000(served, layout):
    results = served[0]
    assert not results['new_cache_umask_000']['failed']
    directory = layout.path('new', 'tokens')
    assert stat.S_IMODE(os.lstat(directory).st_mode) == 0o700
    modes = {name: stat.S_IMODE(os.lstat(os.path.join(directory, name)).st_mode) for name in listing(directory)}
    # the key, the token entry, their locks, and the lookup's remembered answer
    assert len(modes) == 5 and set(modes.values()) == {0o600}, modes
    assert len([name for name in modes if name.startswith('answer-')]) == 1, modes


def test_an_entry_replaced_by_a_link_is_not_followed(playbooks, control, layout, served):
    directory = layout.path('new', 'tokens')
    entries = [name for name in listing(directory) if re.match(r'^token-[0-9a-f]{64}$', name)]
    assert len(entries) == 1
    entry = os.path.join(directory, entries[0])
    target = plant_precious(layout.path('entry_link_target'))
    os.unlink(entry)
    os.symlink(target, entry)
    # Without its remembered answer, the lookup must read the token entry (the unit tests plant a link at an answer).
    for name in listing(directory):
        if name.startswith('answer-'):
            os.unlink(os.path.join(directory, name))

    control.reset()
    results, dummy = playbooks.results('lookup_cases.yml', [{'name': 'entry_is_a_link', 'cache_dir': directory}])
    stats = control.stats()

    assert results['entry_is_a_link']['failed']
    expected = 'cache_dir: %s is a symbolic link' % entry
    assert expected in results['entry_is_a_link']['msg']
    assert_precious_unchanged(target)
    assert os.path.islink(entry)
    assert stats['tokens_issued']['total'] == 0

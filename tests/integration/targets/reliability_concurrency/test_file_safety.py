# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token files of unicore_auth_token: modes, symbolic links, atomic renames.

The module runs through ansible-playbook against the test server, in two
phases: the first issues the tokens some cases start from; then links are
planted and hard links kept as witnesses; the second runs the cases. Both run
with umask 000, so that every mode seen is the one the module set.

Two cases cannot be staged through a playbook, because the module picks its
temporary names at random and checks dest just before writing: a link planted
at the very temporary name, and a link planted at dest after the check. Those
call the module's own TokenFile and the lookup's TokenCache, which the module
and the lookup use to write.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._token_file import TokenFile
from ansible_collections.unicore.auth.plugins.plugin_utils._token_cache import TokenCache

from conftest import assert_precious_unchanged, plant_precious, read_bytes
from reliability_support import jwt_parts, normalised_dn

OPEN_UMASK = 0o000


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


class Layout:
    """The files of every case, each case in its own directory under one scratch directory."""

    def __init__(self, root):
        self.root = root

    def directory(self, case):
        path = os.path.join(self.root, case)
        os.makedirs(path, exist_ok=True)
        return path

    def dest(self, case):
        return os.path.join(self.directory(case), 'unicore.token')

    def precious(self, case):
        return os.path.join(self.directory(case), 'precious')


@pytest.fixture(scope='module')
def layout(work_dir):
    return Layout(tempfile.mkdtemp(prefix='file_safety.', dir=work_dir))


@pytest.fixture(scope='module')
def phase_one(playbooks, control, layout):
    """Tokens issued before the links are planted; the results, the server's count of tokens, and the inode of a token."""
    cases = [
        {'name': 'default_mode', 'dest': layout.dest('default_mode')},
        {'name': 'mode_0640', 'dest': layout.dest('mode_0640'), 'mode': '0640'},
        {'name': 'rename_first', 'dest': layout.dest('rename')},
        {'name': 'site_link_prepare', 'dest': layout.dest('site_link_kept_token')},
    ]
    control.reset()
    results, dummy = playbooks.results('module_cases.yml', cases, umask=OPEN_UMASK)
    return results, control.stats()['tokens_issued']['total'], os.lstat(layout.dest('rename')).st_ino


@pytest.fixture(scope='module')
def phase_two(playbooks, control, layout, phase_one):
    """The cases, once the links are planted and the witness kept; the results and the server's count of tokens."""
    assert not any(result['failed'] for result in phase_one[0].values()), phase_one[0]
    # A hard link keeps the first token's inode: an in-place write would change what it holds too.
    os.link(layout.dest('rename'), os.path.join(layout.directory('rename'), 'witness'))

    os.symlink(plant_precious(layout.precious('dest_link')), layout.dest('dest_link'))
    os.symlink(layout.precious('dest_dangling_link'), layout.dest('dest_dangling_link'))
    # The kept token's record, written in phase one, is swapped for a link.
    os.unlink(layout.dest('site_link_kept_token') + '.site')
    for case in ('site_link_new_dest', 'site_link_kept_token'):
        os.symlink(plant_precious(layout.precious(case)), layout.dest(case) + '.site')

    cases = [
        {'name': 'mode_of_kept_token', 'dest': layout.dest('default_mode'), 'mode': '0640'},
        {'name': 'rename_second', 'dest': layout.dest('rename'), 'force': True},
        {'name': 'dest_link', 'dest': layout.dest('dest_link'), 'force': True},
        {'name': 'dest_dangling_link', 'dest': layout.dest('dest_dangling_link'), 'force': True},
        {'name': 'site_link_new_dest', 'dest': layout.dest('site_link_new_dest'), 'force': True},
        {'name': 'site_link_kept_token', 'dest': layout.dest('site_link_kept_token'), 'force': True},
    ]
    control.reset()
    results, dummy = playbooks.results('module_cases.yml', cases, umask=OPEN_UMASK)
    return results, control.stats()['tokens_issued']['total']


def digest(data):
    """Tokens are compared by digest: a failing assertion shows its values, and a token is a secret."""
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode('ascii')).hexdigest()


def assert_token_file(path, site):
    """``path`` is a regular file that holds one token of DEMO-SITE and a newline; returns its digest."""
    assert stat.S_ISREG(os.lstat(path).st_mode)
    text = read_bytes(path).decode('ascii')
    one_line = text.endswith('\n') and text.count('\n') == 1
    assert one_line, '%s is not one line' % path
    issuer = jwt_parts(text.strip())[1]['iss']
    assert normalised_dn(issuer) == normalised_dn(site['dn'])
    return digest(text)


def test_phase_one_issued_one_token_per_case(phase_one):
    results, tokens_issued, dummy = phase_one
    assert [name for name, result in results.items() if result['failed'] or not result['issued']] == []
    assert tokens_issued == len(results)


def test_dest_is_0600_by_default_even_with_umask_000(phase_one, layout, site):
    result = phase_one[0]['default_mode']
    assert (result['failed'], result['changed'], result['issued']) == (False, True, True)
    dest = layout.dest('default_mode')
    assert (mode_of(dest), mode_of(dest + '.site')) == (0o600, 0o600)
    assert_token_file(dest, site)


def test_mode_is_honoured_for_the_token_and_its_record(phase_one, layout, site):
    result = phase_one[0]['mode_0640']
    assert (result['failed'], result['issued']) == (False, True)
    dest = layout.dest('mode_0640')
    assert (mode_of(dest), mode_of(dest + '.site')) == (0o640, 0o640)
    assert_token_file(dest, site)


def test_phase_two_issued_tokens_only_where_it_wrote(phase_two):
    results, tokens_issued = phase_two
    issued = sorted(name for name, result in results.items() if result['issued'])
    assert issued == ['rename_second', 'site_link_new_dest']
    # The refused cases cost no token: the two that issued account for every token the server issued.
    assert tokens_issued == 2


def test_mode_of_a_kept_token_is_put_right_without_a_new_token(phase_two, layout):
    result = phase_two[0]['mode_of_kept_token']
    assert (result['failed'], result['changed'], result['issued']) == (False, True, False)
    dest = layout.dest('default_mode')
    assert (mode_of(dest), mode_of(dest + '.site')) == (0o640, 0o640)


def test_a_new_token_replaces_the_file_by_rename(phase_one, phase_two, layout, site):
    first_inode = phase_one[2]
    result = phase_two[0]['rename_second']
    assert (result['failed'], result['issued']) == (False, True)
    dest = layout.dest('rename')
    witness = os.path.join(layout.directory('rename'), 'witness')
    # dest is a new inode, its only link; the old inode still holds the old token, whole.
    assert os.lstat(dest).st_ino != first_inode
    assert os.lstat(dest).st_nlink == 1
    assert (os.lstat(witness).st_ino, os.lstat(witness).st_nlink) == (first_inode, 1)
    assert assert_token_file(witness, site) != assert_token_file(dest, site)
    assert sorted(os.listdir(layout.directory('rename'))) == ['unicore.token', 'unicore.token.site', 'witness']


@pytest.mark.parametrize('case', ['dest_link', 'dest_dangling_link'])
def test_dest_that_is_a_symbolic_link_is_refused(phase_two, layout, case):
    result = phase_two[0][case]
    assert result['failed'] and not result['issued']
    expected = 'dest: %s is a symbolic link' % layout.dest(case)
    assert expected in result['msg']
    assert 'never written through links' in result['msg']
    assert os.path.islink(layout.dest(case))
    assert not os.path.lexists(layout.dest(case) + '.site')
    if case == 'dest_link':
        assert_precious_unchanged(layout.precious(case))
    else:
        assert not os.path.lexists(layout.precious(case)), 'a file was created through a dangling link'


def test_record_link_beside_a_new_dest_is_replaced_not_followed(phase_two, layout, site):
    result = phase_two[0]['site_link_new_dest']
    assert (result['failed'], result['issued']) == (False, True)
    record = layout.dest('site_link_new_dest') + '.site'
    assert stat.S_ISREG(os.lstat(record).st_mode) and mode_of(record) == 0o600
    assert_precious_unchanged(layout.precious('site_link_new_dest'))
    assert_token_file(layout.dest('site_link_new_dest'), site)


def test_record_link_beside_a_kept_token_is_refused(phase_two, layout):
    result = phase_two[0]['site_link_kept_token']
    record = layout.dest('site_link_kept_token') + '.site'
    assert result['failed'] and not result['issued']
    expected = 'dest: %s is a symbolic link' % record
    assert expected in result['msg']
    assert os.path.islink(record)
    assert_precious_unchanged(layout.precious('site_link_kept_token'))


class PlantedNames:
    """tempfile's name generator, made to offer ``planted`` first on every call: mkstemp must refuse it and pick another."""

    def __init__(self, planted):
        self.planted = planted
        self.offered = []
        self.random = tempfile._get_candidate_names()  # pylint: disable=protected-access

    def __call__(self):
        return self.names()

    def names(self):
        self.offered.append(self.planted)
        yield self.planted
        for name in self.random:
            self.offered.append(name)
            yield name


def test_links_planted_at_the_temporary_names_are_not_followed(monkeypatch, scratch, site, phase_one, layout):
    token = read_bytes(layout.dest('mode_0640')).decode('ascii').strip()
    dest = os.path.join(scratch, 'unicore.token')
    precious = plant_precious(os.path.join(scratch, 'precious'))
    planted = [os.path.join(scratch, '.%s.planted.tmp' % name) for name in ('unicore.token', 'unicore.token.site')]
    os.symlink(precious, planted[0])
    os.symlink(os.path.join(scratch, 'created-through-a-link'), planted[1])
    names = PlantedNames('planted')
    monkeypatch.setattr(tempfile, '_get_candidate_names', names)

    TokenFile(dest).write(token, site['url'], site['dn'], 0o600)

    # Each of the two temporary files was first offered the planted name, refused it, and took another.
    assert names.offered.count('planted') == 2 and len(names.offered) == 4, names.offered
    assert_precious_unchanged(precious)
    assert not os.path.lexists(os.path.join(scratch, 'created-through-a-link'))
    assert all(os.path.islink(path) for path in planted)
    assert digest(read_bytes(dest)) == digest(token + '\n')
    assert stat.S_IMODE(os.lstat(dest).st_mode) == 0o600


def test_a_link_put_at_dest_after_the_check_is_replaced_not_followed(scratch, site, phase_one, layout):
    token = read_bytes(layout.dest('mode_0640')).decode('ascii').strip()
    dest = os.path.join(scratch, 'unicore.token')
    precious = plant_precious(os.path.join(scratch, 'precious'))
    token_file = TokenFile(dest)
    token_file.check_destination()
    os.symlink(precious, dest)
    os.symlink(precious, dest + '.site')

    token_file.write(token, site['url'], site['dn'], 0o600)

    assert_precious_unchanged(precious)
    assert not os.path.islink(dest) and not os.path.islink(dest + '.site')
    assert digest(read_bytes(dest)) == digest(token + '\n')


def test_a_link_planted_at_the_cache_entry_temporary_name_is_not_followed(monkeypatch, scratch, site, phase_one, layout):
    token = read_bytes(layout.dest('mode_0640')).decode('ascii').strip()
    cache = TokenCache(os.path.join(scratch, 'cache'))
    name = cache.entry_name('token', {'case': 'planted'})
    precious = plant_precious(os.path.join(scratch, 'precious'))
    planted = os.path.join(cache.directory, '.%s.planted.tmp' % name)
    os.symlink(precious, planted)
    names = PlantedNames('planted')
    monkeypatch.setattr(tempfile, '_get_candidate_names', names)

    cache.write_entry(name, {'token': token, 'issuer': site['dn']})

    assert names.offered[0] == 'planted' and len(names.offered) == 2, names.offered
    assert_precious_unchanged(precious)
    assert os.path.islink(planted)
    entry = os.path.join(cache.directory, name)
    assert not os.path.islink(entry) and stat.S_IMODE(os.lstat(entry).st_mode) == 0o600

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-builder accepts meta/execution-environment.yml.

The file serves two readers. ``ansible-builder introspect``, run while any
execution environment that contains the collection is built, reads its
``dependencies.python`` relative to the collection root to learn the
collection's Python requirements. ``ansible-builder build`` and ``create`` read
it as an execution environment definition (format 3), with paths relative to
the file. Both must end up with the requirements of the collection's
requirements.txt.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml


def _collection_root():
    for path in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep):
        candidate = os.path.join(path, 'ansible_collections', 'unicore', 'auth')
        if path and os.path.isfile(os.path.join(candidate, 'galaxy.yml')):
            return candidate
    raise RuntimeError('unicore.auth not found in ANSIBLE_COLLECTIONS_PATH=%s' % os.environ.get('ANSIBLE_COLLECTIONS_PATH'))


COLLECTION_ROOT = _collection_root()
EE_FILE = os.path.join(COLLECTION_ROOT, 'meta', 'execution-environment.yml')


def _requirement_lines(path):
    """The requirements of a pip requirements file: no comments, no blank lines."""
    with open(path, encoding='utf-8') as requirements:
        lines = [line.split('#', 1)[0].strip() for line in requirements]
    return [line for line in lines if line]


COLLECTION_REQUIREMENTS = _requirement_lines(os.path.join(COLLECTION_ROOT, 'requirements.txt'))


def _builder(*args, cwd=None):
    result = subprocess.run(['ansible-builder'] + list(args), capture_output=True, text=True, cwd=cwd, check=False)
    assert result.returncode == 0, 'ansible-builder %s failed:\n%s\n%s' % (' '.join(args), result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope='module')
def definition():
    with open(EE_FILE, encoding='utf-8') as ee_file:
        return yaml.safe_load(ee_file)


def test_collection_requirements_are_the_plugins_libraries():
    names = [line.split('>', 1)[0].split('=', 1)[0].strip() for line in COLLECTION_REQUIREMENTS]
    assert names == ['requests', 'PyJWT', 'cryptography', 'bcrypt']


def test_the_definition_is_format_3_on_a_public_base_image(definition):
    assert definition['version'] == 3
    assert definition['images']['base_image']['name'].startswith('quay.io/ansible/')
    assert definition['dependencies']['python'] == 'requirements.txt'


def test_introspect_finds_the_collections_python_requirements(tmp_path):
    # introspect scans <folder>/ansible_collections/<namespace>/<name>; give it this collection alone.
    namespace_dir = tmp_path / 'ansible_collections' / 'unicore'
    namespace_dir.mkdir(parents=True)
    (namespace_dir / 'auth').symlink_to(COLLECTION_ROOT, target_is_directory=True)
    combined = tmp_path / 'requirements-combined.txt'

    report = yaml.safe_load(_builder('introspect', '--write-pip', str(combined), str(tmp_path)))

    assert report['python'] == ['%s  # from collection unicore.auth' % line for line in COLLECTION_REQUIREMENTS]
    assert report['system'] == []
    assert _requirement_lines(str(combined)) == COLLECTION_REQUIREMENTS


def _galaxy_version():
    with open(os.path.join(COLLECTION_ROOT, 'galaxy.yml'), encoding='utf-8') as galaxy:
        return yaml.safe_load(galaxy)['version']


@pytest.fixture(scope='module')
def checkout_with_tarball(tmp_path_factory):
    """What the definition reads, laid out as in a checkout after `make build`: meta/ and build/dist/."""
    checkout = tmp_path_factory.mktemp('checkout')
    (checkout / 'meta').mkdir()
    for name in ('meta/execution-environment.yml', 'meta/requirements.txt'):
        with open(os.path.join(COLLECTION_ROOT, name), encoding='utf-8') as source:
            (checkout / name).write_text(source.read(), encoding='utf-8')
    result = subprocess.run(['ansible-galaxy', 'collection', 'build', '--output-path', str(checkout / 'build' / 'dist'), COLLECTION_ROOT],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, 'ansible-galaxy collection build failed:\n%s\n%s' % (result.stdout, result.stderr)
    return checkout


def test_the_definition_installs_the_tarball_of_this_version(definition):
    tarball = 'unicore-auth-%s.tar.gz' % _galaxy_version()
    assert definition['dependencies']['galaxy'] == {'collections': [{'name': 'collections/' + tarball, 'type': 'file'}]}
    assert definition['additional_build_files'] == [{'src': '../build/dist/' + tarball, 'dest': 'collections'}]


def test_create_writes_a_build_context_that_installs_the_requirements(tmp_path, definition, checkout_with_tarball):
    context = tmp_path / 'context'

    _builder('create', '-f', str(checkout_with_tarball / 'meta' / 'execution-environment.yml'), '--context', str(context),
             '--output-filename', 'Containerfile')

    build = context / '_build'
    assert _requirement_lines(str(build / 'requirements.txt')) == COLLECTION_REQUIREMENTS
    with open(build / 'requirements.yml', encoding='utf-8') as galaxy_requirements:
        assert yaml.safe_load(galaxy_requirements) == definition['dependencies']['galaxy']
    # the tarball is in the context, where requirements.yml names it (the galaxy stage installs from /build)
    assert (build / definition['dependencies']['galaxy']['collections'][0]['name']).stat().st_size > 10000
    containerfile = (context / 'Containerfile').read_text(encoding='utf-8')
    assert 'ARG EE_BASE_IMAGE="%s"' % definition['images']['base_image']['name'] in containerfile
    assert 'COPY _build/requirements.txt requirements.txt' in containerfile
    assert 'introspect --user-pip=requirements.txt' in containerfile
    assert 'COPY _build /build' in containerfile
    assert 'ansible-galaxy collection install' in containerfile

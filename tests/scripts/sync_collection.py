"""Mirror the checkout into build/ansible_collections/unicore/auth for ansible-test.

ansible-test needs the collection's real (physical) path to end in
``ansible_collections/<namespace>/<name>``, so a symlink does not do; this keeps
a copy in sync instead (rsync is not available on a fresh machine).

Copied: what git would commit -- tracked files plus untracked files that are not
git-ignored (``git ls-files --cached --others --exclude-standard``); without git,
every file except the excluded directories below.  Files are copied only when
their size or mtime changed; files gone from the checkout are deleted from the
copy, except the harness's own outputs (``tests/output/`` and the generated
``tests/integration/integration_config.yml``).  The copy gets an empty git
repository of its own (see init_git).

usage: python sync_collection.py SOURCE DESTINATION
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

EXCLUDED_DIRS = {'.git', '.venv', 'build', '.pytest_cache', '__pycache__', '.mypy_cache', '.tox', '.nox'}
EXCLUDED_TOP = {'build', '.venv', os.path.join('tests', 'output')}
OUTPUT_DIR = os.path.join('tests', 'output')
CONFIG_FILE = os.path.join('tests', 'integration', 'integration_config.yml')


def excluded(rel: str) -> bool:
    """Return True if the relative path must not be copied."""
    parts = rel.split(os.sep)

    if any(part in EXCLUDED_DIRS for part in parts[:-1]) or parts[-1].endswith(('.pyc', '.pyo')):
        return True

    return any(rel == top or rel.startswith(top + os.sep) for top in EXCLUDED_TOP)


def list_source(src: str) -> set[str]:
    """Return the relative paths of the files (and symlinks) to copy."""
    try:
        out = subprocess.run(['git', '-C', src, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        names = {os.path.normpath(name) for name in out.decode('utf-8', 'surrogateescape').split('\0') if name}
    except (OSError, subprocess.CalledProcessError):
        names = set()

        for dirpath, dirnames, filenames in os.walk(src):
            dirnames[:] = [name for name in dirnames if name not in EXCLUDED_DIRS]

            for name in filenames + [name for name in dirnames if os.path.islink(os.path.join(dirpath, name))]:
                names.add(os.path.relpath(os.path.join(dirpath, name), src))

    # deleted-but-still-tracked files are listed by git; skip anything that is not there
    return {name for name in names if not excluded(name) and os.path.lexists(os.path.join(src, name))}


def same(src: str, dst: str) -> bool:
    """Return True if dst already is an up-to-date copy of src."""
    try:
        s, d = os.lstat(src), os.lstat(dst)
    except FileNotFoundError:
        return False

    if stat.S_ISLNK(s.st_mode) or stat.S_ISLNK(d.st_mode):
        return stat.S_ISLNK(s.st_mode) and stat.S_ISLNK(d.st_mode) and os.readlink(src) == os.readlink(dst)

    return (stat.S_IFMT(s.st_mode) == stat.S_IFMT(d.st_mode) and s.st_size == d.st_size
            and int(s.st_mtime) == int(d.st_mtime) and stat.S_IMODE(s.st_mode) == stat.S_IMODE(d.st_mode))


def remove(path: str) -> None:
    """Remove a file, symlink or directory tree."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def sync(src: str, dst: str) -> tuple[int, int]:
    """Make dst mirror src; return the number of copied and deleted paths."""
    wanted = list_source(src)
    copied = deleted = 0

    for rel in sorted(wanted):
        source, target = os.path.join(src, rel), os.path.join(dst, rel)

        if same(source, target):
            continue

        parent = os.path.dirname(target)

        if os.path.lexists(parent) and not os.path.isdir(parent):
            remove(parent)

        os.makedirs(parent, exist_ok=True)

        if os.path.lexists(target):
            remove(target)

        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)

        copied += 1

    # directories that lead to wanted files or to the preserved harness outputs
    keep_dirs = {''}

    for rel in wanted | {OUTPUT_DIR, CONFIG_FILE}:
        parent = os.path.dirname(rel)

        while parent not in keep_dirs:
            keep_dirs.add(parent)
            parent = os.path.dirname(parent)

    for dirpath, dirnames, filenames in os.walk(dst):
        rel_dir = os.path.relpath(dirpath, dst)
        rel_dir = '' if rel_dir == '.' else rel_dir
        descend = []

        for name in dirnames:
            rel = os.path.join(rel_dir, name)

            if rel in (OUTPUT_DIR, '.git') or (rel in wanted and os.path.islink(os.path.join(dirpath, name))):
                continue  # preserved outputs, the copy's own git repository, or a wanted symlink to a directory

            if rel in keep_dirs and not os.path.islink(os.path.join(dirpath, name)):
                descend.append(name)
            else:
                remove(os.path.join(dirpath, name))
                deleted += 1

        dirnames[:] = descend

        for name in filenames:
            rel = os.path.join(rel_dir, name)

            if rel not in wanted and rel != CONFIG_FILE:
                os.unlink(os.path.join(dirpath, name))
                deleted += 1

    return copied, deleted


def init_git(dst: str) -> None:
    """Make the copy a git work tree of its own (empty, nothing committed).

    ansible-test looks for a ``.git`` from the collection root upwards to list the
    collection's files with ``git ls-files --cached --others --exclude-standard``.
    Without one in the copy it would find the checkout's repository, in which
    ``build/`` is git-ignored, and see no files at all.  In an empty repository
    every file is "other", filtered by the copied ``.gitignore`` -- the same list
    as in the checkout.
    """
    if os.path.exists(os.path.join(dst, '.git')):
        return

    try:
        subprocess.run(['git', '-c', 'init.defaultBranch=main', 'init', '--quiet', dst], check=True)
    except (OSError, subprocess.CalledProcessError) as ex:
        sys.stderr.write('warning: could not run git init in %s (%s); ansible-test may not find any files\n' % (dst, ex))


def main(argv: list[str]) -> int:
    """Entry point."""
    if len(argv) != 2:
        sys.stderr.write(__doc__ or '')
        return 2

    src, dst = (os.path.abspath(path) for path in argv)
    os.makedirs(dst, exist_ok=True)
    copied, deleted = sync(src, dst)
    init_git(dst)
    print('synced %s -> %s (%d copied, %d removed)' % (src, os.path.relpath(dst, src), copied, deleted))

    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

"""Put the guides of docs/ and the site's settings into the docs site that antsibull-docs laid out.

usage: python docs_site.py ROOT SITE

ROOT is the collection's checkout, SITE the directory ``antsibull-docs sphinx-init``
wrote (conf.py, build.sh, rst/).  tests/scripts/docs_build.sh runs this between the two.

* The README, the guides (docs/*.md) and the roles' READMEs stay Markdown and the only copy in the
  repository: each is copied to the same path under SITE/rst/ and read by MyST (myst-parser),
  so their relative links work as they do on GitHub: to another of these pages (with GitHub's
  heading anchors), or to another file of the repository (a playbook, the AWX credential
  type), which is copied beside them and becomes a download.  A link to a file that does not
  exist, or to a Markdown file that is not one of these pages, stops the build.
* A mention of a module, plugin or role of the collection in code
  (```unicore.auth.unicore_auth_token```) becomes a link to its page.
* conf.py gets MyST; an intersphinx inventory of its own for the few docs.ansible.com labels
  antsibull-docs' pages refer to (the real inventory is on the network, which the build must
  not need); and the theme's top bar with a logo that leads to the site's start page.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
import urllib.parse
import zlib

import yaml

# Plugin directories of a collection whose files are documented plugins, by plugin type.
PLUGIN_DIRS = {
    'modules': 'module', 'lookup': 'lookup', 'filter': 'filter', 'test': 'test', 'inventory': 'inventory',
    'callback': 'callback', 'connection': 'connection', 'become': 'become', 'cache': 'cache',
    'cliconf': 'cliconf', 'httpapi': 'httpapi', 'netconf': 'netconf', 'shell': 'shell',
    'strategy': 'strategy', 'vars': 'vars',
}

# The docs.ansible.com labels that antsibull-docs' generated pages refer to:
# (label, page with anchor, title).  Add one when the build reports an undefined label
# of ansible's own documentation.
ANSIBLE_DOCS_URL = 'https://docs.ansible.com/projects/ansible/devel/'
ANSIBLE_DOCS_LABELS = [
    ('ansible_configuration_settings', 'reference_appendices/config.html#ansible-configuration-settings',
     'Ansible Configuration Settings'),
    ('common_return_values', 'reference_appendices/common_return_values.html#common-return-values',
     'Return Values'),
]

CONF_ADDITIONS = '''
# --- added by tests/scripts/docs_site.py ---
# The guides are Markdown, read by MyST; their links to a heading use GitHub's anchors.
extensions.append('myst_parser')
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
myst_heading_anchors = 6
# docs.ansible.com's labels from a local inventory only: the build needs no network.
intersphinx_mapping = {'ansible_devel': (%r, '../ansible_devel.inv')}
# The theme's top bar: Ansible's documentation, and a logo that leads to this site's start page
# (the theme's documentation_home_url, /, is not the start page where the site is not at a server's root).
html_theme_options = {'topbar_links': {'Ansible documentation': 'https://docs.ansible.com/'}}


def _home_link(app, pagename, templatename, context, doctree):
    context['theme_documentation_home_url'] = context['pathto'](app.config.root_doc)


def setup(app):
    app.connect('html-page-context', _home_link)
'''

FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})')
LINK = re.compile(r'\]\(([^)\s]+)\)')
MENTION = re.compile(r'(?<![\[`])`(%s)`(?![\]`])')
SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')


def markdown_lines(text: str):
    """Yield (line number, line with its end, True when outside fenced code) for each line of a Markdown text."""
    fence = None

    for number, line in enumerate(text.splitlines(keepends=True), 1):
        match = FENCE.match(line)

        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None

            yield number, line, False
        elif match:
            fence = match.group(1)
            yield number, line, False
        else:
            yield number, line, True


def collection_name(root: str) -> str:
    """Return the collection's name, namespace.name, from its galaxy.yml."""
    with open(os.path.join(root, 'galaxy.yml'), encoding='utf-8') as handle:
        galaxy = yaml.safe_load(handle)

    return '%s.%s' % (galaxy['namespace'], galaxy['name'])


def filter_names(path: str) -> list[str]:
    """Return the names a filter (or test) plugin file declares: the keys of the dict its filters()/tests() returns."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)

    names = []

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in ('filters', 'tests'):
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Dict):
                    names.extend(key.value for key in ret.value.keys
                                 if isinstance(key, ast.Constant) and isinstance(key.value, str))

    return names


def collection_contents(root: str) -> list[tuple[str, str]]:
    """Return (name, type) of every documented plugin and role, found in plugins/ and roles/."""
    contents = set()

    for directory, plugin_type in PLUGIN_DIRS.items():
        path = os.path.join(root, 'plugins', directory)

        if not os.path.isdir(path):
            continue

        for entry in sorted(os.listdir(path)):
            stem, ext = os.path.splitext(entry)

            if ext != '.py' or stem.startswith('_'):
                continue

            if plugin_type in ('filter', 'test'):
                contents.update((name, plugin_type) for name in filter_names(os.path.join(path, entry)))
            else:
                contents.add((stem, plugin_type))

    roles = os.path.join(root, 'roles')

    if os.path.isdir(roles):
        contents.update((entry, 'role') for entry in os.listdir(roles)
                        if os.path.isdir(os.path.join(roles, entry, 'tasks')))

    return sorted(contents)


def guide_files(root: str) -> list[str]:
    """Return the site's Markdown pages, relative to the checkout: README.md, the guides (docs/*.md), the roles' READMEs."""
    readme = ['README.md'] if os.path.isfile(os.path.join(root, 'README.md')) else []
    guides = ['docs/' + entry for entry in sorted(os.listdir(os.path.join(root, 'docs'))) if entry.endswith('.md')]
    roles = os.path.join(root, 'roles')
    readmes = ['roles/%s/README.md' % entry for entry in sorted(os.listdir(roles))
               if os.path.isfile(os.path.join(roles, entry, 'README.md'))] if os.path.isdir(roles) else []

    return readme + guides + readmes


class GuideRewriter:
    """Prepares the site's Markdown pages (see the module's docstring)."""

    def __init__(self, root: str, pages: list[str], plugins: list[tuple[str, str]]):
        self.root = root
        self.pages = set(pages)
        self.collection = collection_name(root)
        self.plugin_types = {'%s.%s' % (self.collection, name): plugin_type for name, plugin_type in plugins}
        names = '|'.join(re.escape(name) for name in sorted(self.plugin_types, key=len, reverse=True))
        self.mention = re.compile(MENTION.pattern % names) if names else None
        self.errors: list[str] = []
        self.downloads: set[str] = set()

    def rewrite(self, page: str, text: str) -> str:
        """Return a page's text for the site (page: its path in the checkout); broken links go to self.errors."""
        lines = []

        for number, line, in_text in markdown_lines(text):
            if in_text:
                for link in LINK.finditer(line):
                    self._check_link(page, number, link.group(1))

                if self.mention and not line.lstrip().startswith('#'):
                    line = self.mention.sub(self._mention, line)

            lines.append(line)

        return ''.join(lines)

    def _mention(self, match: re.Match) -> str:
        name = match.group(1)

        return '{ansplugin}`%s#%s`' % (name, self.plugin_types[name])

    def _check_link(self, page: str, number: int, target: str) -> None:
        if SCHEME.match(target) or target.startswith('#'):
            return  # a link to elsewhere, or within the page (MyST checks those anchors)

        path = urllib.parse.unquote(target.partition('#')[0])
        relative = os.path.normpath(os.path.join(os.path.dirname(page), path))

        if relative.startswith('..') or not os.path.isfile(os.path.join(self.root, relative)):
            self.errors.append('%s:%d: link to a file that does not exist: %s' % (page, number, target))
        elif relative.endswith('.md') and relative not in self.pages:
            self.errors.append('%s:%d: link to %s, which is not a page of the site (tests/scripts/docs_site.py)'
                               % (page, number, target))
        elif not relative.endswith('.md'):
            self.downloads.add(relative)


def write_inventory(path: str) -> None:
    """Write a Sphinx (version 2) intersphinx inventory of ANSIBLE_DOCS_LABELS."""
    body = ''.join('%s std:label -1 %s %s\n' % label for label in ANSIBLE_DOCS_LABELS)
    header = ('# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
              '# The remainder of this file is compressed using zlib.\n')

    with open(path, 'wb') as handle:
        handle.write(header.encode('utf-8') + zlib.compress(body.encode('utf-8')))


def prepare(root: str, site: str) -> int:
    """Copy the Markdown pages and what they link to into the site, add the site's settings; return the exit status."""
    pages = guide_files(root)
    rewriter = GuideRewriter(root, pages, collection_contents(root))
    source = os.path.join(site, 'rst')

    for page in pages:
        with open(os.path.join(root, page), encoding='utf-8') as handle:
            text = rewriter.rewrite(page, handle.read())

        os.makedirs(os.path.dirname(os.path.join(source, page)), exist_ok=True)

        with open(os.path.join(source, page), 'w', encoding='utf-8') as handle:
            handle.write(text)

    for name in sorted(rewriter.downloads):
        os.makedirs(os.path.dirname(os.path.join(source, name)), exist_ok=True)
        shutil.copy(os.path.join(root, name), os.path.join(source, name))

    write_inventory(os.path.join(site, 'ansible_devel.inv'))

    with open(os.path.join(site, 'conf.py'), 'a', encoding='utf-8') as handle:
        handle.write(CONF_ADDITIONS % ANSIBLE_DOCS_URL)

    for error in rewriter.errors:
        print('ERROR: %s' % error, file=sys.stderr)

    return 1 if rewriter.errors else 0


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])

    sys.exit(prepare(sys.argv[1], sys.argv[2]))


if __name__ == '__main__':
    main()

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put the collection's examples where ansible-lint can check them.

ansible-lint reads playbooks, roles and task files, but not the EXAMPLES of
plugins (a Python string, or a key of a filter's YAML sidecar) nor the YAML
blocks of the documentation. This script copies each of them into a file of
its own, so that ansible-lint holds them to the same rules as the roles.

usage:
  python lint_examples.py extract OUT_DIR [--root ROOT]
      Write every example under OUT_DIR: a playbook as OUT_DIR/playbooks/NAME.yml,
      a task list as OUT_DIR/tasks/NAME.yml plus, per source file, a play
      OUT_DIR/playbooks/syntax_check_SOURCE.yml that imports its task lists
      (ansible-lint runs ansible-playbook --syntax-check on playbooks only, so
      this is what finds a misspelt module). OUT_DIR/sources.json says where each
      file came from. Prints one line per example.
  python lint_examples.py map OUT_DIR
      Copy stdin to stdout with every "FILE:LINE" of an extracted file replaced
      by the source file and line it came from (for ansible-lint's output).

Sources (ROOT is the collection root, by default two levels above this script):
  plugins/*/*.py        the EXAMPLES string of each plugin
  plugins/*/*.yml       the EXAMPLES key of a YAML sidecar (filter and test plugins)
  docs/*.md, README.md  every ```yaml block whose content is a list of plays or tasks;
                        other YAML (variables, requirements, ...) is not Ansible content
                        and is left out. A block right after the line
                        <!-- ansible-lint: skip --> is left out too (use it sparingly).

Exits 1 when an example is not valid YAML, or when no example was found.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import textwrap

import yaml

SKIP_MARKER = '<!-- ansible-lint: skip -->'
FENCE = re.compile(r'^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<info>[^\s`]*)')
SOURCES_FILE = 'sources.json'
PLAY_KEYS = ('hosts', 'import_playbook', 'ansible.builtin.import_playbook')
NOT_PLUGINS = ('module_utils', 'plugin_utils', 'doc_fragments')


class Example:
    """One example: its YAML text, and the source file and line of the text's first line."""

    def __init__(self, source, first_line, text, label, preceding=''):
        self.source = source
        self.first_line = first_line
        self.text = text
        self.label = label
        # The last non-blank line before a Markdown block (e.g. an HTML comment that marks it).
        self.preceding = preceding

    def kind(self):
        """``playbook``, ``tasks``, or None for YAML that is not Ansible content."""
        data = yaml.safe_load(self.text)
        if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
            return None
        if any(key in item for item in data for key in PLAY_KEYS):
            return 'playbook'
        return 'tasks'


def plugin_examples(root, path):
    """The EXAMPLES string of a plugin's Python file, if it has one."""
    with open(path, encoding='utf-8') as handle:
        source = handle.read()
    for node in ast.parse(source, filename=path).body:
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Constant):
            continue
        if any(isinstance(target, ast.Name) and target.id == 'EXAMPLES' for target in node.targets):
            # Line 1 of the string is the line of its opening quotes.
            return [Example(os.path.relpath(path, root), node.value.lineno, node.value.value, 'EXAMPLES')]
    return []


def sidecar_examples(root, path):
    """The EXAMPLES key of a plugin's YAML documentation file, if it has one."""
    with open(path, encoding='utf-8') as handle:
        document = yaml.compose(handle)
    if not isinstance(document, yaml.MappingNode):
        return []
    for key, value in document.value:
        if key.value == 'EXAMPLES' and isinstance(value, yaml.ScalarNode):
            # A block scalar ("EXAMPLES: |") starts on the line after its indicator.
            first_line = value.start_mark.line + (2 if value.style in ('|', '>') else 1)
            return [Example(os.path.relpath(path, root), first_line, value.value, 'EXAMPLES')]
    return []


def markdown_examples(root, path):
    """The ```yaml blocks of a Markdown file, without those marked to be skipped."""
    with open(path, encoding='utf-8') as handle:
        lines = handle.read().splitlines()
    examples = []
    index = 0
    previous = ''
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            if lines[index].strip():
                previous = lines[index].strip()
            index += 1
            continue
        fence, indent, info = match.group('fence'), match.group('indent'), match.group('info').lower()
        start = index + 1
        index = start
        while index < len(lines) and not lines[index].strip().startswith(fence):
            index += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[start:index]]
        index += 1
        if info in ('yaml', 'yml') and previous != SKIP_MARKER:
            # A fragment of a play may be indented as in the play; ansible-lint needs it at the margin.
            text = textwrap.dedent('\n'.join(body)) + '\n'
            # The block's first line is line start + 1 of the file (lines count from 1).
            examples.append(Example(os.path.relpath(path, root), start + 1, text, 'line %d' % (start + 1), preceding=previous))
        previous = ''
    return examples


def collect(root):
    """Every example of the collection at ``root``, in a stable order."""
    examples = []
    plugins = os.path.join(root, 'plugins')
    for directory in sorted(os.listdir(plugins)) if os.path.isdir(plugins) else []:
        folder = os.path.join(plugins, directory)
        if directory in NOT_PLUGINS or not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if name.endswith('.py') and not name.startswith('_'):
                examples.extend(plugin_examples(root, path))
            elif name.endswith(('.yml', '.yaml')):
                examples.extend(sidecar_examples(root, path))
    docs = os.path.join(root, 'docs')
    markdown = [os.path.join(docs, name) for name in sorted(os.listdir(docs)) if name.endswith('.md')] if os.path.isdir(docs) else []
    if os.path.isfile(os.path.join(root, 'README.md')):
        markdown.append(os.path.join(root, 'README.md'))
    for path in markdown:
        examples.extend(markdown_examples(root, path))
    return examples


def stem(source):
    """A file name part for a source path: docs/user-guide.md -> docs_user_guide."""
    return re.sub(r'[^A-Za-z0-9]+', '_', os.path.splitext(source)[0]).strip('_')


def write_syntax_check_plays(out_dir, task_files):
    """One play per source that imports its task lists, so that ansible-lint's syntax check resolves their modules.

    ansible-lint runs ``ansible-playbook --syntax-check`` on playbooks only; a task
    list on its own would never be told that a module or an action group does not exist.
    """
    for source, files in sorted(task_files.items()):
        path = os.path.join(out_dir, 'playbooks', 'syntax_check_%s.yml' % stem(source))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('---\n'
                         '- name: Syntax check of the task examples in %s\n'
                         '  hosts: localhost\n'
                         '  gather_facts: false\n'
                         '  tasks:\n' % source)
            for tasks_file in files:
                handle.write('    - name: Import the examples of %s\n'
                             '      ansible.builtin.import_tasks: ../%s\n' % (tasks_file, tasks_file))


def extract(root, out_dir):
    """Write the examples of ``root`` into ``out_dir``; return the exit status."""
    sources = {}
    task_files = {}
    errors = 0
    for example in collect(root):
        where = '%s:%d (%s)' % (example.source, example.first_line, example.label)
        try:
            kind = example.kind()
        except yaml.YAMLError as exc:
            print('ERROR    %s is not valid YAML: %s' % (where, ' '.join(str(exc).split())))
            errors += 1
            continue
        if kind is None:
            print('skipped  %s: not a list of plays or tasks' % where)
            continue
        relative = os.path.join('playbooks' if kind == 'playbook' else 'tasks', '%s_%d.yml' % (stem(example.source), example.first_line))
        target = os.path.join(out_dir, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        text = example.text.lstrip('\n')
        blank_lines = example.text.count('\n', 0, len(example.text) - len(text))
        with open(target, 'w', encoding='utf-8') as handle:
            handle.write('---\n' + text.rstrip() + '\n')
        # Line 2 of the written file (after "---") is the example's first non-blank line.
        sources[relative] = {'source': example.source, 'offset': example.first_line + blank_lines - 2}
        if kind == 'tasks':
            task_files.setdefault(example.source, []).append(relative)
        print('%-8s %s -> %s' % (kind, where, relative))
    write_syntax_check_plays(out_dir, task_files)
    with open(os.path.join(out_dir, SOURCES_FILE), 'w', encoding='utf-8') as handle:
        json.dump(sources, handle, indent=1, sort_keys=True)
    if not sources:
        print('ERROR    no examples found under %s' % root)
        return 1
    print('%d examples extracted, %d not valid YAML' % (len(sources), errors))
    return 1 if errors else 0


def map_output(out_dir, stream_in, stream_out):
    """Copy ``stream_in`` to ``stream_out``, naming extracted files by their sources."""
    try:
        with open(os.path.join(out_dir, SOURCES_FILE), encoding='utf-8') as handle:
            sources = json.load(handle)
    except (OSError, ValueError):
        sources = {}
    pattern = None
    if sources:
        # ansible-lint names a file by its path relative to the working directory, or by its absolute path.
        prefixes = sorted({os.path.abspath(out_dir), os.path.relpath(out_dir)}, key=len, reverse=True)
        names = sorted(sources, key=len, reverse=True)
        pattern = re.compile(r'(?:(?:%s)/)?(%s)(?::(\d+))?'
                             % ('|'.join(re.escape(prefix) for prefix in prefixes), '|'.join(re.escape(name) for name in names)))

    def replace(match):
        entry = sources[match.group(1)]
        if match.group(2) is None:
            return entry['source']
        return '%s:%d' % (entry['source'], int(match.group(2)) + entry['offset'])

    for line in stream_in:
        stream_out.write(pattern.sub(replace, line) if pattern else line)
    return 0


def main(argv=None):
    """Run the ``extract`` or ``map`` command."""
    parser = argparse.ArgumentParser(description='Extract the examples of the collection for ansible-lint.')
    commands = parser.add_subparsers(dest='command', required=True)
    extract_parser = commands.add_parser('extract', help='write the examples into OUT_DIR')
    extract_parser.add_argument('out_dir')
    extract_parser.add_argument('--root', default=os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))
    map_parser = commands.add_parser('map', help='rewrite extracted paths in ansible-lint output to their sources')
    map_parser.add_argument('out_dir')
    args = parser.parse_args(argv)
    if args.command == 'extract':
        os.makedirs(args.out_dir, exist_ok=True)
        return extract(os.path.abspath(args.root), args.out_dir)
    return map_output(args.out_dir, sys.stdin, sys.stdout)


if __name__ == '__main__':
    sys.exit(main())

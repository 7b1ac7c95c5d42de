"""Check the built documentation site in a browser (headless Chromium) and write JUnit XML.

usage: python docs_check.py --root ROOT --site SITE --junit FILE --tmp DIR
                            [--build-status N --build-log FILE] [--chromium PATH | --skip REASON]

SITE is the directory tests/scripts/docs_build.sh built into (HTML in SITE/build/html,
the collection's ansible_collections/ tree in SITE/collections).  The HTML is served on
loopback and every page is opened in Chromium; the checks read the DOM after the page's
scripts ran (``--dump-dom``).  What the site must show comes from the collection itself:
its plugins and roles from plugins/ and roles/ (tests/scripts/docs_site.py), their options
and examples from ``ansible-doc --json``, the guides from README.md, docs/*.md and the roles' READMEs.

JUnit cases (classname ``docs``):

* ``build``: the site built without a warning;
* ``index <collection>``: the collection's index links every plugin and role to its page;
* ``<type> <name>``, one per plugin and role: the page renders its title, a parameter table
  with every option (every entry point's, for a role) and, where the plugin has EXAMPLES,
  those examples;
* ``guide <file>``, one per Markdown page (README.md, docs/*.md, the roles' READMEs): the page
  renders the file's title and all its headings, and no text of it was taken for an HTML tag;
* ``page <path>``, one per other page: it renders a title and a body;
* ``links``: every link and resource of every page that points into the site exists, every
  ``#anchor`` exists in the target page's DOM, and the browser asked the server for nothing
  that is not there;
* ``screenshot``: a screenshot of one module's page, SITE/screenshot-<module>.png, is a
  real picture (size, dimensions, many distinct rows of pixels).

Without Chromium (--skip) every case but ``build`` is reported as skipped, with the reason.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable-next=wrong-import-position
from docs_site import collection_contents, collection_name, guide_files, markdown_lines  # noqa: E402

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']
SCREENSHOT_SIZE = (1280, 1600)
SCREENSHOT_MODULE = 'unicore_auth_token'
VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
LINK_ATTRS = {('a', 'href'), ('link', 'href'), ('img', 'src'), ('script', 'src'), ('iframe', 'src'),
              ('source', 'src'), ('form', 'action')}
# The elements of HTML: any other element in a page is text that was taken for a tag, e.g. a
# placeholder like <site> written in Markdown outside code, which a browser does not show.
HTML_TAGS = set('''a abbr address area article aside audio b bdi bdo blockquote body br button canvas caption
cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure
footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd label legend li link main
map mark math menu meta meter nav noscript object ol optgroup option output p param picture pre progress q rp
rt ruby s samp script search section select slot small source span strong style sub summary sup svg table
tbody td template textarea tfoot th thead time title tr track u ul var video wbr'''.split())
MD_HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')


class Case:
    """One JUnit test case."""

    def __init__(self, name: str):
        self.name = name
        self.problems: list[str] = []
        self.skipped: str | None = None

    def fail(self, problem: str) -> None:
        self.problems.append(problem)

    @property
    def outcome(self) -> str:
        if self.skipped is not None:
            return 'skipped'

        return 'failed' if self.problems else 'passed'


class Dom(html.parser.HTMLParser):
    """What the checks need of a page's DOM (as Chromium serialises it: every element closed)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self.title = ''
        self.headings: list[tuple[int, str]] = []
        self.tables: list[str] = []
        self.pres: list[tuple[tuple[str, ...], str]] = []
        self.body_text: list[str] = []
        self.system_messages = 0
        self.unknown_tags: list[str] = []
        self._heading: list[str] | None = None
        self._pre: list[str] | None = None
        self._title: list[str] | None = None
        self.feed(text)
        self.close()

    def _inside(self, test) -> bool:
        return any(test(tag, attrs) for tag, attrs in self.stack)

    def _in_body(self) -> bool:
        return self._inside(lambda tag, attrs: attrs.get('itemprop') == 'articleBody')

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or '' for name, value in attrs}

        for name in ('id', 'name' if tag == 'a' else None):
            if name and attrs.get(name):
                self.ids.add(attrs[name])

        for attr in ('href', 'src', 'action'):
            if (tag, attr) in LINK_ATTRS and attr in attrs:
                self.links.append((tag, attrs[attr]))

        classes = attrs.get('class', '').split()

        if 'system-message' in classes:
            self.system_messages += 1

        if tag not in VOID:
            self.stack.append((tag, attrs))

        if self._in_body():
            if tag not in HTML_TAGS and not self._inside(lambda name, attrs: name in ('svg', 'math')):
                self.unknown_tags.append(tag)

            if re.fullmatch(r'h[1-6]', tag):
                self._heading = []
            elif tag == 'table':
                self.tables.append(attrs.get('class', ''))
            elif tag == 'pre':
                self._pre = []

        if tag == 'title':
            self._title = []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if re.fullmatch(r'h[1-6]', tag) and self._heading is not None:
            self.headings.append((int(tag[1]), ' '.join(''.join(self._heading).split())))
            self._heading = None
        elif tag == 'pre' and self._pre is not None:
            sections = tuple(attrs.get('id', '') for name, attrs in self.stack if name == 'section')
            self.pres.append((sections, ''.join(self._pre)))
            self._pre = None
        elif tag == 'title' and self._title is not None:
            self.title = ' '.join(''.join(self._title).split())
            self._title = None

        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if self._title is not None:
            self._title.append(data)

        if not self._in_body():
            return

        self.body_text.append(data)

        if self._pre is not None:
            self._pre.append(data)

        headerlink = self._inside(lambda tag, attrs: 'headerlink' in attrs.get('class', '').split())

        if self._heading is not None and not headerlink:
            self._heading.append(data)


def words(text: str) -> str:
    """Return a text with its whitespace normalised (for comparing code shown on a page)."""
    return ' '.join(text.split())


def letters(text: str) -> str:
    """Return only the letters and digits of a text, lower case (for comparing headings)."""
    return re.sub(r'[\W_]+', '', text).lower()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site; remembers what was asked for and not found instead of logging each request."""

    missing: set[str] = set()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def send_error(self, code, message=None, explain=None):
        if code == 404:
            QuietHandler.missing.add(urllib.parse.urlsplit(self.path).path)

        super().send_error(code, message, explain)


class QuietServer(http.server.ThreadingHTTPServer):
    """The site's server: a browser that closes a connection early (it has the page it wanted) is no error."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Checker:
    """Serves the site, opens its pages in Chromium and checks them."""

    def __init__(self, args):
        self.root = args.root
        self.site = args.site
        self.html = os.path.join(args.site, 'build', 'html')
        self.chromium = args.chromium
        self.tmp = args.tmp
        self.collection = collection_name(args.root)
        self.contents = collection_contents(args.root)
        self.guides = guide_files(args.root)
        self.server = None
        self.base = ''
        self.doms: dict[str, Dom] = {}
        self.dump_errors: dict[str, str] = {}
        self.planned_pages: set[str] = set()

    # --- the browser ---

    def serve(self) -> None:
        handler = functools.partial(QuietHandler, directory=self.html)
        self.server = QuietServer(('127.0.0.1', 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = 'http://127.0.0.1:%d/' % self.server.server_address[1]

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def chromium_run(self, *args: str) -> subprocess.CompletedProcess:
        profile = tempfile.mkdtemp(prefix='chromium-', dir=self.tmp)

        try:
            return subprocess.run([self.chromium, *CHROMIUM_FLAGS, '--user-data-dir=' + profile, *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def dump(self, page: str) -> None:
        try:
            result = self.chromium_run('--dump-dom', self.base + page)
        except subprocess.TimeoutExpired:
            self.dump_errors[page] = 'Chromium did not finish within 120 s'
            return

        text = result.stdout.decode('utf-8', 'replace')

        if result.returncode or '<body' not in text:
            stderr = result.stderr.decode('utf-8', 'replace').strip().splitlines()[-3:]
            self.dump_errors[page] = 'Chromium exited with status %d and no page: %s' % (
                result.returncode, ' | '.join(stderr))
            return

        self.doms[page] = Dom(text)

    def pages(self) -> list[str]:
        found = []

        for dirpath, _dirnames, filenames in os.walk(self.html):
            for name in filenames:
                if name.endswith('.html') and not os.path.relpath(dirpath, self.html).startswith('_'):
                    found.append(os.path.relpath(os.path.join(dirpath, name), self.html).replace(os.sep, '/'))

        return sorted(found)

    # --- what the collection says the pages must show ---

    def ansible_doc(self) -> tuple[dict[tuple[str, str], dict], str]:
        """Return ansible-doc's JSON per (name, type), and an error message if ansible-doc failed."""
        docs: dict[tuple[str, str], dict] = {}
        errors = []
        by_type: dict[str, list[str]] = {}

        for name, plugin_type in self.contents:
            by_type.setdefault(plugin_type, []).append('%s.%s' % (self.collection, name))

        # the ansible-doc of this Python's venv (the docs venv), reading the collection the site was built from
        ansible_doc = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
        ansible_doc = ansible_doc if os.path.exists(ansible_doc) else shutil.which('ansible-doc') or 'ansible-doc'
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(self.site, 'collections'))

        for plugin_type, names in sorted(by_type.items()):
            try:
                result = subprocess.run([ansible_doc, '--json', '-t', plugin_type, *names], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, check=False)
            except OSError as error:
                errors.append('cannot run ansible-doc: %s' % error)
                continue

            try:
                answer = json.loads(result.stdout)
            except ValueError:
                errors.append('ansible-doc -t %s failed (status %d): %s' % (
                    plugin_type, result.returncode, result.stderr.decode('utf-8', 'replace').strip()[-500:]))
                continue

            for fqcn, doc in answer.items():
                docs[(fqcn.split('.', 2)[2], plugin_type)] = doc

        return docs, '; '.join(errors)

    # --- the checks ---

    def check_page_renders(self, case: Case, page: str) -> Dom | None:
        if page not in self.doms:
            case.fail(self.dump_errors.get(page, 'no page %s in the site' % page))
            return None

        dom = self.doms[page]

        if not dom.title:
            case.fail('no <title>')

        if not ''.join(dom.body_text).strip():
            case.fail('empty page body (no articleBody text)')

        if dom.system_messages:
            case.fail('%d docutils system messages shown in the page' % dom.system_messages)

        if dom.unknown_tags:
            case.fail('text taken for HTML tags, not shown: %s' % ', '.join(
                '<%s> (%d times)' % (tag, dom.unknown_tags.count(tag)) for tag in dict.fromkeys(dom.unknown_tags)))

        return dom

    def check_index(self, case: Case, page: str) -> None:
        dom = self.check_page_renders(case, page)

        if dom is None:
            return

        listed = {urllib.parse.urlsplit(href).path for _tag, href in dom.links}

        for name, plugin_type in self.contents:
            if '%s_%s.html' % (name, plugin_type) not in listed:
                case.fail('%s %s.%s is not listed (no link to %s_%s.html)' % (
                    plugin_type, self.collection, name, name, plugin_type))

    def check_plugin(self, case: Case, page: str, name: str, plugin_type: str, doc: dict | None) -> None:
        dom = self.check_page_renders(case, page)

        if dom is None:
            return

        fqcn = '%s.%s' % (self.collection, name)
        title = dom.headings[0][1] if dom.headings else ''

        if not title.startswith('%s %s' % (fqcn, plugin_type)):
            case.fail('the page title is %r, not "%s %s ..."' % (title, fqcn, plugin_type))

        if doc is None:
            case.fail('ansible-doc knows no %s %s' % (plugin_type, fqcn))
            return

        if not any('ansible-option-table' in classes.split() for classes in dom.tables):
            case.fail('no parameter table')

        if plugin_type == 'role':
            wanted = ['parameter-%s--%s' % (entry, option) for entry, spec in doc.get('entry_points', {}).items()
                      for option in (spec.get('options') or {})]
        else:
            wanted = ['parameter-%s' % option for option in (doc['doc'].get('options') or {})]

        missing = [anchor for anchor in wanted if anchor not in dom.ids]

        if missing or not wanted:
            case.fail('the parameter table lacks %d of %d options: %s' % (
                len(missing), len(wanted), ', '.join(anchor.split('-', 1)[1] for anchor in missing)))

        examples = (doc.get('examples') or '').strip() if plugin_type != 'role' else ''

        if examples:
            shown = ' '.join(text for sections, text in dom.pres if 'examples' in sections)

            if not shown:
                case.fail('no examples shown (the plugin has EXAMPLES)')
            elif words(examples) not in words(shown):
                case.fail('the examples shown differ from the plugin\'s EXAMPLES')

    def check_guide(self, case: Case, page: str, guide: str) -> None:
        dom = self.check_page_renders(case, page)

        if dom is None:
            return

        with open(os.path.join(self.root, guide), encoding='utf-8') as handle:
            wanted = markdown_headings(handle.read())

        shown = [text for _level, text in dom.headings]

        if not wanted or not shown or letters(shown[0]) != letters(wanted[0]):
            case.fail('the page title is %r, the guide\'s %r' % (shown[0] if shown else '', wanted[0] if wanted else ''))

        missing = [heading for heading in wanted if letters(heading) not in {letters(text) for text in shown}]

        if missing or len(shown) != len(wanted):
            case.fail('the guide has %d headings, the page %d; not shown: %s' % (
                len(wanted), len(shown), '; '.join(missing[:5])))

        body = ''.join(dom.body_text)

        if '{ansplugin}' in body:
            case.fail('MyST markup shown as text ({ansplugin})')

    def check_links(self, case: Case) -> None:
        site = urllib.parse.urlsplit(self.base)
        broken = []
        checked = 0

        for page, dom in sorted(self.doms.items()):
            for tag, href in dom.links:
                url = urllib.parse.urlsplit(urllib.parse.urljoin(self.base + page, href))

                if url.scheme not in ('http', 'https', 'file') or (url.scheme != 'file' and url.netloc != site.netloc):
                    continue  # elsewhere: not part of the site (no network here to try it)

                checked += 1
                problem = self.link_problem(url)

                if problem:
                    broken.append('%s: <%s> %s: %s' % (page, tag, href, problem))

        for path in sorted(QuietHandler.missing - {'/favicon.ico'}):
            broken.append('the browser asked for %s, which the site does not have' % path)

        for problem in dict.fromkeys(broken):  # each once, in order
            case.fail(problem)

        print('    %d links into the site checked on %d pages' % (checked, len(self.doms)))

    def link_problem(self, url: urllib.parse.SplitResult) -> str:
        if url.scheme == 'file':
            return 'a file:// link'

        path = urllib.parse.unquote(url.path).lstrip('/')
        target = os.path.normpath(os.path.join(self.html, path))

        if not (target + os.sep).startswith(os.path.join(self.html, '')):
            return 'outside the site'

        if os.path.isdir(target):
            target = os.path.join(target, 'index.html')
            path = os.path.join(path, 'index.html')

        if not os.path.isfile(target):
            return 'no such file'

        if url.fragment and path.endswith('.html'):
            page = os.path.relpath(target, self.html).replace(os.sep, '/')
            dom = self.doms.get(page)

            if dom is None:
                return 'the page was not loaded'

            if urllib.parse.unquote(url.fragment) not in dom.ids:
                return 'no element with id "%s" in %s' % (urllib.parse.unquote(url.fragment), page)

        return ''

    def check_screenshot(self, case: Case) -> None:
        module = SCREENSHOT_MODULE if (SCREENSHOT_MODULE, 'module') in self.contents else \
            next((name for name, plugin_type in self.contents if plugin_type == 'module'), None)

        if module is None:
            case.skipped = 'the collection has no module'
            return

        path = os.path.join(self.site, 'screenshot-%s.png' % module)
        page = 'collections/%s/%s_module.html' % (self.collection.replace('.', '/'), module)

        if os.path.exists(path):
            os.remove(path)

        result = self.chromium_run('--window-size=%d,%d' % SCREENSHOT_SIZE, '--hide-scrollbars',
                                   '--screenshot=' + path, self.base + page)

        if result.returncode or not os.path.isfile(path):
            case.fail('Chromium made no screenshot of %s (status %d)' % (page, result.returncode))
            return

        for problem in png_problems(path, SCREENSHOT_SIZE):
            case.fail(problem)

        print('    screenshot of %s: %s' % (page, path))

    def run(self, build_status: int, build_log: str | None, skip: str | None) -> list[Case]:
        build = Case('build')

        if build_status:
            tail = ''

            if build_log and os.path.isfile(build_log):
                with open(build_log, encoding='utf-8', errors='replace') as handle:
                    tail = ''.join(handle.readlines()[-40:])

            build.fail('the docs site did not build cleanly (docs_build.sh exited with %d)\n%s' % (build_status, tail))
            skip = skip or 'the docs site did not build'

        page_cases = self.plan()
        pages = self.pages() if os.path.isdir(self.html) else []
        other_pages = [Case('page %s' % page) for page in pages if page not in self.planned_pages]
        links, screenshot = Case('links'), Case('screenshot')
        cases = [build] + [case for case, _check in page_cases] + other_pages + [links, screenshot]

        if skip:
            for case in cases[1:]:
                case.skipped = skip

            return cases

        docs, doc_error = self.ansible_doc()
        self.serve()

        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(self.dump, pages))

            for case, check in page_cases:
                if doc_error and case.name.split()[0] in {plugin_type for _name, plugin_type in self.contents}:
                    case.fail(doc_error)

                check(case, docs)

            for case in other_pages:
                self.check_page_renders(case, case.name.split(' ', 1)[1])

            self.check_links(links)
            self.check_screenshot(screenshot)
        finally:
            self.stop()

        return cases

    def plan(self) -> list[tuple[Case, object]]:
        """Return the cases for the pages the collection says the site must have, with their checks."""
        prefix = 'collections/%s/' % self.collection.replace('.', '/')
        planned = [(Case('index %s' % self.collection), lambda case, docs: self.check_index(case, prefix + 'index.html'))]
        self.planned_pages = {prefix + 'index.html'}

        for name, plugin_type in self.contents:
            page = '%s%s_%s.html' % (prefix, name, plugin_type)
            self.planned_pages.add(page)
            planned.append((Case('%s %s.%s' % (plugin_type, self.collection, name)),
                            functools.partial(self._check_plugin, page, name, plugin_type)))

        for guide in self.guides:
            page = '%s.html' % guide[:-3]
            self.planned_pages.add(page)
            planned.append((Case('guide %s' % guide), functools.partial(self._check_guide, page, guide)))

        return planned

    def _check_plugin(self, page, name, plugin_type, case, docs):
        self.check_plugin(case, page, name, plugin_type, docs.get((name, plugin_type)))

    def _check_guide(self, page, guide, case, _docs):
        self.check_guide(case, page, guide)


def markdown_headings(text: str) -> list[str]:
    """Return the headings of a Markdown text (ATX headings outside fenced code)."""
    headings = []

    for _number, line, in_text in markdown_lines(text):
        heading = MD_HEADING.match(line.rstrip('\n')) if in_text else None

        if heading:
            headings.append(heading.group(2))

    return headings


def png_problems(path: str, size: tuple[int, int]) -> list[str]:
    """Return why a PNG file is not a real screenshot of a page: too small, wrong size, (nearly) blank."""
    with open(path, 'rb') as handle:
        data = handle.read()

    if not data.startswith(b'\x89PNG\r\n\x1a\n'):
        return ['%s is not a PNG file' % path]

    problems = []

    if len(data) < 20000:
        problems.append('%s has only %d bytes' % (path, len(data)))

    chunks, position = {}, 8

    while position < len(data):
        length, kind = struct.unpack('>I4s', data[position:position + 8])
        chunks.setdefault(kind, []).append(data[position + 8:position + 8 + length])
        position += 12 + length

    width, height, depth, color = struct.unpack('>IIBB', chunks[b'IHDR'][0][:10])

    if (width, height) != size:
        problems.append('%s is %dx%d, not %dx%d' % (path, width, height, *size))

    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)

    if depth != 8 or channels is None:
        return problems + ['%s: unexpected PNG format (bit depth %d, colour type %d)' % (path, depth, color)]

    pixels = zlib.decompress(b''.join(chunks[b'IDAT']))
    stride = 1 + width * channels
    rows = {pixels[start + 1:start + stride] for start in range(0, len(pixels), stride)}

    if len(rows) < 100:
        problems.append('%s looks blank: only %d distinct rows of pixels' % (path, len(rows)))

    return problems


def write_junit(path: str, cases: list[Case]) -> None:
    counts = {outcome: sum(case.outcome == outcome for case in cases) for outcome in ('passed', 'failed', 'skipped')}
    suite = ET.Element('testsuite', name='docs', tests=str(len(cases)), failures=str(counts['failed']),
                       skipped=str(counts['skipped']), errors='0')

    for case in cases:
        element = ET.SubElement(suite, 'testcase', classname='docs', name=case.name)

        if case.skipped is not None:
            ET.SubElement(element, 'skipped', message=case.skipped)
        elif case.problems:
            failure = ET.SubElement(element, 'failure', message=case.problems[0].splitlines()[0][:300])
            failure.text = '\n'.join(case.problems)

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ET.ElementTree(suite).write(path, encoding='utf-8', xml_declaration=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', required=True)
    parser.add_argument('--site', required=True)
    parser.add_argument('--junit', required=True)
    parser.add_argument('--tmp', required=True)
    parser.add_argument('--build-status', type=int, default=0)
    parser.add_argument('--build-log')
    browser = parser.add_mutually_exclusive_group(required=True)
    browser.add_argument('--chromium')
    browser.add_argument('--skip', help='why the browser checks cannot run')
    args = parser.parse_args()

    cases = Checker(args).run(args.build_status, args.build_log, args.skip)
    write_junit(args.junit, cases)

    for case in cases:
        print('%-7s %s%s' % (case.outcome.upper(), case.name, ': ' + case.skipped if case.skipped else ''))

        for problem in case.problems:
            print('        ' + problem.replace('\n', '\n        '))

    failed = sum(case.outcome == 'failed' for case in cases)
    print('==> docs check: %d cases, %d failed, %d skipped; JUnit XML in %s' % (
        len(cases), failed, sum(case.outcome == 'skipped' for case in cases), args.junit))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()

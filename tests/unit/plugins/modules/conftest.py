# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() the way Ansible does, and a scripted site below requests, for the module tests."""

from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.unicore.auth.tests.unit.plugins.ansible_core_compat import as_in_a_module_process, patch_module_args


@pytest.fixture
def module_runner(capsys, monkeypatch):
    """``module_runner(main, **args)``: run ``main`` with ``args``; returns (result, stdout).

    A module runs in a process of its own: no warnings of an earlier run, and not on the
    controller (once other tests have imported controller code, warn() would go to the display).
    """
    def run(main, **args):
        as_in_a_module_process(monkeypatch)
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                main()
        out = capsys.readouterr().out
        return json.loads(out), out
    return run


class ScriptedSite:
    """Stands in for the network below requests: answers from a script, records what was sent."""

    def __init__(self):
        self.script = []
        self.requests = []

    def answers(self, status=200, body=None):
        """A JSON answer, or an empty one (no Content-Type) when ``body`` is None."""
        self.script.append((status, b'' if body is None else json.dumps(body).encode('utf-8'), None if body is None else 'application/json'))

    def issues(self, token):
        self.script.append((200, (token + '\n').encode('utf-8'), 'text/plain'))

    def refuses(self, status=403):
        self.script.append((status, json.dumps({'errorMessage': 'Access denied'}).encode('utf-8'), 'application/json'))

    def send(self, request, **kwargs):
        self.requests.append(request)
        if not self.script:
            raise AssertionError('unexpected request: GET %s' % request.url)
        status, body, content_type = self.script.pop(0)
        response = requests.Response()
        response.status_code, response.reason = status, {200: 'OK', 403: 'Forbidden'}.get(status, '')
        if content_type is not None:
            response.headers['Content-Type'] = content_type
        response._content = body
        response.request, response.url, response.encoding = request, request.url, 'utf-8'
        return response


@pytest.fixture
def site(monkeypatch):
    """The site the module talks to: script its answers with ``answers``, ``issues`` or ``refuses``."""
    site = ScriptedSite()
    monkeypatch.setattr(requests.adapters.HTTPAdapter, 'send', site.send)
    return site

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security-session reuse, 432 recovery and retries, read from the test server's counters."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError


@pytest.fixture
def demo_client(make_client, demouser):
    def build(**options):
        return make_client(username='demouser', password=demouser['password'], **options)
    return build


def test_repeated_calls_authenticate_once_and_reuse_the_session(demo_client, control):
    client = demo_client()
    for dummy in range(10):
        client.access_info()
    stats = control.stats()
    assert stats['full_authentications_total'] == 1
    assert stats['session_reuses'] == 9


def test_without_security_sessions_every_call_authenticates(demo_client, control):
    client = demo_client(security_sessions=False)
    for dummy in range(3):
        client.access_info()
    stats = control.stats()
    assert stats['full_authentications_total'] == 3
    assert stats['session_reuses'] == 0
    assert not any(request['session_id_sent'] for request in control.requests(3))


def test_forgotten_session_is_recovered_with_one_fresh_login(demo_client, control):
    client = demo_client()
    client.access_info()
    control.expire_sessions()
    assert client.access_info()['client']['xlogin']['UID'] == 'demouser'
    stats = control.stats()
    assert stats['sessions_rejected_432'] == 1
    assert stats['full_authentications_total'] == 2
    assert [request['status'] for request in control.requests(3)] == [200, 432, 200]


def test_503_with_retry_after_is_retried_until_it_succeeds(demo_client, control, site_url):
    control.add_faults({'path_prefix': '/DEMO-SITE/rest/core', 'method': 'GET', 'count': 2,
                        'action': 'respond', 'status': 503, 'headers': {'Retry-After': '1'}})
    assert demo_client().access_info()['client']['xlogin']['UID'] == 'demouser'
    assert [request['status'] for request in control.requests(3)] == [503, 503, 200]


@pytest.mark.parametrize('status', [429, 502, 504])
def test_transient_statuses_are_retried(demo_client, control, status):
    control.add_faults({'path_prefix': '/DEMO-SITE/rest/core', 'method': 'GET', 'count': 1, 'action': 'respond', 'status': status})
    demo_client().access_info()
    assert [request['status'] for request in control.requests(2)] == [status, 200]


def test_dropped_connection_is_retried(demo_client, control):
    control.add_faults({'path_prefix': '/DEMO-SITE/rest/core', 'method': 'GET', 'count': 1, 'action': 'drop'})
    assert demo_client().access_info()['client']['xlogin']['UID'] == 'demouser'


def test_retries_are_bounded_and_the_failure_names_url_and_status(demo_client, control, site_url):
    control.add_faults({'path_prefix': '/DEMO-SITE/rest/core', 'method': 'GET', 'count': 10,
                        'action': 'respond', 'status': 503, 'headers': {'Retry-After': '0'}})
    with pytest.raises(UnicoreError) as failure:
        demo_client(retries=2).access_info()
    assert str(failure.value).startswith('GET %s failed: HTTP 503' % site_url)
    assert 'gave up after 2 retries' in str(failure.value)
    assert control.stats()['requests']['total'] == 3


def test_500_is_not_retried(demo_client, control):
    control.add_faults({'path_prefix': '/DEMO-SITE/rest/core', 'method': 'GET', 'count': 1, 'action': 'respond', 'status': 500,
                        'body': '{"errorMessage": "internal trouble", "status": 500}', 'content_type': 'application/json'})
    with pytest.raises(UnicoreError) as failure:
        demo_client().access_info()
    assert 'HTTP 500' in str(failure.value)
    assert 'internal trouble' in str(failure.value)
    assert control.stats()['requests']['total'] == 1


def test_html_instead_of_json_is_a_clear_error(demo_client, control):
    control.add_faults({'path_prefix': '/DEMO-SITE/rest/core', 'method': 'GET', 'count': 1, 'action': 'respond', 'status': 200,
                        'body': '<html>maintenance</html>', 'content_type': 'text/html'})
    with pytest.raises(UnicoreError) as failure:
        demo_client().access_info()
    assert 'not JSON (Content-Type: text/html' in str(failure.value)

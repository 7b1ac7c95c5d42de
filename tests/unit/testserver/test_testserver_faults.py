# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test server's faults at random (tests/unicore_testserver/faults.py, control.py): what the scale test (tests/scale/) relies on.

A site that fails a share of its requests at random, reproducibly: ``probability``,
``actions``, ``count: -1``, the seed set through the control API, and the
counts of matched and applied requests that let a test tell what each request met.
"""

from __future__ import annotations

import json
from collections import Counter
from http.client import HTTPMessage

import pytest

from ansible_collections.unicore.auth.tests.unicore_testserver.control import handle_control
from ansible_collections.unicore.auth.tests.unicore_testserver.faults import DEFAULT_SEED, FaultList, FaultSpecError, parse_fault
from ansible_collections.unicore.auth.tests.unicore_testserver.messages import Request

TOKEN = '/DEMO-SITE/rest/core/token'
BASE = '/DEMO-SITE/rest/core'


def faults_with(*specs):
    faults = FaultList()
    faults.add(list(specs))
    return faults


def outcomes(faults, requests, path=TOKEN):
    """What each of ``requests`` GETs of ``path`` met: an action, or None (the site's answer)."""
    met = []
    for dummy in range(requests):
        fault = faults.take('GET', path)
        met.append(None if fault is None else fault.action)
    return met


# ---------------------------------------------------------------- as before: faults that always apply

def test_a_fault_without_probability_meets_every_matching_request_until_its_count_is_used_up():
    faults = faults_with({'path_prefix': TOKEN, 'action': 'reset', 'count': 2})
    assert outcomes(faults, 3) == ['reset', 'reset', None]
    assert faults.pending() == []


def test_count_minus_one_never_runs_out():
    faults = faults_with({'path_prefix': TOKEN, 'action': 'respond', 'count': -1})
    assert outcomes(faults, 500) == ['respond'] * 500
    assert faults.pending()[0]['applied'] == {'respond': 500}


# ---------------------------------------------------------------- at random

def test_a_fault_with_a_probability_meets_about_that_share_of_the_requests():
    faults = faults_with({'path_prefix': TOKEN, 'action': 'respond', 'count': -1, 'probability': 0.2})
    met = outcomes(faults, 10000)
    assert 1800 <= met.count('respond') <= 2200
    assert met.count(None) == 10000 - met.count('respond')


def test_only_the_requests_a_fault_applies_to_use_up_its_count():
    faults = faults_with({'path_prefix': TOKEN, 'action': 'reset', 'count': 3, 'probability': 0.2})
    met = outcomes(faults, 1000)
    assert met.count('reset') == 3
    assert faults.pending() == []


def test_actions_are_picked_at_random_with_equal_chances():
    faults = faults_with({'path_prefix': TOKEN, 'actions': ['respond', 'reset'], 'count': -1})
    met = Counter(outcomes(faults, 10000))
    assert set(met) == {'respond', 'reset'}
    assert 4700 <= met['respond'] <= 5300


def test_the_fault_a_request_meets_carries_the_action_picked_and_the_pending_fault_keeps_its_choice():
    faults = faults_with({'path_prefix': TOKEN, 'actions': ['respond', 'reset'], 'count': -1})
    fault = faults.take('GET', TOKEN)
    assert fault.action in ('respond', 'reset')
    pending = faults.pending()[0]
    assert pending['action'] is None
    assert pending['actions'] == ['respond', 'reset']


def test_status_is_503_by_default_when_respond_is_among_the_actions():
    assert parse_fault({'actions': ['respond', 'reset']}).status == 503
    assert parse_fault({'actions': ['reset', 'drop']}).status == 200
    assert parse_fault({'actions': ['respond', 'reset'], 'status': 502}).status == 502


def test_a_request_that_escapes_a_fault_goes_on_to_the_next_matching_one():
    faults = faults_with({'path_prefix': TOKEN, 'action': 'respond', 'count': -1, 'probability': 0.5},
                         {'path_prefix': BASE, 'action': 'reset', 'count': -1})
    met = Counter(outcomes(faults, 1000))
    assert set(met) == {'respond', 'reset'}
    assert met['respond'] + met['reset'] == 1000


def test_matched_and_applied_tell_what_every_request_met():
    faults = faults_with({'path_prefix': TOKEN, 'method': 'GET', 'actions': ['respond', 'reset'], 'count': -1, 'probability': 0.2})
    met = Counter(outcomes(faults, 1000))
    faults.take('GET', BASE)            # another path: not matched
    faults.take('POST', TOKEN)          # another method: not matched
    pending = faults.pending()[0]
    assert pending['matched'] == 1000
    assert pending['applied'] == {'respond': met['respond'], 'reset': met['reset']}
    assert met[None] == 1000 - sum(pending['applied'].values())


# ---------------------------------------------------------------- reproducible

SPEC = {'path_prefix': TOKEN, 'actions': ['respond', 'reset'], 'count': -1, 'probability': 0.2}


def test_the_same_seed_gives_the_same_faults_to_the_same_requests():
    first, second = faults_with(SPEC), faults_with(SPEC)
    first.reseed(42)
    second.reseed(42)
    assert outcomes(first, 200) == outcomes(second, 200)
    third = faults_with(SPEC)
    third.reseed(43)
    assert outcomes(third, 200) != outcomes(faults_with(SPEC), 200)


def test_a_new_server_and_a_reset_start_from_the_default_seed():
    new = faults_with(SPEC)
    expected = outcomes(new, 200)
    used = faults_with(SPEC)
    used.reseed(7)
    outcomes(used, 50)
    used.clear()
    assert used.seed == DEFAULT_SEED
    used.add([SPEC])
    assert outcomes(used, 200) == expected


# ---------------------------------------------------------------- refused

@pytest.mark.parametrize('spec, message', [
    ({'action': 'respond', 'probability': 0}, 'probability must be more than 0 and at most 1'),
    ({'action': 'respond', 'probability': 1.5}, 'probability must be more than 0 and at most 1'),
    ({'action': 'respond', 'probability': '0.2'}, "fault field 'probability' must be of type float"),
    ({'action': 'respond', 'probability': True}, "fault field 'probability' must be of type float"),
    ({'action': 'respond', 'count': 0}, 'count must be >= 1 (or -1: unlimited)'),
    ({'action': 'respond', 'count': -2}, 'count must be >= 1 (or -1: unlimited)'),
    ({'actions': []}, 'actions must be a non-empty list of'),
    ({'actions': ['respond', 'explode']}, 'actions must be a non-empty list of'),
    ({'actions': 'reset'}, 'actions must be a non-empty list of'),
    ({'action': 'reset', 'actions': ['reset']}, 'give either action or actions, not both'),
])
def test_unusable_random_faults_are_refused(spec, message):
    with pytest.raises(FaultSpecError) as error:
        parse_fault(spec)
    assert message in str(error.value)


# ---------------------------------------------------------------- the control API

class _App:
    def __init__(self):
        self.faults = FaultList()


def _control(app, method, path, body=None):
    request = Request(method=method, path='/_testserver' + path, query={}, headers=HTTPMessage(), client_ip='127.0.0.1',
                      body=json.dumps(body).encode('utf-8') if body is not None else b'')
    response = handle_control(app, request)
    return response.status, json.loads(response.body.decode('utf-8'))


def test_the_control_api_sets_the_seed_and_lists_the_faults_with_their_counts():
    app = _App()
    assert _control(app, 'POST', '/faults', {'faults': [SPEC]})[0] == 200
    assert _control(app, 'POST', '/faults/seed', {'seed': 1234}) == (200, {'seed': 1234})
    met = outcomes(app.faults, 100)
    status, listing = _control(app, 'GET', '/faults')
    assert status == 200
    assert listing['seed'] == 1234
    assert listing['pending'][0]['matched'] == 100
    assert sum(listing['pending'][0]['applied'].values()) == 100 - met.count(None)
    again = _App()
    again.faults.add([SPEC])
    again.faults.reseed(1234)
    assert outcomes(again.faults, 100) == met


@pytest.mark.parametrize('body', [None, {}, {'seed': 'x'}, {'seed': 1.5}, {'seed': True}, [1]])
def test_the_control_api_refuses_a_seed_that_is_not_an_integer(body):
    status, answer = _control(_App(), 'POST', '/faults/seed', body)
    assert status == 400
    assert 'seed' in answer['errorMessage']

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict on the fault matrix that faults.yml ran (see fault_matrix.py and vars/cases.yml).

One test per case and plugin: the expected outcome (a token after a bounded
number of attempts, counted by the server, or a failure whose message names
the URL and the cause), no traceback, no secret, and nothing sent to the
redirect target. Two more tests look at everything the run printed.
"""

from __future__ import annotations

import os

import pytest
import yaml

import fault_matrix


def _case_ids():
    with open(os.environ['FAULT_CASES'], encoding='utf-8') as cases_file:
        return [case['id'] for case in yaml.safe_load(cases_file)['fault_cases']]


@pytest.fixture(scope='module')
def judged():
    cases, _results, _runs, verdicts, run_problems = fault_matrix.judge_all()
    return cases, verdicts, run_problems


@pytest.mark.parametrize('plugin', fault_matrix.PLUGINS)
@pytest.mark.parametrize('case_id', _case_ids())
def test_fault(judged, case_id, plugin):
    _cases, verdicts, _run_problems = judged
    assert verdicts[(case_id, plugin)] == []


def test_every_case_ran_through_both_plugins(judged):
    cases, verdicts, _run_problems = judged
    assert len(cases) >= 25
    assert sorted(verdicts) == sorted((case_id, plugin) for case_id in cases for plugin in fault_matrix.PLUGINS)


def test_the_run_printed_no_traceback_and_no_secret(judged):
    _cases, _verdicts, run_problems = judged
    assert run_problems == []

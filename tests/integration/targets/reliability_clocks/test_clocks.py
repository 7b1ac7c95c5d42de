# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine whose clock is 10 minutes off from the site's, made with faketime; the test server keeps the real time.

* Slow (600 s behind): a kept token that the site's clock says has expired is
  replaced, by the module at dest and by the lookup, though this machine's
  clock says it has ten minutes left.
* Fast (600 s ahead): a token with 600 s of lifetime, which this machine's
  clock says has expired at once, is kept: three module runs and two plays of
  five hosts cost one token each.
* The difference is learnt from the answer that brought the token, kept in
  the .site record (and the cache entry), and warned about once: by the run,
  or the one lookup, that issued the token.
* Clocks that agree: clock_offset 0 and no warning.
"""

from __future__ import annotations

import json
import os
import re
import time

SLOW, FAST = -600, 600  # this machine's clock against the site's
WARNING = re.compile(r'the clock of this machine is (\d+) s (behind|ahead of) the clock of')


def tokens_issued(control):
    return control.stats()['tokens_issued']['total']


def module_run(playbooks, scratch, name, lifetime, min_validity):
    """One unicore_auth_token run with dest; its result, with ``clock_warnings`` as the output showed them."""
    dest = os.path.join(scratch, 'unicore.token')
    results, output = playbooks.results('module_cases.yml', [{'name': name, 'dest': dest, 'lifetime': lifetime,
                                                              'min_validity': min_validity}])
    result = results[name]
    assert not result['failed'], result['msg']
    return dict(result, clock_warnings=warned(output))


def clock_offset_kept_at(scratch):
    with open(os.path.join(scratch, 'unicore.token.site'), encoding='utf-8') as record:
        return json.load(record)['clock_offset']


def warned(output):
    """The clock warnings in a run's output, as (seconds, direction); Ansible may wrap a warning over lines."""
    return [(int(seconds), direction) for seconds, direction in WARNING.findall(' '.join(output.split()))]


def about(seconds, expected):
    return abs(seconds - expected) <= 2


def lookup_play(playbooks, scratch, lifetime, min_validity):
    """Five hosts, two tasks each; returns ({host: [digest, digest]}, output)."""
    results_file = os.path.join(scratch, 'digests.json')
    returncode, output = playbooks.run('lookup_hosts.yml', {'results_file': results_file, 'cache_dir': os.path.join(scratch, 'cache'),
                                                            'lifetime': lifetime, 'min_validity': min_validity})
    assert returncode == 0, output[-3000:]
    with open(results_file, encoding='utf-8') as handle:
        return json.load(handle), output


def test_a_slow_clock_does_not_keep_a_token_at_dest_that_the_site_says_has_expired(playbooks_at, control, scratch, figures):
    playbooks = playbooks_at(SLOW)
    before = tokens_issued(control)
    first = module_run(playbooks, scratch, 'first', lifetime=5, min_validity=0)
    assert first['issued'] is True
    assert about(clock_offset_kept_at(scratch), -SLOW)
    assert [direction for dummy, direction in first['clock_warnings']] == ['behind']
    time.sleep(6)  # the token has expired at the site; by this machine's clock it has almost ten minutes left
    second = module_run(playbooks, scratch, 'second', lifetime=5, min_validity=0)
    assert second['issued'] is True, 'an expired token was kept: %r' % second
    assert tokens_issued(control) - before == 2
    figures.record('clocks-module-slow', {'offset': SLOW, 'runs': 2, 'issued': [first['issued'], second['issued']],
                                          'tokens': tokens_issued(control) - before, 'kept_offset': clock_offset_kept_at(scratch),
                                          'warnings': len(first['clock_warnings'] + second['clock_warnings'])})


def test_a_fast_clock_keeps_a_good_token_at_dest_instead_of_replacing_it_on_every_run(playbooks_at, control, scratch, figures):
    playbooks = playbooks_at(FAST)
    before = tokens_issued(control)
    runs = [module_run(playbooks, scratch, 'run-%d' % number, lifetime=600, min_validity=60) for number in (1, 2, 3)]
    assert [run['issued'] for run in runs] == [True, False, False]
    assert [run['changed'] for run in runs] == [True, False, False]
    assert tokens_issued(control) - before == 1
    # By the site's clock: about ten minutes left, not "expired".
    assert 480 <= runs[2]['expires_in'] <= 600, runs[2]['expires_in']
    assert about(clock_offset_kept_at(scratch), -FAST)
    # Warned once: by the run that issued the token and learnt the difference.
    assert [(direction, about(seconds, FAST)) for run in runs for seconds, direction in run['clock_warnings']] == [('ahead of', True)]
    figures.record('clocks-module-fast', {'offset': FAST, 'runs': 3, 'issued': [run['issued'] for run in runs],
                                          'tokens': tokens_issued(control) - before, 'kept_offset': clock_offset_kept_at(scratch),
                                          'warnings': sum(len(run['clock_warnings']) for run in runs)})


def test_a_fast_clock_lets_the_lookup_keep_one_token_for_every_host_and_warns_once(playbooks_at, control, scratch, figures):
    playbooks = playbooks_at(FAST, 'inventory_hosts.ini')
    before = tokens_issued(control)
    first, first_output = lookup_play(playbooks, scratch, lifetime=600, min_validity=60)
    second, second_output = lookup_play(playbooks, scratch, lifetime=600, min_validity=60)
    digests = {digest for play in (first, second) for pair in play.values() for digest in pair}
    assert len(first) == 5 and len(digests) == 1
    assert tokens_issued(control) - before == 1
    assert [direction for dummy, direction in warned(first_output)] == ['ahead of']
    assert warned(second_output) == []
    figures.record('clocks-lookup-fast', {'offset': FAST, 'plays': 2, 'lookups': 20, 'tokens': tokens_issued(control) - before,
                                          'warnings': len(warned(first_output)) + len(warned(second_output))})


def test_a_slow_clock_does_not_let_the_lookup_give_a_token_that_the_site_says_has_expired(playbooks_at, control, scratch, figures):
    playbooks = playbooks_at(SLOW, 'inventory_hosts.ini')
    before = tokens_issued(control)
    first, first_output = lookup_play(playbooks, scratch, lifetime=15, min_validity=0)
    assert len({digest for pair in first.values() for digest in pair}) == 1
    assert tokens_issued(control) - before == 1
    time.sleep(16)  # expired at the site; by this machine's clock, and its remembered answers, almost ten minutes left
    second, second_output = lookup_play(playbooks, scratch, lifetime=15, min_validity=0)
    second_digests = {digest for pair in second.values() for digest in pair}
    assert len(second_digests) == 1 and not second_digests & {digest for pair in first.values() for digest in pair}, \
        'the expired token was given again'
    assert tokens_issued(control) - before == 2
    assert [direction for dummy, direction in warned(first_output) + warned(second_output)] == ['behind', 'behind']
    figures.record('clocks-lookup-slow', {'offset': SLOW, 'plays': 2, 'lookups': 20, 'tokens': tokens_issued(control) - before,
                                          'warnings': len(warned(first_output)) + len(warned(second_output))})


def test_clocks_that_agree_keep_a_zero_offset_and_warn_nothing(playbooks_at, control, scratch, figures):
    before = tokens_issued(control)
    result = module_run(playbooks_at(0), scratch, 'agreeing', lifetime=600, min_validity=60)
    assert result['issued'] is True
    assert clock_offset_kept_at(scratch) == 0
    assert result['clock_warnings'] == [] and not result.get('warnings')
    figures.record('clocks-module-agree', {'offset': 0, 'runs': 1, 'issued': [True], 'tokens': tokens_issued(control) - before,
                                           'kept_offset': 0, 'warnings': 0})

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's clock as learnt from the Date of the answer that brought a token, and as a record keeps it."""

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._site_clock import MAX_OFFSET, kept_offset, learnt_offset, offset_warning

NOW = 1796576048.3


def date(seconds):
    return email.utils.formatdate(seconds, usegmt=True)


@pytest.mark.parametrize('site_time, expected', [
    (NOW + 600, 600),
    (NOW - 600, -600),
    (NOW + 61, 61),
    (NOW, 0),
    (NOW - 1, 0),   # a one-second time stamp, sent a moment before it arrived
    (NOW + 2, 0),
    (NOW + 3, 3),
])
def test_the_offset_is_the_sites_date_less_this_machines_time_when_it_arrived(site_time, expected):
    assert learnt_offset(date(site_time), NOW) == expected


@pytest.mark.parametrize('header', [None, '', 'yesterday', 'Sun, 31 Feb 2026 25:61:00 GMT', date(NOW + MAX_OFFSET + 10)])
def test_an_unreadable_or_absurd_date_teaches_nothing(header):
    assert learnt_offset(header, NOW) == 0


@pytest.mark.parametrize('value, expected', [(600, 600), (-600, -600), (0, 0), (None, 0), ('600', 0), (True, 0),
                                             (600.0, 0), (MAX_OFFSET + 1, 0), (-MAX_OFFSET - 1, 0), ([600], 0)])
def test_a_kept_offset_is_believed_only_as_a_whole_number_within_a_year(value, expected):
    assert kept_offset(value) == expected


def test_a_difference_of_up_to_60_seconds_is_not_warned_about():
    assert offset_warning(60, 'https://site') is None
    assert offset_warning(-60, 'https://site') is None


@pytest.mark.parametrize('offset, words', [(61, '61 s behind the clock of https://site'), (-3600, '3600 s ahead of the clock of https://site')])
def test_a_larger_difference_is_warned_about_naming_the_site_and_the_direction(offset, words):
    assert words in offset_warning(offset, 'https://site')

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore.auth.kept_token_check filter judges a host's token on the controller, by the controller's clock."""

from __future__ import annotations

import base64
import json
import time

import pytest

from ansible_collections.unicore.auth.plugins.filter import kept_token_check as filter_plugin

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def token_valid_for(seconds):
    now = int(time.time())
    claims = {'sub': 'CN=Demo User,O=UNICORE,C=EU', 'iss': SITE_DN, 'aud': SITE_DN, 'iat': now, 'exp': now + seconds, 'etd': 'true'}
    return '%s.%s.c2lnbmF0dXJl' % (_b64url(b'{"alg":"RS256"}'), _b64url(json.dumps(claims).encode('utf-8')))


def kept_token_check(token, **options):
    return filter_plugin.FilterModule().filters()['kept_token_check'](token, **options)


@pytest.mark.parametrize('clock_offset', [None, 0, 3000, -3000])
def test_the_clock_offset_that_a_host_recorded_does_not_change_the_controllers_judgement(clock_offset):
    # Valid for 1000 s by the controller's clock: it fits (min_validity 360). The host's offset, learnt by the
    # host's clock, would make it look expired (3000) or give it more time than it has (-3000).
    record = {'url': SITE, 'issuer': SITE_DN}
    if clock_offset is not None:
        record['clock_offset'] = clock_offset
    for site_record in (record, json.dumps(record)):
        assert kept_token_check(token_valid_for(1000), url=SITE, site_record=site_record)['fits'] is True
        assert kept_token_check(token_valid_for(300), url=SITE, site_record=site_record)['reason'] == \
            'it is valid for less than min_validity (360 s)'

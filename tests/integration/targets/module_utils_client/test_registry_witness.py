# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Registry's sites as PyUNICORE 2.0.2 names them, and as we do: the same names and URLs."""

from __future__ import annotations

import ssl

from pyunicore import client as pyunicore_client
from pyunicore import credentials as pyunicore_credentials

from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential
from ansible_collections.unicore.auth.plugins.module_utils._registry import read_registry
from ansible_collections.unicore.auth.plugins.module_utils._transport import Transport


def test_pyunicore_names_the_registrys_sites_as_we_do(server):
    transport = pyunicore_client.Transport(pyunicore_credentials.Anonymous(), verify=ssl.create_default_context(cafile=server['ca_cert']))
    theirs = pyunicore_client.Registry(transport, server['registry_url'])
    ours_transport = Transport(AnonymousCredential(), ca_path=server['ca_cert'])
    try:
        ours = read_registry(ours_transport, server['registry_url'])
    finally:
        ours_transport.close()
    assert dict((site['name'], site['url']) for site in ours.sites) == theirs.site_urls
    assert [site['name'] for site in ours.sites] == ['DEMO-SITE', 'LONE-SITE', 'PARTNER-SITE']
    # PyUNICORE keeps the workflow service apart, as we leave it out of the sites
    assert list(theirs.workflow_services_urls) == ['WORKFLOW']
    assert len(ours.entries) == 4

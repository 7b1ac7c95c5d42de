# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit tests of the plugins."""

from __future__ import annotations

import pytest
import yaml

from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.template import trust_as_template
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.unicore.auth.plugins.doc_fragments import connection, credentials, token
from ansible_collections.unicore.auth.plugins.lookup import unicore_token

FRAGMENTS = {
    'unicore.auth.connection': connection.ModuleDocFragment,
    'unicore.auth.credentials': credentials.ModuleDocFragment,
    'unicore.auth.token': token.ModuleDocFragment,
}


class FragmentLoader:
    """Finds this collection's doc fragments by FQCN, as the real fragment loader does (and nothing else).

    Finding ``unicore.auth.*`` fragments by name needs the collection finder,
    which a unit test run does not always have.
    """

    def get(self, name, *args, **kwargs):
        fragment = FRAGMENTS.get(name)
        return None if fragment is None else type('ModuleDocFragment', (fragment,), {'ansible_name': name})


@pytest.fixture
def documented_lookup_options():
    """The unicore_token lookup's options as Ansible's plugin loader reads them: DOCUMENTATION with its fragments merged in."""
    documentation = yaml.load(trust_as_template(unicore_token.DOCUMENTATION), Loader=AnsibleLoader)
    add_fragments(documentation, unicore_token.__file__, fragment_loader=FragmentLoader())
    return documentation['options']

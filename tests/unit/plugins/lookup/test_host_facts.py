# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A managed host's facts never choose the controller's options (issue 17).

The task variables are built by Ansible's own VariableManager from an
inventory, a play and the facts a host reported, as a lookup gets them in a
play. The integration target security_host_facts shows the same with
ansible-playbook, the roles and a listener standing in for the attacker's address.
"""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleLookupError
from ansible.inventory.manager import InventoryManager
from ansible.playbook.play import Play
from ansible.vars.manager import VariableManager

from ansible_collections.unicore.auth.plugins.lookup import unicore_token
from ansible_collections.unicore.auth.plugins.lookup.unicore_token import HostFactError, option_variables
from ansible_collections.unicore.auth.tests.unit.plugins.ansible_core_compat import trust_as_template

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
ATTACKER = 'http://attacker.example:8080/DEMO-SITE/rest/core'


@pytest.fixture
def task_variables(loader, tmp_path):
    """``task_variables(play_vars, facts, host_vars)``: host h1's variables in a play, after h1 reported ``facts``."""
    def build(play_vars=None, facts=None, host_vars=None):
        inventory_file = tmp_path / 'inventory.ini'
        inventory_file.write_text('h1 %s\nh2\n' % ' '.join('%s=%s' % item for item in (host_vars or {}).items()))
        inventory = InventoryManager(loader=loader, sources=[str(inventory_file)])
        manager = VariableManager(loader=loader, inventory=inventory)
        if facts:
            manager.set_host_facts('h1', facts)
        # Strings from a playbook file are templates Ansible trusts.
        play_vars = dict((name, trust_as_template(value)) for name, value in (play_vars or {}).items())
        play = Play.load({'hosts': 'all', 'gather_facts': False, 'vars': play_vars}, variable_manager=manager, loader=loader)
        return manager.get_vars(play=play, host=inventory.get_host('h1'))
    return build


def option_values(make_lookup, variables):
    lookup = make_lookup(variables)
    return option_variables(lookup._templar, lookup._loader, variables, unicore_token.OPTION_VARIABLES)


def test_a_variable_that_is_the_hosts_fact_is_refused_naming_it_and_the_host(make_lookup, task_variables):
    variables = task_variables(facts={'unicore_url': ATTACKER, 'unicore_allow_http': True})
    with pytest.raises(HostFactError) as error:
        option_values(make_lookup, variables)
    message = str(error.value)
    assert message.startswith('unicore_allow_http and unicore_url are facts that host h1 reported, and a managed host must never choose')
    assert 'Find out why h1 reports them' in message and 'play, role or extra vars' in message and ATTACKER not in message


def test_a_fact_outranks_the_inventory_and_is_refused_there_too(make_lookup, task_variables):
    variables = task_variables(facts={'unicore_subject': 'CN=Someone Else'}, host_vars={'unicore_subject': 'CN=Demo'})
    assert variables['unicore_subject'] == 'CN=Someone Else'  # as Ansible ranks them
    with pytest.raises(HostFactError, match='^unicore_subject is a fact that host h1 reported'):
        option_values(make_lookup, variables)


def test_a_play_variable_outranks_the_fact_and_is_used(make_lookup, task_variables):
    variables = task_variables(play_vars={'unicore_url': SITE}, facts={'unicore_url': ATTACKER})
    assert option_values(make_lookup, variables) == {'unicore_url': SITE}


def test_a_template_that_reads_a_fact_is_refused(make_lookup, task_variables):
    variables = task_variables(play_vars={'unicore_url': '{{ site_url }}'}, host_vars={'site_url': SITE}, facts={'site_url': ATTACKER})
    with pytest.raises(HostFactError) as error:
        option_values(make_lookup, variables)
    # ansible-core before 2.19 says "'site_url' is undefined. 'site_url' is undefined"
    assert re.match(r"unicore_url cannot be templated without the facts that host h1 reported \('site_url' is undefined[^)]*\): ", str(error.value))


@pytest.mark.parametrize('template', ['{{ ansible_facts.site_url }}', '{{ vars.site_url }}', '{{ ansible_site_url }}'])
def test_facts_are_out_of_reach_under_every_name_ansible_gives_them(make_lookup, task_variables, template):
    variables = task_variables(play_vars={'unicore_url': template}, facts={'site_url': ATTACKER, 'ansible_site_url': ATTACKER})
    with pytest.raises(HostFactError, match='^unicore_url cannot be templated without the facts that host h1 reported'):
        option_values(make_lookup, variables)


def test_without_the_fact_the_template_takes_its_default(make_lookup, task_variables):
    variables = task_variables(play_vars={'unicore_url': "{{ site_url | default('%s') }}" % SITE}, facts={'site_url': ATTACKER})
    assert option_values(make_lookup, variables) == {'unicore_url': SITE}


def test_other_variables_are_templated_as_ever_beside_facts(make_lookup, task_variables):
    variables = task_variables(play_vars={'unicore_url': '{{ site }}', 'site': SITE, 'unicore_password': '{{ vault_password }}'},
                               host_vars={'vault_password': 's3cret'}, facts={'distribution': 'Debian', 'ansible_distribution': 'Debian'})
    assert option_values(make_lookup, variables) == {'unicore_url': SITE, 'unicore_password': 's3cret'}


def test_where_templar_cannot_copy_itself_a_new_templar_leaves_the_facts_out_too(make_lookup, task_variables, monkeypatch):
    variables = task_variables(play_vars={'unicore_url': '{{ site_url }}', 'unicore_username': '{{ user }}', 'user': 'demouser'},
                               facts={'site_url': ATTACKER})
    lookup = make_lookup(variables)
    monkeypatch.delattr(type(lookup._templar), 'copy_with_new_env')
    with pytest.raises(HostFactError, match="'site_url' is undefined"):
        option_variables(lookup._templar, lookup._loader, variables, unicore_token.OPTION_VARIABLES)
    del variables['unicore_url']
    assert option_variables(lookup._templar, lookup._loader, variables, unicore_token.OPTION_VARIABLES) == {'unicore_username': 'demouser'}


def test_the_token_lookup_refuses_before_any_request(make_lookup, task_variables, site, tmp_path):
    variables = task_variables(play_vars={'unicore_username': 'demouser', 'unicore_password': 's3cret'},
                               facts={'unicore_url': ATTACKER, 'unicore_allow_http': True})
    with pytest.raises(AnsibleLookupError, match='^unicore.auth.unicore_token: unicore_allow_http and unicore_url are facts that host h1 reported'):
        make_lookup(variables).run([], variables=variables, cache_dir=str(tmp_path / 'cache'))
    assert site.requests == []


def test_the_options_lookup_refuses_too(options_lookup, task_variables):
    variables = task_variables(facts={'unicore_validate_certs': False})
    lookup = options_lookup(variables)
    with pytest.raises(AnsibleLookupError, match='^unicore.auth.unicore_options: unicore_validate_certs is a fact that host h1 reported'):
        lookup.run(['validate_certs'], variables=variables)
    # An option the call does not ask for is not read, nor refused.
    assert lookup.run(['url'], variables=variables) == [{}]

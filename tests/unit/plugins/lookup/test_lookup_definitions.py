# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSON copy of the lookup's option definitions, which the lookup registers when imported.

It spares every forked worker the YAML parse of the documentation, so it must
say exactly what the documentation says.
"""

from __future__ import annotations

import json

from ansible import constants as C

from ansible_collections.unicore.auth.plugins.lookup import unicore_token


def test_the_json_copy_says_what_the_documentation_says(documented_lookup_options):
    with open(unicore_token.OPTION_DEFINITIONS, encoding='utf-8') as handle:
        copy = json.load(handle)
    # Through JSON: Ansible's tagged strings become plain ones.
    assert copy == json.loads(json.dumps(documented_lookup_options)), 'run make lookup-definitions to write the copy anew'


def test_importing_the_lookup_registers_its_definitions_under_the_name_the_plugin_loader_uses():
    # The plugin loader looks the definitions up by the module's name and parses
    # the documentation only when none are registered.
    assert C.config.has_configuration_definition('lookup', unicore_token.__name__)
    assert set(C.config.get_configuration_definitions('lookup', unicore_token.__name__)) >= {'url', 'cache', 'cache_dir', 'allow_http'}


def test_no_default_in_the_json_copy_is_a_template():
    # The plugin file reads the copy as it is: a default such as "{{ lookup('env', 'HOME') }}"
    # would reach the rules untemplated.
    templates = sorted(name for name, definition in unicore_token.DEFINITIONS.items()
                       if isinstance(definition.get('default'), str) and ('{{' in definition['default'] or '{%' in definition['default']))
    assert templates == []

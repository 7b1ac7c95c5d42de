#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write plugins/plugin_utils/_unicore_token_options.json from the lookup's documentation (`make lookup-definitions`).

The lookup hands Ansible this JSON copy of its option definitions when it is
imported, so that a forked worker does not parse DOCUMENTATION and six doc
fragments as YAML for every host and task (see docs/performance.md). Run this
after changing the lookup's options or the doc fragments; a unit test fails
while the copy and the documentation differ. The file is internal: nothing
but the lookup reads it.

    make lookup-definitions

which runs this script with ANSIBLE_COLLECTIONS_PATH set to a directory
holding ansible_collections/unicore/auth as a link to the checkout.
"""

from __future__ import annotations

import importlib
import json
import sys

import yaml

from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.plugins.loader import fragment_loader, init_plugin_loader
from ansible.template import trust_as_template
from ansible.utils.plugin_docs import add_fragments

LOOKUP_MODULE = 'ansible_collections.unicore.auth.plugins.lookup.unicore_token'


def option_definitions(lookup_module):
    """The options of the lookup's DOCUMENTATION with the doc fragments merged in, as Ansible's plugin loader reads them."""
    documentation = yaml.load(trust_as_template(lookup_module.DOCUMENTATION), Loader=AnsibleLoader)
    add_fragments(documentation, lookup_module.__file__, fragment_loader=fragment_loader)
    # Through JSON: Ansible's tagged strings become plain ones.
    return json.loads(json.dumps(documentation['options']))


def main():
    init_plugin_loader()
    try:
        lookup_module = importlib.import_module(LOOKUP_MODULE)
    except ImportError as error:
        sys.exit('cannot import %s (%s): set ANSIBLE_COLLECTIONS_PATH to the directory holding ansible_collections/unicore/auth'
                 % (LOOKUP_MODULE, error))
    definitions = option_definitions(lookup_module)
    with open(lookup_module.OPTION_DEFINITIONS, 'w', encoding='utf-8') as handle:
        json.dump(definitions, handle, indent=1, sort_keys=True)
        handle.write('\n')
    print('wrote %s (%d options)' % (lookup_module.OPTION_DEFINITIONS, len(definitions)))


if __name__ == '__main__':
    main()

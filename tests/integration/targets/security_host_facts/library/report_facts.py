#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attacker's module: returns the facts it is given, as any module on a managed host may."""

from __future__ import annotations

DOCUMENTATION = r"""
module: report_facts
short_description: Report the given facts (a test's stand-in for a hostile managed host)
description:
  - Returns O(facts) as C(ansible_facts), which Ansible keeps as the host's facts (and in its fact cache).
options:
  facts:
    description: The facts to report.
    type: dict
    required: true
author:
  - unicore.auth maintainers (@unicore-auth)
"""

EXAMPLES = r"""
- name: Claim that the site is elsewhere
  report_facts:
    facts:
      unicore_url: http://127.0.0.1:8081/DEMO-SITE/rest/core
"""

RETURN = r"""
ansible_facts:
  description: The facts given.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(facts=dict(type='dict', required=True)), supports_check_mode=True)
    module.exit_json(changed=False, ansible_facts=module.params['facts'])


if __name__ == '__main__':
    main()

# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The properties of an issued token, shared by unicore_auth_token and the unicore_token lookup.
    # DOCUMENTATION serves both; PLUGINS adds the sources a lookup reads as well.
    DOCUMENTATION = r"""
options:
  lifetime:
    description:
      - Lifetime of a new token in seconds. The site refuses lifetimes beyond its certificate's remaining validity.
    type: int
    default: 3600
  renewable:
    description:
      - Issue a renewable token, one that can itself be used to get a new token.
    type: bool
    default: false
  limited:
    description:
      - Issue a token that only the issuing site accepts (least privilege).
      - Set to V(false) for a token that every site trusting the issuer accepts, usually the sites of the same registry.
    type: bool
    default: true
  min_validity:
    description:
      - Seconds a kept token must still be valid to be reused; a token closer to expiry is replaced by a new one.
      - Defaults to a tenth of O(lifetime). Must be less than O(lifetime).
      - Judged by the issuing site's clock. When a token is issued, how far the site's clock (the C(Date) of its answer) is
        from the clock of the machine that asked is kept with the token, so that a clock that is off neither keeps a token the
        site has expired nor replaces a good one on every run. A difference of more than 60 seconds is warned about once,
        when the token is issued.
    type: int
"""

    PLUGINS = r"""
options:
  lifetime:
    env:
      - name: UNICORE_LIFETIME
    ini:
      - section: unicore
        key: lifetime
    vars:
      - name: unicore_lifetime
  renewable:
    env:
      - name: UNICORE_RENEWABLE
    ini:
      - section: unicore
        key: renewable
    vars:
      - name: unicore_renewable
  limited:
    env:
      - name: UNICORE_LIMITED
    ini:
      - section: unicore
        key: limited
    vars:
      - name: unicore_limited
  min_validity:
    env:
      - name: UNICORE_MIN_VALIDITY
    ini:
      - section: unicore
        key: min_validity
    vars:
      - name: unicore_min_validity
"""

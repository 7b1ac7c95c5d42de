# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Authentication options shared by the modules and plugins of unicore.auth.
    # DOCUMENTATION serves modules and plugins; PLUGINS adds the sources a
    # lookup reads as well (env vars without an ANSIBLE_ prefix, which AWX refuses).
    DOCUMENTATION = r"""
options:
  auth_method:
    description:
      - How to authenticate.
      - "V(auto) picks from what is given: O(token) means V(bearer), O(identity) or O(identity_content) means V(ssh_key), O(password) means V(password)."
      - "Anonymous access is never guessed: with no credentials V(auto) fails; set V(anonymous) to call the site anonymously."
      - V(password) sends HTTP Basic O(username) and O(password).
      - V(basic_token) sends O(token) as an already encoded HTTP Basic value.
      - "V(bearer) sends O(token): an OIDC access token or a token issued by a UNICORE site."
      - V(ssh_key) signs a short-lived JWT with the user's private key (O(identity) or O(identity_content));
        the site checks it against the user's registered public keys.
      - V(trusted_service) signs a delegation JWT for the user O(subject) as the service O(issuer), with the service's key or O(hmac_secret).
      - V(x509) authenticates with the TLS client certificate O(client_cert).
      - V(anonymous) sends no credentials.
    type: str
    default: auto
    choices: [auto, password, bearer, basic_token, ssh_key, trusted_service, x509, anonymous]
  username:
    description:
      - UNICORE user name, for O(auth_method=password) and O(auth_method=ssh_key).
    type: str
  password:
    description:
      - Password for O(auth_method=password). Keep it in Ansible Vault.
    type: str
  token:
    description:
      - "For O(auth_method=bearer): an OIDC access token, or a token issued by a UNICORE site."
      - For O(auth_method=basic_token), the already encoded HTTP Basic value.
      - Visible ASCII characters only, without white space inside; surrounding white space, such as a file's final newline, is ignored.
    type: str
  identity:
    description:
      - Private key file for O(auth_method=ssh_key) (or the service key for O(auth_method=trusted_service)).
      - OpenSSH or PEM/PKCS#8 format; RSA, EC P-256 or Ed25519.
      - A relative path is looked up under C(~/.uftp/), as UNICORE's own clients do.
      - Mutually exclusive with O(identity_content).
      - "As ssh does, a key file of the user's own is refused when its group or others may access it: C(chmod 600) it.
        A file encrypted with ansible-vault, which the lookup decrypts, may have any mode."
    type: path
  identity_content:
    description:
      - The private key itself, for example from a vault-encrypted variable. Mutually exclusive with O(identity).
    type: str
  identity_passphrase:
    description:
      - Passphrase of an encrypted O(identity), O(identity_content) or O(client_key).
    type: str
  jwt_lifetime:
    description:
      - Lifetime in seconds of the JWTs this client signs for O(auth_method=ssh_key) and O(auth_method=trusted_service).
      - A JWT is reused until it is close to expiry, so a long play signs few of them.
      - "At most 86400 (one day): a signed JWT cannot be revoked, and a new one is signed when needed."
    type: int
    default: 300
  subject:
    description:
      - "O(auth_method=trusted_service): the DN of the user the service acts for."
    type: str
  issuer:
    description:
      - "O(auth_method=trusted_service): the DN of the service."
      - Required with O(identity), O(identity_content) or O(hmac_secret); defaults to the subject of O(client_cert) when signing with O(client_key).
    type: str
  hmac_secret:
    description:
      - "O(auth_method=trusted_service): sign with HS256 and this secret shared with the site (at least 32 characters) instead of a key."
    type: str
"""

    PLUGINS = r"""
options:
  auth_method:
    env:
      - name: UNICORE_AUTH_METHOD
    ini:
      - section: unicore
        key: auth_method
    vars:
      - name: unicore_auth_method
  username:
    env:
      - name: UNICORE_USERNAME
    ini:
      - section: unicore
        key: username
    vars:
      - name: unicore_username
  password:
    env:
      - name: UNICORE_PASSWORD
    ini:
      - section: unicore
        key: password
    vars:
      - name: unicore_password
  token:
    env:
      - name: UNICORE_TOKEN
    ini:
      - section: unicore
        key: token
    vars:
      - name: unicore_token
  identity:
    env:
      - name: UNICORE_IDENTITY
    ini:
      - section: unicore
        key: identity
    vars:
      - name: unicore_identity
  identity_content:
    env:
      - name: UNICORE_IDENTITY_CONTENT
    ini:
      - section: unicore
        key: identity_content
    vars:
      - name: unicore_identity_content
  identity_passphrase:
    env:
      - name: UNICORE_IDENTITY_PASSPHRASE
    ini:
      - section: unicore
        key: identity_passphrase
    vars:
      - name: unicore_identity_passphrase
  jwt_lifetime:
    env:
      - name: UNICORE_JWT_LIFETIME
    ini:
      - section: unicore
        key: jwt_lifetime
    vars:
      - name: unicore_jwt_lifetime
  subject:
    env:
      - name: UNICORE_SUBJECT
    ini:
      - section: unicore
        key: subject
    vars:
      - name: unicore_subject
  issuer:
    env:
      - name: UNICORE_ISSUER
    ini:
      - section: unicore
        key: issuer
    vars:
      - name: unicore_issuer
  hmac_secret:
    env:
      - name: UNICORE_HMAC_SECRET
    ini:
      - section: unicore
        key: hmac_secret
    vars:
      - name: unicore_hmac_secret
"""

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
      - "V(auto) picks from what is given: O(token) or O(token_file) means V(bearer);
        O(oidc_refresh_token), O(oidc_token_endpoint) or O(oidc_issuer) means V(oidc_server);
        O(oidc_agent_account) means V(oidc_agent); O(identity) or O(identity_content) means V(ssh_key); O(password) means V(password)."
      - "Anonymous access is never guessed: with no credentials V(auto) fails; set V(anonymous) to call the site anonymously."
      - V(password) sends HTTP Basic O(username) and O(password).
      - V(basic_token) sends O(token) as an already encoded HTTP Basic value.
      - "V(bearer) sends O(token), or the token in O(token_file): an OIDC access token or a token issued by a UNICORE site."
      - V(ssh_key) signs a short-lived JWT with the user's private key (O(identity) or O(identity_content));
        the site checks it against the user's registered public keys.
      - V(ssh_agent) has the same JWT signed by a key that ssh-agent holds (O(ssh_agent_socket)), so that neither the private key
        nor its passphrase reaches Ansible; O(identity) names which key. Never picked by V(auto).
      - V(trusted_service) signs a delegation JWT for the user O(subject) as the service O(issuer), with the service's key or O(hmac_secret).
      - V(oidc_server) logs in at the site's OIDC provider (O(oidc_token_endpoint) or O(oidc_issuer)) with a refresh token, or else
        O(username) and O(password), and sends the access token it gets; the site reports the login as C(OAUTH).
      - V(oidc_agent) asks a running oidc-agent for an access token of the account O(oidc_agent_account) and sends it;
        the site reports the login as C(OAUTH).
      - V(x509) authenticates with the TLS client certificate O(client_cert).
      - V(anonymous) sends no credentials.
    type: str
    default: auto
    choices: [auto, password, bearer, basic_token, ssh_key, ssh_agent, trusted_service, oidc_server, oidc_agent, x509, anonymous]
  username:
    description:
      - UNICORE user name, for O(auth_method=password), O(auth_method=ssh_key) and O(auth_method=ssh_agent);
        for O(auth_method=oidc_server), the user name at the OIDC provider.
    type: str
  password:
    description:
      - Password for O(auth_method=password), or at the OIDC provider for O(auth_method=oidc_server). Keep it in Ansible Vault.
    type: str
  token:
    description:
      - "For O(auth_method=bearer): an OIDC access token, or a token issued by a UNICORE site."
      - For O(auth_method=basic_token), the already encoded HTTP Basic value.
      - Visible ASCII characters only, without white space inside; surrounding white space, such as a file's final newline, is ignored.
      - Mutually exclusive with O(token_file).
    type: str
  token_file:
    description:
      - "For O(auth_method=bearer): a file that holds the token, on the host the module runs on (the controller for the lookup),
        for example one that P(unicore.auth.workflow_token#role) installed or another tool wrote."
      - One line of visible ASCII characters; surrounding white space is ignored. A file that is missing, unreadable, empty, longer
        than 64 KiB or holds anything else is an error naming the path, never showing the content.
      - The lookup reads it through Ansible's loader, so it may be encrypted with ansible-vault.
    type: path
  identity:
    description:
      - Private key file for O(auth_method=ssh_key) (or the service key for O(auth_method=trusted_service)).
      - OpenSSH or PEM/PKCS#8 format; RSA, EC P-256 or Ed25519.
      - A relative path is looked up under C(~/.uftp/), as UNICORE's own clients do.
      - Mutually exclusive with O(identity_content).
      - "As ssh does, a key file of the user's own is refused when its group or others may access it: C(chmod 600) it.
        A file encrypted with ansible-vault, which the lookup decrypts, may have any mode."
      - "With O(auth_method=ssh_agent), the agent key that signs: a public key file (C(.pub)), or a private key file with its
        C(.pub) beside it, of which only the public key is read. Without it, the agent's first RSA, EC P-256 or Ed25519 key signs."
    type: path
  identity_content:
    description:
      - The private key itself, for example from a vault-encrypted variable. Mutually exclusive with O(identity).
      - With O(auth_method=ssh_agent), the public key line of the agent key that signs, instead of O(identity).
    type: str
  identity_passphrase:
    description:
      - Passphrase of an encrypted O(identity), O(identity_content) or O(client_key).
    type: str
  jwt_lifetime:
    description:
      - Lifetime in seconds of the JWTs this client signs for O(auth_method=ssh_key), O(auth_method=ssh_agent) and O(auth_method=trusted_service).
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
  ssh_agent_socket:
    description:
      - "O(auth_method=ssh_agent): the agent's UNIX socket, on the host the module runs on (the controller for the lookup)."
      - When not set, the environment variable C(SSH_AUTH_SOCK) of that host.
      - RSA keys sign with C(rsa-sha2-256) (RS256), EC P-256 keys give ES256, Ed25519 keys EdDSA.
    type: path
  oidc_token_endpoint:
    description:
      - "O(auth_method=oidc_server): the token endpoint of the OIDC provider,
        for Keycloak C(https://HOST/realms/REALM/protocol/openid-connect/token)."
      - An C(http://) endpoint is refused unless O(allow_http) is set.
    type: str
  oidc_issuer:
    description:
      - "O(auth_method=oidc_server): the provider's issuer. Without O(oidc_token_endpoint), the token endpoint is read from
        C(<issuer>/.well-known/openid-configuration)."
    type: str
  oidc_client_id:
    description:
      - "O(auth_method=oidc_server): the client registered at the provider."
    type: str
  oidc_client_secret:
    description:
      - "O(auth_method=oidc_server): the client's secret; leave it out for a public client."
    type: str
  oidc_client_auth:
    description:
      - How the client authenticates at the token endpoint, V(post) with O(oidc_client_id) and O(oidc_client_secret) in the form
        (as UCC and PyUNICORE do), or V(basic) as HTTP Basic.
    type: str
    choices: [post, basic]
    default: post
  oidc_scope:
    description:
      - The scope asked for.
      - With O(auth_method=oidc_server), V(openid) when not set.
      - With O(auth_method=oidc_agent), the account's own scope when not set; oidc-agent refreshes at the provider on every call
        that asks for another scope.
    type: str
  oidc_otp:
    description:
      - A one-time code of a second factor, sent with the password grant as the form field C(otp), as UCC and PyUNICORE do.
    type: str
  oidc_refresh_token:
    description:
      - "O(auth_method=oidc_server): a refresh (or offline) token to log in with, instead of O(username) and O(password):
        what an automation keeps in Vault or AWX."
      - Used before the one kept in O(oidc_refresh_token_file). The provider's answer carries a new one, which is kept there.
    type: str
  oidc_refresh_token_file:
    description:
      - "Where refresh tokens are kept between runs, on the host the module runs on (the controller for the lookup), as JSON
        C({\"<token endpoint>\": {\"refresh_token\": \"...\"}})."
      - The format of UCC's and PyUNICORE's C(~/.ucc/refresh-tokens); point at that file to share UCC's login.
      - Written C(0600), atomically, with the other endpoints' entries kept; its directory is created C(0700).
    type: path
    default: ~/.cache/unicore.auth/oidc-refresh-tokens
  oidc_store_refresh_token:
    description:
      - Keep the refresh token the provider returns in O(oidc_refresh_token_file), so that the next run logs in without the password.
      - With V(false), a rotating provider makes a given O(oidc_refresh_token) unusable after one run.
    type: bool
    default: true
  oidc_agent_account:
    description:
      - "O(auth_method=oidc_agent): the short name of the account in oidc-agent, as C(oidc-gen) created it and C(oidc-add) loads it."
      - The agent keeps the refresh token and returns an access token valid for at least 60 seconds, refreshing it at the provider when
        need be; no secret of the login reaches Ansible.
    type: str
  oidc_agent_socket:
    description:
      - "O(auth_method=oidc_agent): the agent's UNIX socket, on the host the module runs on (the controller for the lookup)."
      - When not set, the environment variable C(OIDC_SOCK) of that host, which C(eval $(oidc-agent)) sets.
    type: path
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
  token_file:
    env:
      - name: UNICORE_TOKEN_FILE
    ini:
      - section: unicore
        key: token_file
    vars:
      - name: unicore_token_file
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
  ssh_agent_socket:
    env:
      - name: UNICORE_SSH_AGENT_SOCKET
    ini:
      - section: unicore
        key: ssh_agent_socket
    vars:
      - name: unicore_ssh_agent_socket
  oidc_token_endpoint:
    env:
      - name: UNICORE_OIDC_TOKEN_ENDPOINT
    ini:
      - section: unicore
        key: oidc_token_endpoint
    vars:
      - name: unicore_oidc_token_endpoint
  oidc_issuer:
    env:
      - name: UNICORE_OIDC_ISSUER
    ini:
      - section: unicore
        key: oidc_issuer
    vars:
      - name: unicore_oidc_issuer
  oidc_client_id:
    env:
      - name: UNICORE_OIDC_CLIENT_ID
    ini:
      - section: unicore
        key: oidc_client_id
    vars:
      - name: unicore_oidc_client_id
  oidc_client_secret:
    env:
      - name: UNICORE_OIDC_CLIENT_SECRET
    ini:
      - section: unicore
        key: oidc_client_secret
    vars:
      - name: unicore_oidc_client_secret
  oidc_client_auth:
    env:
      - name: UNICORE_OIDC_CLIENT_AUTH
    ini:
      - section: unicore
        key: oidc_client_auth
    vars:
      - name: unicore_oidc_client_auth
  oidc_scope:
    env:
      - name: UNICORE_OIDC_SCOPE
    ini:
      - section: unicore
        key: oidc_scope
    vars:
      - name: unicore_oidc_scope
  oidc_otp:
    env:
      - name: UNICORE_OIDC_OTP
    ini:
      - section: unicore
        key: oidc_otp
    vars:
      - name: unicore_oidc_otp
  oidc_refresh_token:
    env:
      - name: UNICORE_OIDC_REFRESH_TOKEN
    ini:
      - section: unicore
        key: oidc_refresh_token
    vars:
      - name: unicore_oidc_refresh_token
  oidc_refresh_token_file:
    env:
      - name: UNICORE_OIDC_REFRESH_TOKEN_FILE
    ini:
      - section: unicore
        key: oidc_refresh_token_file
    vars:
      - name: unicore_oidc_refresh_token_file
  oidc_store_refresh_token:
    env:
      - name: UNICORE_OIDC_STORE_REFRESH_TOKEN
    ini:
      - section: unicore
        key: oidc_store_refresh_token
    vars:
      - name: unicore_oidc_store_refresh_token
  oidc_agent_account:
    env:
      - name: UNICORE_OIDC_AGENT_ACCOUNT
    ini:
      - section: unicore
        key: oidc_agent_account
    vars:
      - name: unicore_oidc_agent_account
  oidc_agent_socket:
    env:
      - name: UNICORE_OIDC_AGENT_SOCKET
    ini:
      - section: unicore
        key: oidc_agent_socket
    vars:
      - name: unicore_oidc_agent_socket
"""

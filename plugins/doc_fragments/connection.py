# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by the modules and plugins of unicore.auth.
    # DOCUMENTATION serves modules and plugins; PLUGINS adds the sources a
    # lookup reads as well (env vars without an ANSIBLE_ prefix, which AWX refuses).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the UNICORE site's REST API, for example C(https://host:8080/DEMO-SITE/rest/core).
      - Required unless O(registry_url) and O(site) are given, and refused together with O(site).
      - Use C(https://); credentials must never travel in clear text.
        An C(http://) URL is refused, before anything is sent, unless O(allow_http) is set.
    type: str
  registry_url:
    description:
      - A UNICORE Registry, for example C(https://host:8080/REGISTRY/rest/registries/default_registry).
      - With O(site), the site's O(url) is found there. A module reads the Registry once per run.
      - Read anonymously unless O(registry_auth) is set. O(ca_path), O(validate_certs), O(timeout) and O(retries)
        apply to it as to the site; an C(http://) URL is refused unless O(allow_http) is set, as for O(url).
      - Without O(site) it is not read, and O(url) is used.
    type: str
  site:
    description:
      - The name of the site, as the Registry at O(registry_url) lists it, in place of O(url); for example C(DEMO-SITE).
      - Sites are named as PyUNICORE names them, by the path segment before C(/rest/core) of the Registry's C(CoreServices)
        entries. M(unicore.auth.unicore_registry_info) lists them.
      - A name the Registry does not list fails with the names it lists.
    type: str
  registry_auth:
    description:
      - Send the credentials (and O(client_cert)) to the Registry as well.
      - By default the Registry is read anonymously, without credentials and without a TLS client certificate,
        as UCC does since UNICORE 10.3. The site always gets the credentials.
    type: bool
    default: false
  allow_http:
    description:
      - Accept an C(http://) O(url). Every run that uses one still gives a warning.
      - Over plain HTTP, passwords and tokens cross the network unencrypted and anyone on the way can replay them;
        set this only for a site reached through a trusted channel, such as a gateway on the same host.
    type: bool
    default: false
  validate_certs:
    description:
      - Whether to verify the site's TLS certificate.
      - Without O(ca_path), the trust store is the one packaged with C(requests),
        or the bundle named by the C(REQUESTS_CA_BUNDLE) or C(CURL_CA_BUNDLE) environment variable when set.
      - Turn off only for tests; give O(ca_path) for a site whose CA is not in the system trust store instead.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle (file or directory) to verify the site's certificate with.
      - Always wins over the C(REQUESTS_CA_BUNDLE) and C(CURL_CA_BUNDLE) environment variables.
    type: path
  client_cert:
    description:
      - PEM file with a TLS client certificate, presented to the site when given.
      - Needed for O(auth_method=x509); may also hold the private key.
      - With O(auth_method=trusted_service) and O(client_key), its subject is the default O(issuer).
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert), when not in the same file.
      - With O(auth_method=trusted_service), the service key that signs the delegation JWT.
    type: path
  timeout:
    description:
      - Seconds that each request (to the site, the Registry or the OIDC provider) may take in all,
        connecting and receiving the whole answer, headers and body, together.
        An answer still arriving when this time is up fails the task, naming the URL, however steadily it trickles in.
      - A retried request (see O(retries)) gets this time again for each attempt, so one request takes at most
        (O(retries) + 1) times O(timeout) and the waits between the attempts, and one attempt more
        when the site has forgotten the security session.
      - Answers are read only up to a limit, whatever the time, and a larger one fails the request naming the limit
        and the URL. 64 KiB for a token (the answer of C(/token) is the token itself),
        8 MiB for a JSON document (from a site, a Registry or an OIDC provider).
    type: int
    default: 30
  retries:
    description:
      - How many times to retry a request after a connection error or an HTTP 429, 502, 503 or 504 answer.
      - Waits as the server's C(Retry-After) header asks (up to 60 seconds), otherwise 0.5, 1, 2, ... seconds.
      - Slow answers (O(timeout)) and TLS errors are not retried.
    type: int
    default: 3
  security_sessions:
    description:
      - Reuse the site's security session (C(X-UNICORE-SecuritySession)) instead of sending the credentials with every request.
      - Saves the site a full authentication per request; an expired session is replaced transparently.
      - The session is also kept between runs, on the host the module runs on (the controller for the lookup), in
        O(security_session_dir), so that later runs with the same site, login and O(preferences) send it instead of the credentials,
        as UCC does with C(~/.ucc/session-ids). It is offered until a few seconds before the end the site gave it; a session the
        site has forgotten (HTTP 432) is dropped and the run logs in once more.
      - V(false) neither sends nor keeps a session; every request sends the credentials.
    type: bool
    default: true
  security_session_dir:
    description:
      - Where security sessions are kept between runs (see O(security_sessions)), on the host the module runs on
        (the controller for the lookup).
      - A private directory (created C(0700); refused when it is a symbolic link, belongs to another user or others may write to it),
        with one C(0600) file per site, login and preferences, named by a keyed hash that reveals nothing; a file holds the
        session id and when it ends, never a credential.
      - Remove the directory to forget every kept session; the next run logs in afresh.
      - Not used when O(validate_certs=false).
    type: path
    default: ~/.cache/unicore.auth/security-sessions
  preferences:
    description:
      - User preferences that select among the identities the login maps to.
      - A dict with any of the keys C(uid), C(group), C(supplementary_groups) (a list) and C(role),
      - or the raw C(X-UNICORE-User-Preferences) header value, for example C(uid:alice,group:hpc).
      - Values must not contain C(,) or C(:); several supplementary groups are joined with C(+) as UNICORE expects.
      - Changing the preferences starts a new security session, because the site keeps the selection in the session.
    type: raw
"""

    PLUGINS = r"""
options:
  url:
    env:
      - name: UNICORE_URL
    ini:
      - section: unicore
        key: url
    vars:
      - name: unicore_url
  registry_url:
    env:
      - name: UNICORE_REGISTRY_URL
    ini:
      - section: unicore
        key: registry_url
    vars:
      - name: unicore_registry_url
  site:
    env:
      - name: UNICORE_SITE
    ini:
      - section: unicore
        key: site
    vars:
      - name: unicore_site
  registry_auth:
    env:
      - name: UNICORE_REGISTRY_AUTH
    ini:
      - section: unicore
        key: registry_auth
    vars:
      - name: unicore_registry_auth
  allow_http:
    env:
      - name: UNICORE_ALLOW_HTTP
    ini:
      - section: unicore
        key: allow_http
    vars:
      - name: unicore_allow_http
  validate_certs:
    env:
      - name: UNICORE_VALIDATE_CERTS
    ini:
      - section: unicore
        key: validate_certs
    vars:
      - name: unicore_validate_certs
  ca_path:
    env:
      - name: UNICORE_CA_PATH
    ini:
      - section: unicore
        key: ca_path
    vars:
      - name: unicore_ca_path
  client_cert:
    env:
      - name: UNICORE_CLIENT_CERT
    ini:
      - section: unicore
        key: client_cert
    vars:
      - name: unicore_client_cert
  client_key:
    env:
      - name: UNICORE_CLIENT_KEY
    ini:
      - section: unicore
        key: client_key
    vars:
      - name: unicore_client_key
  timeout:
    env:
      - name: UNICORE_TIMEOUT
    ini:
      - section: unicore
        key: timeout
    vars:
      - name: unicore_timeout
  retries:
    env:
      - name: UNICORE_RETRIES
    ini:
      - section: unicore
        key: retries
    vars:
      - name: unicore_retries
  security_sessions:
    env:
      - name: UNICORE_SECURITY_SESSIONS
    ini:
      - section: unicore
        key: security_sessions
    vars:
      - name: unicore_security_sessions
  security_session_dir:
    env:
      - name: UNICORE_SECURITY_SESSION_DIR
    ini:
      - section: unicore
        key: security_session_dir
    vars:
      - name: unicore_security_session_dir
  preferences:
    env:
      - name: UNICORE_PREFERENCES
    ini:
      - section: unicore
        key: preferences
    vars:
      - name: unicore_preferences
"""

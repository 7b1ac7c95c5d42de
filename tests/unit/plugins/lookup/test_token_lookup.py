# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""work_out_answer, the lookup's source of tokens: what identifies a cache entry, and what a cache hit costs.

The real client and transport run; ``_client.transport_from_options`` (which work_out_answer
imports only on a cache miss) is wrapped by the ``site`` fixture (conftest.py), so that the transport answers from a script
of issued tokens instead of the network.
"""

from __future__ import annotations

import base64
import json
import os

import jwt
import pytest
import yaml

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.unicore.auth.plugins.doc_fragments import connection, credentials, token
from ansible_collections.unicore.auth.plugins.lookup import unicore_token as lookup_plugin
from ansible_collections.unicore.auth.plugins.module_utils import _credentials
from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import unicore_argument_spec
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._login_identity import IDENTITY_OPTIONS
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter
from ansible_collections.unicore.auth.plugins.module_utils._registry import Registry
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest
from ansible_collections.unicore.auth.plugins.plugin_utils import _token_cache, _token_lookup
from ansible_collections.unicore.auth.plugins.plugin_utils._token_lookup import (
    cache_identity_fields,
    loader_file_reader,
    work_out_answer,
)

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
PASSWORD = 'Pässw0rd-never-shown'
# The identity a token is asked for plus the properties it must have: computed, not copied from an option.
REQUEST_FIELDS = {'url', 'preferences', 'lifetime', 'renewable', 'limited'}


def lookup_option_docs():
    """The lookup's documented options: its own plus those of its doc fragments."""
    documented = dict(yaml.safe_load(lookup_plugin.DOCUMENTATION)['options'])
    for fragment in (connection, credentials, token):
        documented.update(yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)['options'])
    return documented


def token_for(options, cache_dir):
    """``(token, reusable_until)`` as the lookup works them out, remembering no answer."""
    answer = work_out_answer(options, cache_dir, None, lambda message: None)
    return answer['token'], answer['reusable_until']


@pytest.fixture
def lookup_options():
    """``lookup_options(**given)``: what the lookup hands to token_for (every documented option, defaults filled in)."""
    def build(**given):
        params = {name: doc.get('default') for name, doc in lookup_option_docs().items()}
        params.update(url=SITE)
        params.update(given)
        return OptionAdapter.from_dict(params)
    return build


# ---------------------------------------------------------------- cache_identity_fields

def test_the_cache_identity_holds_only_options_the_lookup_has():
    identity = cache_identity_fields(OptionAdapter.from_dict({}), SITE, TokenRequest(), True)
    assert set(identity) - set(lookup_option_docs()) == set()
    assert set(IDENTITY_OPTIONS) <= set(lookup_option_docs())


def test_every_secret_is_part_of_the_cache_identity_fields():
    # A wrong password must never be answered with the token someone else's right one got.
    secrets = {name for name, spec in unicore_argument_spec().items() if spec.get('no_log')}
    assert secrets <= set(IDENTITY_OPTIONS)


def test_the_cache_identity_is_the_login_the_site_and_the_requested_properties(lookup_options):
    options = lookup_options(username='demouser', password=PASSWORD, preferences={'uid': 'demouser', 'group': 'hpc'},
                             timeout=5, retries=0, jwt_lifetime=60, lifetime=7200, renewable=True, limited=False)
    identity = cache_identity_fields(options, SITE, TokenRequest.from_options(options), '/etc/pki/site-ca.pem')
    assert identity == {
        'auth_method': 'auto', 'username': 'demouser', 'password': PASSWORD, 'token': None, 'identity': None, 'identity_content': None,
        'identity_passphrase': None, 'subject': None, 'issuer': None, 'hmac_secret': None, 'client_cert': None,
        'client_key': None, 'oidc_agent_account': None, 'oidc_client_auth': 'post', 'oidc_client_id': None, 'oidc_client_secret': None, 'oidc_issuer': None,
        'oidc_otp': None, 'oidc_refresh_token': None, 'oidc_scope': None, 'oidc_token_endpoint': None, 'url': SITE,
        'validate_certs': True, 'ca_path': '/etc/pki/site-ca.pem', 'preferences': 'uid:demouser,group:hpc', 'lifetime': 7200,
        'renewable': True, 'limited': False,
    }


def test_blank_credential_inputs_count_as_not_given(lookup_options):
    # AWX injects an empty string for a credential input left blank.
    blank = cache_identity_fields(lookup_options(username='demouser', password=PASSWORD, token=''), SITE, TokenRequest(), True)
    unset = cache_identity_fields(lookup_options(username='demouser', password=PASSWORD), SITE, TokenRequest(), True)
    assert blank == unset


def test_preferences_given_as_dict_or_header_name_the_same_entry(lookup_options):
    as_dict = cache_identity_fields(lookup_options(preferences={'uid': 'demouser', 'group': 'hpc'}), SITE, TokenRequest(), True)
    as_header = cache_identity_fields(lookup_options(preferences='uid:demouser,group:hpc'), SITE, TokenRequest(), True)
    assert as_dict == as_header


# ---------------------------------------------------------------- token_for

@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / 'cache')


def test_the_first_lookup_issues_and_the_next_ones_are_cache_hits(site, lookup_options, cache_dir):
    site.will_issue()
    options = lookup_options(username='demouser', password=PASSWORD)
    assert token_for(options, cache_dir) == token_for(options, cache_dir) == token_for(options, cache_dir)
    assert len(site.requests) == 1
    assert site.requests[0].headers['Authorization'].startswith('Basic ')


def test_the_token_may_be_given_until_min_validity_before_it_expires(site, lookup_options, cache_dir):
    issued = site.will_issue(valid_for=3600)
    token, reusable_until = token_for(lookup_options(username='demouser', password=PASSWORD, min_validity=600), cache_dir)
    assert token == issued
    assert reusable_until == json.loads(base64.urlsafe_b64decode(issued.split('.')[1] + '=='))['exp'] - 600


def test_a_cache_hit_builds_no_credential(site, lookup_options, cache_dir, monkeypatch):
    issued = site.will_issue()
    assert token_for(lookup_options(username='demouser', password=PASSWORD), cache_dir)[0] == issued

    def no_credential(options):
        raise AssertionError('a credential was built for a cache hit')
    monkeypatch.setattr(_credentials, 'credential_from_options', no_credential)
    assert token_for(lookup_options(username='demouser', password=PASSWORD), cache_dir)[0] == issued
    assert len(site.requests) == 1


def test_another_password_is_a_cache_miss(site, lookup_options, cache_dir):
    site.will_issue(1)
    site.will_issue(2)
    first = token_for(lookup_options(username='demouser', password=PASSWORD), cache_dir)
    second = token_for(lookup_options(username='demouser', password='another-password'), cache_dir)
    assert first != second
    assert len(site.requests) == 2


def test_without_a_cache_every_lookup_issues(site, lookup_options):
    site.will_issue(1)
    site.will_issue(2)
    options = lookup_options(username='demouser', password=PASSWORD)
    assert token_for(options, None) != token_for(options, None)
    assert len(site.requests) == 2


def test_the_request_properties_are_sent_to_the_site(site, lookup_options, cache_dir):
    site.will_issue()
    token_for(lookup_options(username='demouser', password=PASSWORD, lifetime=7200, limited=False), cache_dir)
    assert site.requests[0].url == SITE + '/token?lifetime=7200'


def test_a_token_got_without_verifying_the_site_is_neither_kept_nor_given_to_a_verifying_run(site, lookup_options, cache_dir, tmp_path):
    # Seen in a report: a token fetched with validate_certs false from a fake site was served, from the cache, to a run with ca_path.
    site.will_issue(1)
    site.will_issue(2)
    site.will_issue(3)
    unverified = lookup_options(username='demouser', password=PASSWORD, validate_certs=False)
    assert token_for(unverified, cache_dir) != token_for(unverified, cache_dir)
    assert not os.path.exists(cache_dir) or os.listdir(cache_dir) in ([], ['cache.key'])
    ca_bundle = tmp_path / 'site-ca.pem'
    ca_bundle.write_text('')
    token_for(lookup_options(username='demouser', password=PASSWORD, ca_path=str(ca_bundle)), cache_dir)
    assert len(site.requests) == 3


def test_another_ca_bundle_is_another_cache_entry(site, lookup_options, cache_dir, tmp_path, monkeypatch):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    for serial in range(4):
        site.will_issue(serial)
    bundles = [tmp_path / 'first-ca.pem', tmp_path / 'second-ca.pem']
    for bundle in bundles:
        bundle.write_text('')
    tokens = [token_for(lookup_options(username='demouser', password=PASSWORD, ca_path=str(bundle)), cache_dir)[0] for bundle in bundles]
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(bundles[0]))
    tokens.append(token_for(lookup_options(username='demouser', password=PASSWORD), cache_dir)[0])
    assert len(set(tokens)) == 2 and tokens[2] == tokens[0]
    assert len(site.requests) == 2


@pytest.mark.parametrize('given, message', [
    ({'lifetime': 0}, 'lifetime must be a positive number of seconds, got 0'),
    ({'url': None}, 'url is required'),
])
def test_a_bad_request_is_refused_before_the_cache_is_opened(site, lookup_options, cache_dir, given, message):
    with pytest.raises(UnicoreError) as error:
        token_for(lookup_options(**dict({'username': 'demouser', 'password': PASSWORD}, **given)), cache_dir)
    assert str(error.value).startswith(message)
    assert not os.path.exists(cache_dir)
    assert site.requests == []


# ---------------------------------------------------------------- key files and header values, checked before any request

@pytest.fixture
def read_by_loader(loader):
    """``read_by_loader(**given)``: lookup options whose key files are read through Ansible's loader, as the lookup reads them."""
    def build(**given):
        params = {name: doc.get('default') for name, doc in lookup_option_docs().items()}
        params.update(url=SITE)
        params.update(given)
        return OptionAdapter.from_dict(params, file_reader=loader_file_reader(loader))
    return build


@pytest.fixture
def ed25519_key():
    return ed25519.Ed25519PrivateKey.generate()


def openssh_text(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode('ascii')


def test_a_vault_encrypted_key_file_of_mode_0644_is_decrypted_and_signs(site, read_by_loader, cache_dir, tmp_path, vault_encrypt, ed25519_key):
    # As it lies in a git checkout: what others may read of it is encrypted.
    vaulted = tmp_path / 'id_ed25519.vault'
    vaulted.write_bytes(vault_encrypt(openssh_text(ed25519_key)))
    vaulted.chmod(0o644)
    issued = site.will_issue()
    assert token_for(read_by_loader(username='demouser', identity=str(vaulted)), cache_dir)[0] == issued
    scheme, signed = site.requests[0].headers['Authorization'].split(' ', 1)
    assert scheme == 'Bearer'
    assert jwt.decode(signed, ed25519_key.public_key(), algorithms=['EdDSA'])['sub'] == 'demouser'


def test_a_plain_key_file_of_mode_0644_is_refused_before_any_request(site, read_by_loader, cache_dir, tmp_path, ed25519_key):
    plain = tmp_path / 'id_ed25519'
    plain.write_text(openssh_text(ed25519_key))
    plain.chmod(0o644)
    with pytest.raises(UnicoreError) as error:
        token_for(read_by_loader(username='demouser', identity=str(plain)), cache_dir)
    assert str(error.value) == ('identity: %s is accessible by other users (mode 0644); make it 0600 (chmod 600 %s), '
                                'as ssh requires of a private key' % (plain, plain))
    assert site.requests == []


@pytest.mark.parametrize('given, message', [
    ({'token': 'abc\u00e9.def.ghi'}, 'token must be visible ASCII characters only'),
    ({'token': 'abc.def\nX-Injected: 1'}, 'token must not contain white space'),
    ({'auth_method': 'basic_token', 'token': 'ZGVtbzp\u0142'}, 'token must be visible ASCII characters only'),
    ({'username': 'demouser', 'password': PASSWORD, 'preferences': 'uid:demo\r\nX-Injected'}, 'preferences must be ASCII characters only'),
    ({'username': 'demouser', 'password': PASSWORD, 'preferences': {'uid': 'j\u00fcrgen'}}, 'preferences.uid must be ASCII characters only'),
])
def test_an_option_a_header_cannot_carry_is_refused_before_any_request_without_showing_it(site, lookup_options, cache_dir, given, message):
    with pytest.raises(UnicoreError) as error:
        token_for(lookup_options(**given), cache_dir)
    assert str(error.value).startswith(message)
    for value in given.values():
        assert str(value) not in str(error.value)
    assert site.requests == []


def test_a_password_that_is_not_ascii_logs_in(site, lookup_options, cache_dir):
    issued = site.will_issue()
    assert token_for(lookup_options(username='jürgen', password='пароль\u0142'), cache_dir)[0] == issued
    assert base64.b64decode(site.requests[0].headers['Authorization'].split(' ', 1)[1]).decode('utf-8') == 'jürgen:пароль\u0142'


# ---------------------------------------------------------------- what a cache hit imports

def _ed25519_key_text():
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode('ascii')


@pytest.mark.parametrize('login', ['password', 'ssh_key'])
def test_a_cache_hit_in_a_fresh_process_imports_neither_requests_nor_jwt_nor_cryptography(site, tmp_path, login, fresh_python):
    given = {'url': SITE, 'username': 'demouser', 'retries': 0}
    if login == 'password':
        given['password'] = PASSWORD
    else:
        given['identity_content'] = _ed25519_key_text()
    params = {name: doc.get('default') for name, doc in lookup_option_docs().items()}
    params.update(given)
    site.will_issue()
    directory = str(tmp_path / 'cache')
    issued, dummy = token_for(OptionAdapter.from_dict(dict(params)), directory)

    assert fresh_python([
        'import json, sys',
        'from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter',
        'from ansible_collections.unicore.auth.plugins.plugin_utils._token_lookup import work_out_answer',
        'given = json.loads(sys.stdin.read())',
        'token = work_out_answer(OptionAdapter.from_dict(given["options"]), given["cache_dir"], None, print)["token"]',
        'libraries = ("requests", "urllib3", "jwt", "cryptography")',
        'print(json.dumps([token, sorted(name for name in sys.modules if name.split(".")[0] in libraries)]))',
    ], stdin=json.dumps({'options': params, 'cache_dir': directory})) == [issued, []]


# ---------------------------------------------------------------- a site named in a Registry

REGISTRY = 'https://site.example:8080/REGISTRY/rest/registries/default_registry'


@pytest.fixture
def registry_reads(monkeypatch):
    """The Registry reads work_out_answer makes; the Registry lists DEMO-SITE at SITE."""
    reads = []

    def fetch_registry(options, registry_url):
        reads.append((registry_url, options.get_option('registry_auth')))
        return Registry(registry_url, [{'type': 'CoreServices', 'href': SITE}])
    monkeypatch.setattr(_token_lookup, 'fetch_registry', fetch_registry)
    return reads


def test_a_site_named_in_a_registry_is_read_once_and_kept_for_ten_minutes(site, lookup_options, cache_dir, registry_reads, monkeypatch):
    site.will_issue(1)
    site.will_issue(2)
    by_name = lookup_options(url=None, username='demouser', password=PASSWORD, registry_url=REGISTRY, site='DEMO-SITE')
    clock = [1000000.0]

    class Clock:
        @staticmethod
        def time():
            return clock[0]
    monkeypatch.setattr(_token_cache, 'time', Clock)
    first = token_for(by_name, cache_dir)[0]
    assert token_for(by_name, cache_dir)[0] == first
    assert registry_reads == [(REGISTRY, False)] and len(site.requests) == 1
    assert site.requests[0].url.startswith(SITE + '/token')
    clock[0] += _token_cache.REGISTRY_MAX_AGE - 1
    token_for(by_name, cache_dir)
    assert len(registry_reads) == 1
    clock[0] += 2
    token_for(by_name, cache_dir)
    assert len(registry_reads) == 2
    # the token of the site's url: the same entry as for url given
    assert token_for(lookup_options(username='demouser', password=PASSWORD), cache_dir)[0] == first


def test_a_registry_read_with_the_credentials_is_kept_apart_from_an_anonymous_one(site, lookup_options, cache_dir, registry_reads):
    site.will_issue(1)
    site.will_issue(2)
    by_name = dict(url=None, username='demouser', password=PASSWORD, registry_url=REGISTRY, site='DEMO-SITE')
    token_for(lookup_options(**by_name), cache_dir)
    token_for(lookup_options(registry_auth=True, **by_name), cache_dir)
    token_for(lookup_options(registry_auth=True, **dict(by_name, password='another-password')), cache_dir)
    assert registry_reads == [(REGISTRY, False), (REGISTRY, True), (REGISTRY, True)]


@pytest.mark.parametrize('given, message', [
    ({'site': 'DEMO-SITE'}, 'url and site are mutually exclusive'),
    ({'url': None, 'site': 'DEMO-SITE', 'registry_url': None}, 'site needs registry_url'),
    ({'url': None, 'site': 'NO-SUCH-SITE', 'registry_url': REGISTRY}, 'site: the Registry %s lists no site NO-SUCH-SITE; '
                                                                      'the sites it lists are: DEMO-SITE' % REGISTRY),
])
def test_a_site_the_registry_cannot_give_is_refused_without_a_token(site, lookup_options, cache_dir, registry_reads, given, message):
    with pytest.raises(UnicoreError) as error:
        token_for(lookup_options(**dict({'username': 'demouser', 'password': PASSWORD}, **given)), cache_dir)
    assert str(error.value).startswith(message)
    assert site.requests == []


# ---------------------------------------------------------------- a full disk under cache_dir


@pytest.mark.parametrize('cache_exists', [True, False], ids=['existing-cache', 'new-cache'])
def test_on_a_full_disk_the_lookup_returns_its_token_and_warns_once_without_it(site, lookup_options, cache_dir, monkeypatch, cache_exists, fill_disk):
    if cache_exists:
        _token_cache.TokenCache(cache_dir)
    issued = site.will_issue()
    warnings = []
    fill_disk()
    answer = work_out_answer(lookup_options(username='demouser', password=PASSWORD), cache_dir, 'the inputs', warnings.append)
    monkeypatch.undo()
    assert answer['token'] == issued
    assert warnings == ['cache_dir: cannot keep the token in %s (No space left on device); it is used for this task only, '
                        'and a later lookup asks the site again' % cache_dir]
    # Not among the answer's own warnings, which a remembered answer repeats.
    assert answer['warnings'] == []
    assert [name for name in os.listdir(cache_dir) if not name.endswith('.lock') and name != 'cache.key'] == []

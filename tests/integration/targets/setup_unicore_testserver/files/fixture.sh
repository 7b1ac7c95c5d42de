# shellcheck shell=bash
# Shell helpers for runme.sh targets that use the test server; source this file
# after setting `config` to the path of integration_config.yml.

# A value from the test server's fixtures, e.g. `fixture users demouser password`.
fixture() {
    python - "${config:?set config to the path of integration_config.yml first}" "$@" <<'PY'
import json
import sys

import yaml

with open(sys.argv[1], encoding='utf-8') as config_file:
    config = yaml.safe_load(config_file)
with open(config['unicore_testserver_fixtures'], encoding='utf-8') as fixtures_file:
    value = json.load(fixtures_file)
for key in sys.argv[2:]:
    value = value[key]
print(value)
PY
}

#!/usr/bin/env bash
# Start or stop the UNICORE test server (tests/unicore-testserver) for the
# integration tests, in the collection copy that ansible-test runs in.
#
#   testserver.sh start COLLECTION_DIR   start it, wait for its ready line and
#                                        write COLLECTION_DIR/tests/integration/integration_config.yml
#   testserver.sh stop COLLECTION_DIR    stop it (SIGTERM, then SIGKILL after a grace period)
#
# The server runs in COLLECTION_DIR with --port 0 --workdir
# COLLECTION_DIR/tests/output/testserver and prints one JSON line on stdout
# once it is ready, e.g.
#   {"ready": true, "port": P, "url": "https://localhost:P/DEMO-SITE/rest/core",
#    "workdir": "...", "fixtures": "<workdir>/fixtures.json"}
# Its stdout/stderr and pid go to COLLECTION_DIR/tests/output/harness/.
#
# Environment: PYTHON_BIN (interpreter for a Python server script, default
# the harness venv's, .venv/bin/python), TESTSERVER (server command, default
# COLLECTION_DIR/tests/unicore-testserver), TESTSERVER_TIMEOUT (seconds to wait
# for the ready line, default 120), TESTSERVER_STOP_TIMEOUT (default 15).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/scripts/lib.sh
. "$here/lib.sh"

action=${1:-}
coll=${2:-}
[[ ( $action == start || $action == stop ) && -d $coll ]] || die "usage: $0 start|stop COLLECTION_DIR"
coll=$(cd "$coll" && pwd -P)

state=$coll/tests/output/harness
pidfile=$state/testserver.pid
out=$state/testserver.stdout
err=$state/testserver.stderr
workdir=$coll/tests/output/testserver
config=$coll/tests/integration/integration_config.yml
python_bin=${PYTHON_BIN:-}
if [[ -z $python_bin ]]; then
    python_bin=python3
    [[ -x $here/../../.venv/bin/python ]] && python_bin=$here/../../.venv/bin/python
fi
if [[ $python_bin == */* ]]; then
    python_bin=$(cd "$(dirname "$python_bin")" && pwd)/${python_bin##*/}
fi

# start time of a process (in clock ticks since boot), empty when it is gone
start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }  # the fields after "pid (comm) "
    local -a fields
    read -r -a fields <<<"$stat"
    echo "${fields[19]:-}"  # field 22 of /proc/PID/stat
}

stop() {
    [[ -f $pidfile ]] || return 0
    local pid started waited=0 limit=${TESTSERVER_STOP_TIMEOUT:-15}
    read -r pid started <"$pidfile" || true
    rm -f "$pidfile"
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    # only ever signal the server this script started: a stale pid may have been reused
    if [[ -n $started && "$(start_time "$pid")" != "$started" ]]; then
        return 0
    fi
    local begin=$SECONDS
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && ((waited < limit * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            warn "test server (pid $pid) ignored SIGTERM for ${limit}s, killing it"
            # the server was started with setsid: its process group id is its pid
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    info "test server stopped ($((SECONDS - begin))s)"
}

show_logs() {
    local name
    for name in "$out" "$err"; do
        if [[ -s $name ]]; then
            printf -- '---- %s (last 40 lines) ----\n' "${name#"$coll"/}" >&2
            tail -n 40 "$name" >&2
            [[ -z $(tail -c 1 "$name") ]] || echo >&2  # the log did not end with a newline
        fi
    done
}

start() {
    local server=${TESTSERVER:-$coll/tests/unicore-testserver}
    local limit=${TESTSERVER_TIMEOUT:-120} waited=0 pid line=''
    local first='' status
    local -a cmd

    [[ -f $server ]] || die "test server not found: $server"
    stop  # a server left over from an interrupted run

    # a Python script runs with the harness venv's interpreter, whatever its shebang says
    read -r first <"$server" || true
    if [[ $server == *.py || $first == '#!'*python* ]]; then
        cmd=("$python_bin" "$server")
    else
        cmd=("$server")
    fi

    mkdir -p "$state" "$workdir"
    rm -f "$config"
    : >"$out"
    : >"$err"
    info "starting test server: ${server#"$coll"/} --port 0 --workdir ${workdir#"$coll"/}"
    # own session/process group (setsid), so a Ctrl-C of make reaches it only through stop()
    command -v setsid >/dev/null 2>&1 && cmd=(setsid "${cmd[@]}")
    (cd "$coll" && PYTHONUNBUFFERED=1 exec "${cmd[@]}" --port 0 --workdir "$workdir" </dev/null >"$out" 2>"$err") &
    pid=$!
    echo "$pid $(start_time "$pid")" >"$pidfile"

    while :; do
        line=$(grep -m 1 '"ready"' "$out" || true)
        [[ -n $line ]] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" && status=0 || status=$?
            rm -f "$pidfile"
            show_logs
            die "test server exited (status $status) before printing its ready line"
        fi
        if ((waited >= limit * 10)); then
            show_logs
            stop
            die "test server printed no ready line within ${limit}s"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done

    # parse the ready line, write integration_config.yml for ansible-test
    if ! "$python_bin" - "$line" "$workdir" "$config" <<'PY'
import json, os, sys
from urllib.parse import urlsplit

line, workdir, config = sys.argv[1:]
info = json.loads(line)
if info.get('ready') is not True:
    sys.exit('ready line does not say "ready": true: %s' % line)
url = info['url']
port = int(info.get('port') or urlsplit(url).port)
host = urlsplit(url).hostname or 'localhost'
workdir = info.get('workdir') or workdir
values = {
    'unicore_testserver_url': url,
    'unicore_testserver_fixtures': info.get('fixtures') or os.path.join(workdir, 'fixtures.json'),
    'unicore_testserver_ca': os.path.join(workdir, 'pki', 'ca.pem'),
    'unicore_testserver_control_url': 'https://%s:%d/_testserver' % (host, port),
    # the suite's own temporary directory (suite_tmpdir.sh): tests/output/tmp of the collection copy
    'unicore_suite_tmpdir': os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(config)))), 'tests', 'output', 'tmp'),
}
with open(config, 'w', encoding='utf-8') as out:
    out.write('---\n# generated by tests/scripts/testserver.sh for this run of the test server\n')
    for key, value in values.items():
        out.write('%s: %s\n' % (key, json.dumps(value)))  # a JSON string is a valid YAML scalar
print('test server ready at %s' % url)
PY
    then
        show_logs
        stop
        die "could not use the test server's ready line: $line"
    fi
    info "wrote ${config#"$coll"/}"
}

"$action"

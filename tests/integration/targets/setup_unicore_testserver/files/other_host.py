# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The "other host": a plain HTTP listener that records what reaches it.

    python other_host.py LOG_FILE

It stands for an address that is not the site: where a redirect fault points
(reliability_faults), where a managed host's facts would send the controller
(security_host_facts). start_other_host in fixture.sh starts it.

prints one JSON line {"ready": true, "url": "http://127.0.0.1:PORT"} and then
appends one JSON line per request to LOG_FILE: the time, the path, and
whether an Authorization or X-UNICORE-SecuritySession header came with it
(never the header's value). It answers every request with 404, runs until SIGTERM, and
has nothing to do with the product: it only witnesses whether the site's
credentials were ever sent to another address.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WitnessHandler(BaseHTTPRequestHandler):
    """Records each request's path and which credential headers it carried."""

    log_file = None
    lock = threading.Lock()

    def _record(self):
        entry = {
            'method': self.command,
            'path': self.path,
            'authorization': self.headers.get('Authorization') is not None,
            'session_id': self.headers.get('X-UNICORE-SecuritySession') is not None,
            'time': time.time(),
        }
        with self.lock, open(self.log_file, 'a', encoding='utf-8') as log:
            log.write(json.dumps(entry) + '\n')
        body = b'not the site you are looking for\n'
        self.send_response(404)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _record

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the log file is the record."""


def main():
    WitnessHandler.log_file = sys.argv[1]
    open(WitnessHandler.log_file, 'w', encoding='utf-8').close()
    server = ThreadingHTTPServer(('127.0.0.1', 0), WitnessHandler)
    signal.signal(signal.SIGTERM, lambda *_args: threading.Thread(target=server.shutdown).start())
    print(json.dumps({'ready': True, 'url': 'http://127.0.0.1:%d' % server.server_address[1]}), flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == '__main__':
    main()

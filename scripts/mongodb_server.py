"""A MongoDB-protocol test server (SecantusDB, in memory) on 127.0.0.1:PORT, for scripts/services.sh.
With CERT and KEY (PEM files) after the port, it serves TLS only.

Started from Python rather than with the `secantus` command, whose options do not reach the TTL
monitor: here expired documents are swept every second (MongoDB sweeps every 60 s), so the tests
of native expiry wait seconds, not minutes. Runs until it is killed.
"""

import sys

from secantus import SecantusDBServer

port = int(sys.argv[1]) if len(sys.argv) > 1 else 27018
cert, key = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else (None, None)
server = SecantusDBServer(
    host="127.0.0.1",
    port=port,
    storage_path=":memory:",
    replica_set_name="secantus",
    ttl_sweep_seconds=1,
    tls_cert_file=cert,
    tls_key_file=key,
)
server.start()
server.wait()

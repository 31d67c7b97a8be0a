# Starts the servers the tests need when they are not already running, on 127.0.0.1 only.
# Sourced by scripts/test.sh, which stops (on exit) whatever this started: see `note_started`.

REDIS_URL=${SESSION_PLUS_REDIS_URL:-redis://127.0.0.1:6379/0}
CLUSTER_PORTS=(7101 7102 7103)
export SESSION_PLUS_REDIS_URL=$REDIS_URL
export SESSION_PLUS_REDIS_CLUSTER_URL=${SESSION_PLUS_REDIS_CLUSTER_URL:-redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103}
export SESSION_PLUS_MEMCACHED_URL=${SESSION_PLUS_MEMCACHED_URL:-memcache://127.0.0.1:11211?timeout=2}
export SESSION_PLUS_POSTGRES_URL=${SESSION_PLUS_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
export SESSION_PLUS_MYSQL_URL=${SESSION_PLUS_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
MONGODB_PORT=27018
SECANTUSDB_VERSION=0.7.0b3  # the MongoDB-protocol test server (PyPI), pinned: it is a beta
export SESSION_PLUS_MONGODB_URL=${SESSION_PLUS_MONGODB_URL:-mongodb://127.0.0.1:$MONGODB_PORT/session_plus_test?directConnection=true}

# What this script started, in files rather than variables, so that servers started by a
# background subshell (scripts/test.sh starts them while the code compiles) are stopped too.
SERVICES_STATE=$(mktemp -d)
note_started() { echo "$1" >> "$SERVICES_STATE/pids"; }       # a server's pid
note_stop() { printf '%s\n' "$1" >> "$SERVICES_STATE/stops"; }  # a command that stops a daemon

stop_services() {
  local pid cmd
  if [ -f "$SERVICES_STATE/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$SERVICES_STATE/pids"
  fi
  if [ -f "$SERVICES_STATE/stops" ]; then
    while read -r cmd; do eval "$cmd" >/dev/null 2>&1 || true; done < "$SERVICES_STATE/stops"
  fi
  rm -rf "$SERVICES_STATE"
}

apt_install() {  # apt_install COMMAND PACKAGE...
  command -v "$1" >/dev/null 2>&1 && return 0
  shift
  echo "installing $* from Debian"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$what did not come up within ${seconds}s" >&2
  return 1
}

ensure_redis() {
  apt_install redis-server redis-server
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting redis-server on 127.0.0.1:6379"
    redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
    note_started $!
    wait_for 10 "redis" redis-cli -h 127.0.0.1 -p 6379 ping
  fi
}

ensure_redis_cluster() {
  if redis-cli -p "${CLUSTER_PORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then return 0; fi
  echo "starting a 3-node Redis Cluster on 127.0.0.1:${CLUSTER_PORTS[*]}"
  local dir; dir=$(mktemp -d)
  for port in "${CLUSTER_PORTS[@]}"; do
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$dir/nodes-$port.conf" \
      --save "" --appendonly no --dir "$dir" --daemonize no >/dev/null &
    note_started $!
  done
  for port in "${CLUSTER_PORTS[@]}"; do wait_for 10 "redis on $port" redis-cli -p "$port" ping; done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${CLUSTER_PORTS[@]}") --cluster-replicas 0 --cluster-yes >/dev/null
  cluster_ok() { redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | grep -q 'cluster_state:ok'; }
  wait_for 20 "the Redis Cluster" cluster_ok
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_install psql postgresql; fi
  echo "starting PostgreSQL"
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  note_stop "pg_ctlcluster --skip-systemctl-redirect $version main stop"
  wait_for 30 "PostgreSQL" pg_isready -q -h 127.0.0.1 -p 5432
  psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
}

ensure_mariadb() {
  if mariadb -uroot -h127.0.0.1 -e 'select 1' test >/dev/null 2>&1; then return 0; fi
  apt_install mariadbd mariadb-server
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  note_stop "start-stop-daemon --stop --oknodo --exec /usr/sbin/mariadbd"
  wait_for 60 "MariaDB" mariadb -uroot -h127.0.0.1 -e 'select 1'
  mariadb -uroot -h127.0.0.1 -e 'CREATE DATABASE IF NOT EXISTS test'
}

ensure_memcached() {
  apt_install memcached memcached
  if (exec 3<>/dev/tcp/127.0.0.1/11211) 2>/dev/null; then return 0; fi
  echo "starting memcached on 127.0.0.1:11211"
  memcached -l 127.0.0.1 -p 11211 -U 0 -u root -m 64 >/dev/null 2>&1 &
  note_started $!
  wait_for 10 "memcached" bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211'
}

# A MongoDB-protocol server: SecantusDB (PyPI `secantusdb`), in memory, in a venv under target/.
# scripts/mongodb_server.py sweeps expired documents every second (MongoDB: every 60 s).
export SESSION_PLUS_MONGODB_PYTHON=$PWD/target/python/mongo/bin/python  # tests/it/mongodb_store.rs starts its own too
ensure_mongodb() {
  local venv=target/python/mongo
  if (exec 3<>/dev/tcp/127.0.0.1/$MONGODB_PORT) 2>/dev/null && [ -x "$venv/bin/python" ]; then return 0; fi
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import secantus' 2>/dev/null; then
    echo "installing secantusdb from PyPI into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input "secantusdb==$SECANTUSDB_VERSION" >/dev/null
  fi
  echo "starting SecantusDB on 127.0.0.1:$MONGODB_PORT"
  "$venv/bin/python" scripts/mongodb_server.py "$MONGODB_PORT" >/dev/null 2>&1 &
  note_started $!
  wait_for 30 "SecantusDB" bash -c "exec 3<>/dev/tcp/127.0.0.1/$MONGODB_PORT"
}

# The Firestore emulator (Google Cloud SDK's, a Java jar), in memory. Tests use their own
# collections (or projects); tests/it/firestore_store.rs also starts emulators of its own.
FIRESTORE_PORT=${FIRESTORE_PORT:-8085}
export FIRESTORE_EMULATOR_JAR=${FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}
export FIRESTORE_EMULATOR_HOST=${FIRESTORE_EMULATOR_HOST:-127.0.0.1:$FIRESTORE_PORT}
ensure_firestore() {
  if curl -fsS "http://$FIRESTORE_EMULATOR_HOST/" 2>/dev/null | grep -q Ok; then return 0; fi
  apt_install java default-jre-headless
  if [ ! -f "$FIRESTORE_EMULATOR_JAR" ]; then
    echo "the Firestore emulator is missing: install google-cloud-cli-firestore-emulator (Google's apt repository)" >&2
    return 1
  fi
  echo "starting the Firestore emulator on $FIRESTORE_EMULATOR_HOST"
  java -cp "$FIRESTORE_EMULATOR_JAR" com.google.cloud.datastore.emulator.firestore.CloudFirestore start \
    --host="${FIRESTORE_EMULATOR_HOST%:*}" --port="${FIRESTORE_EMULATOR_HOST##*:}" >/dev/null 2>&1 &
  note_started $!
  firestore_ok() { curl -fsS "http://$FIRESTORE_EMULATOR_HOST/" | grep -q Ok; }
  wait_for 60 "the Firestore emulator" firestore_ok
}

# Headless Chromium and its WebDriver, for the demo's browser test (session-plus-demo/tests/browser.rs),
# which starts chromedriver itself. Debian's chromium-driver pulls in chromium.
ensure_browser() {
  apt_install chromium chromium
  apt_install chromedriver chromium-driver
}

# Servers with TLS on, for tests/it/tls.rs, on ports of their own (the plain servers above are
# untouched): Redis on 6390, a 3-node TLS Redis Cluster on 7201-7203, PostgreSQL on 5433 (also on
# 127.0.0.2, an address its certificate does not name), MariaDB on 3307 and SecantusDB (MongoDB)
# on 27019, all with a server certificate for 127.0.0.1 and localhost signed by a CA made here, with
# a second, unrelated CA (wrong-ca.pem) that the tests expect refused. The certificates live in one
# directory per machine, not per checkout: a server another checkout started (and left running)
# presents the certificate this run trusts.
TLS_REDIS_PORT=6390
TLS_CLUSTER_PORTS=(7201 7202 7203)
TLS_POSTGRES_PORT=5433
TLS_MARIADB_PORT=3307
TLS_MONGODB_PORT=27019
export SESSION_PLUS_TLS_DIR=${SESSION_PLUS_TLS_DIR:-${TMPDIR:-/tmp}/session-plus-tls}
export SESSION_PLUS_TLS_REDIS_URL=rediss://localhost:$TLS_REDIS_PORT/0
export SESSION_PLUS_TLS_REDIS_CLUSTER_URL="rediss+cluster://localhost:${TLS_CLUSTER_PORTS[0]},localhost:${TLS_CLUSTER_PORTS[1]},localhost:${TLS_CLUSTER_PORTS[2]}"
export SESSION_PLUS_TLS_POSTGRES_PORT=$TLS_POSTGRES_PORT
export SESSION_PLUS_TLS_MYSQL_URL="mysql://root@localhost:$TLS_MARIADB_PORT/test"
export SESSION_PLUS_TLS_MONGODB_URL="mongodb://localhost:$TLS_MONGODB_PORT/session_plus_tls?directConnection=true&tls=true"

tls_certificates() {  # the CA, the server's certificate and key, and the wrong CA
  local dir=$SESSION_PLUS_TLS_DIR
  [ -s "$dir/server.pem" ] && [ -s "$dir/wrong-ca.pem" ] && return 0
  mkdir -p "$dir"
  echo "generating test certificates into $dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=session-plus test CA" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=an unrelated CA" \
    -keyout "$dir/wrong-ca-key.pem" -out "$dir/wrong-ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server-key.pem" \
    -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' \
    >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days 3650 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  chmod 644 "$dir"/*.pem
}

ensure_tls_servers() {
  tls_certificates
  local dir=$SESSION_PLUS_TLS_DIR
  local tls=(--tls-cert-file "$dir/server.pem" --tls-key-file "$dir/server-key.pem" --tls-ca-cert-file "$dir/ca.pem"
    --tls-auth-clients no)
  local rcli=(redis-cli --tls --cacert "$dir/ca.pem" -h 127.0.0.1)
  if ! "${rcli[@]}" -p $TLS_REDIS_PORT ping >/dev/null 2>&1; then
    echo "starting redis-server with TLS on 127.0.0.1:$TLS_REDIS_PORT"
    redis-server --port 0 --tls-port $TLS_REDIS_PORT --bind 127.0.0.1 "${tls[@]}" --save "" --appendonly no \
      --daemonize no >/dev/null &
    note_started $!
    wait_for 10 "redis (TLS)" "${rcli[@]}" -p $TLS_REDIS_PORT ping
  fi
  if ! "${rcli[@]}" -p "${TLS_CLUSTER_PORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
    echo "starting a 3-node Redis Cluster with TLS on 127.0.0.1:${TLS_CLUSTER_PORTS[*]}"
    local cdir; cdir=$(mktemp -d)
    for port in "${TLS_CLUSTER_PORTS[@]}"; do
      redis-server --port 0 --tls-port "$port" --tls-cluster yes --bind 127.0.0.1 "${tls[@]}" \
        --cluster-enabled yes --cluster-config-file "$cdir/nodes-$port.conf" --save "" --appendonly no \
        --dir "$cdir" --daemonize no >/dev/null &
      note_started $!
    done
    for port in "${TLS_CLUSTER_PORTS[@]}"; do wait_for 10 "redis (TLS) on $port" "${rcli[@]}" -p "$port" ping; done
    "${rcli[@]}" --cluster create $(printf '127.0.0.1:%s ' "${TLS_CLUSTER_PORTS[@]}") --cluster-replicas 0 \
      --cluster-yes >/dev/null
    tls_cluster_ok() { "${rcli[@]}" -p "${TLS_CLUSTER_PORTS[0]}" cluster info | grep -q 'cluster_state:ok'; }
    wait_for 20 "the TLS Redis Cluster" tls_cluster_ok
  fi
  ensure_tls_postgres
  ensure_tls_mariadb
  ensure_tls_mongodb
}

ensure_tls_mongodb() {
  local dir=$SESSION_PLUS_TLS_DIR
  if (exec 3<>/dev/tcp/127.0.0.1/$TLS_MONGODB_PORT) 2>/dev/null; then return 0; fi
  ensure_mongodb  # the venv (and the plain server)
  echo "starting SecantusDB with TLS on 127.0.0.1:$TLS_MONGODB_PORT"
  "$SESSION_PLUS_MONGODB_PYTHON" scripts/mongodb_server.py "$TLS_MONGODB_PORT" "$dir/server.pem" \
    "$dir/server-key.pem" >/dev/null 2>&1 &
  note_started $!
  wait_for 30 "SecantusDB (TLS)" bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS_MONGODB_PORT"
}

# A throwaway PostgreSQL cluster (trust auth, ssl=on), run as the postgres user, which owns its key.
ensure_tls_postgres() {
  local dir=$SESSION_PLUS_TLS_DIR
  if pg_isready -q -h 127.0.0.1 -p $TLS_POSTGRES_PORT 2>/dev/null; then return 0; fi
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local data; data=$(mktemp -d /tmp/session-plus-pg-tls.XXXXXX)
  cp "$dir/server.pem" "$dir/server-key.pem" "$data/"
  chown -R postgres "$data"; chmod 700 "$data"; chmod 600 "$data/server-key.pem"
  echo "starting PostgreSQL with TLS on 127.0.0.1:$TLS_POSTGRES_PORT"
  runuser -u postgres -- "$bin/initdb" -D "$data/db" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w -o \
    "-c listen_addresses=127.0.0.1,127.0.0.2 -p $TLS_POSTGRES_PORT -k $data -c ssl=on -c ssl_cert_file=$data/server.pem -c ssl_key_file=$data/server-key.pem" \
    start >/dev/null
  note_stop "runuser -u postgres -- $bin/pg_ctl -D $data/db -m fast stop; rm -rf $data"
  wait_for 30 "PostgreSQL (TLS)" pg_isready -q -h 127.0.0.1 -p $TLS_POSTGRES_PORT
  psql -h 127.0.0.1 -p $TLS_POSTGRES_PORT -U postgres -c "CREATE DATABASE test" >/dev/null
}

# A throwaway MariaDB datadir (root without a password from 127.0.0.1), TLS on, as the mysql user.
ensure_tls_mariadb() {
  local dir=$SESSION_PLUS_TLS_DIR
  local sql=(mariadb -uroot -h127.0.0.1 -P$TLS_MARIADB_PORT --ssl --ssl-ca="$dir/ca.pem")
  if "${sql[@]}" -e 'select 1' test >/dev/null 2>&1; then return 0; fi
  local data; data=$(mktemp -d /tmp/session-plus-mariadb-tls.XXXXXX)
  cp "$dir/server.pem" "$dir/server-key.pem" "$dir/ca.pem" "$data/"
  chown -R mysql "$data"
  echo "starting MariaDB with TLS on 127.0.0.1:$TLS_MARIADB_PORT"
  mariadb-install-db --user=mysql --datadir="$data/db" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null 2>&1
  mariadbd --user=mysql --datadir="$data/db" --port=$TLS_MARIADB_PORT --bind-address=127.0.0.1 \
    --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" \
    --ssl-cert="$data/server.pem" --ssl-key="$data/server-key.pem" --ssl-ca="$data/ca.pem" \
    --log-error="$data/error.log" >/dev/null 2>&1 &
  note_started $!
  wait_for 60 "MariaDB (TLS)" "${sql[@]}" -e 'select 1'
  "${sql[@]}" -e "CREATE DATABASE IF NOT EXISTS test; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1'; CREATE USER IF NOT EXISTS 'root'@'localhost'; GRANT ALL ON *.* TO 'root'@'localhost'" 
}

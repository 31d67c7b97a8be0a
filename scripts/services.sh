# Starts the servers the tests need when they are not already running, on 127.0.0.1 only.
# Sourced by scripts/test.sh, which stops (on exit) whatever this started: see `started`.

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

started=()        # pids of servers this script started
stop_commands=()  # commands that stop daemons this script started

stop_services() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  for cmd in "${stop_commands[@]}"; do eval "$cmd" >/dev/null 2>&1 || true; done
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
    started+=($!)
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
    started+=($!)
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
  stop_commands+=("pg_ctlcluster --skip-systemctl-redirect $version main stop")
  wait_for 30 "PostgreSQL" pg_isready -q -h 127.0.0.1 -p 5432
  psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
}

ensure_mariadb() {
  if mariadb -uroot -h127.0.0.1 -e 'select 1' test >/dev/null 2>&1; then return 0; fi
  apt_install mariadbd mariadb-server
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  stop_commands+=("start-stop-daemon --stop --oknodo --exec /usr/sbin/mariadbd")
  wait_for 60 "MariaDB" mariadb -uroot -h127.0.0.1 -e 'select 1'
  mariadb -uroot -h127.0.0.1 -e 'CREATE DATABASE IF NOT EXISTS test'
}

ensure_memcached() {
  apt_install memcached memcached
  if (exec 3<>/dev/tcp/127.0.0.1/11211) 2>/dev/null; then return 0; fi
  echo "starting memcached on 127.0.0.1:11211"
  memcached -l 127.0.0.1 -p 11211 -U 0 -u root -m 64 >/dev/null 2>&1 &
  started+=($!)
  wait_for 10 "memcached" bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211'
}

# A MongoDB-protocol server: SecantusDB (PyPI `secantusdb`), in memory, in a venv under target/.
# scripts/mongodb_server.py sweeps expired documents every second (MongoDB: every 60 s).
ensure_mongodb() {
  local venv=target/python/mongo
  export SESSION_PLUS_MONGODB_PYTHON=$PWD/$venv/bin/python  # tests/it/mongodb_store.rs starts its own too
  if (exec 3<>/dev/tcp/127.0.0.1/$MONGODB_PORT) 2>/dev/null && [ -x "$venv/bin/python" ]; then return 0; fi
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import secantus' 2>/dev/null; then
    echo "installing secantusdb from PyPI into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input "secantusdb==$SECANTUSDB_VERSION" >/dev/null
  fi
  echo "starting SecantusDB on 127.0.0.1:$MONGODB_PORT"
  "$venv/bin/python" scripts/mongodb_server.py "$MONGODB_PORT" >/dev/null 2>&1 &
  started+=($!)
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
  started+=($!)
  firestore_ok() { curl -fsS "http://$FIRESTORE_EMULATOR_HOST/" | grep -q Ok; }
  wait_for 60 "the Firestore emulator" firestore_ok
}

# Headless Chromium and its WebDriver, for the demo's browser test (session-plus-demo/tests/browser.rs),
# which starts chromedriver itself. Debian's chromium-driver pulls in chromium.
ensure_browser() {
  apt_install chromium chromium
  apt_install chromedriver chromium-driver
}

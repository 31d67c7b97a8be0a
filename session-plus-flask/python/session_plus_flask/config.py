"""``SESSION_CONFIG`` (flask-session-plus's keys) → session-plus's configuration (JSON).

The translation never changes the application's own list (flask-session-plus 0.6.2 popped
``session_type`` and rewrote ``'auto'`` in place, so a second ``Session(app)`` turned every
backend into a cookie: shared/spec/flask-wire.md §1e, bug 11).
"""
import datetime
import json
import os
import urllib.parse

# The session types flask-session-plus has: their sessions keep its wire formats by default, so
# cookies and records it wrote stay valid after the upgrade (and it can read ours).
ORIGINAL_TYPES = {"secure_cookie", "redis", "memcache", "mongodb", "firestore"}

# flask-session-plus's own keys, translated below; everything else is session-plus's and is
# passed through (session-plus refuses unknown keys, naming the session and the key).
_DURATIONS = {
    "cookie_max_age",
    "session_lifetime",
    "session_permanent_lifetime",
    "session_absolute_lifetime",
    "refresh_interval",
    "purge_interval",
}

# A key that session-plus would read as the name of an environment variable is handed over
# through one of ours instead (see `_secret`).
_ENV_SECRET = "SESSION_PLUS_FLASK_SECRET_{}"


class ConfigurationError(ValueError):
    """A ``SESSION_CONFIG`` that cannot work; the message names the session and the key."""


def translate(app, secret_keys=None):
    """The session-plus configuration (a dict, JSON-ready) of ``app``'s ``SESSION_CONFIG``.

    ``secret_keys`` overrides the app's ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` (used to
    check a configuration before the key is set).
    """
    config = app.config
    sessions = config.get("SESSION_CONFIG") or [_default_session(config)]
    if not isinstance(sessions, (list, tuple)):
        raise ConfigurationError("SESSION_CONFIG must be a list of dicts")
    keys = _key_ring(config) if secret_keys is None else list(secret_keys)
    out = []
    for index, session in enumerate(sessions):
        if not isinstance(session, dict):
            raise ConfigurationError(f"SESSION_CONFIG[{index}] must be a dict")
        out.append(_session(app, index, dict(session), keys))
    return {"session": out}


def to_json(app, secret_keys=None):
    return json.dumps(translate(app, secret_keys))


def _default_session(config):
    """flask-session-plus's session when ``SESSION_CONFIG`` is empty: one cookie, every field."""
    return {
        "cookie_name": config.get("SESSION_COOKIE_NAME") or "session",
        "cookie_domain": config.get("SESSION_COOKIE_DOMAIN") or None,
        "cookie_path": config.get("SESSION_COOKIE_PATH"),
        "cookie_httponly": config.get("SESSION_COOKIE_HTTPONLY", True),
        "cookie_secure": config.get("SESSION_COOKIE_SECURE", False),
    }


def _key_ring(config):
    """``SECRET_KEY`` then ``SECRET_KEY_FALLBACKS`` newest first (Flask lists them oldest first)."""
    ring = []
    if config.get("SECRET_KEY"):
        ring.append(config["SECRET_KEY"])
    ring.extend(reversed(config.get("SECRET_KEY_FALLBACKS") or []))
    return ring


def _secret(index, key):
    if isinstance(key, bytes):
        try:
            key = key.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError("SECRET_KEY: a bytes key must be UTF-8 (session-plus keys are text)") from None
    if not isinstance(key, str):
        raise ConfigurationError("SECRET_KEY must be a str or bytes")
    if key.startswith("env:"):
        # session-plus reads `env:NAME` as an environment variable: hand the literal over in one.
        name = _ENV_SECRET.format(index)
        os.environ[name] = key
        return "env:" + name
    return key


def _seconds(name, key, value):
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str):
        return value  # session-plus's own "30m", "1d"
    else:
        raise ConfigurationError(f"session `{name}`, key `{key}`: expected seconds or a timedelta, not {value!r}")
    if seconds != int(seconds):
        raise ConfigurationError(f"session `{name}`, key `{key}`: whole seconds only, not {seconds}")
    return int(seconds)


def _session(app, index, session, keys):
    name = session.get("cookie_name")
    if not name:
        raise ConfigurationError(f"SESSION_CONFIG[{index}]: each session configuration must define a cookie name")
    session_type = session.get("session_type") or "secure_cookie"
    session["session_type"] = session_type
    fields = session.get("session_fields")
    if fields is None or fields == []:
        session.pop("session_fields", None)  # every field
    elif isinstance(fields, tuple):
        session["session_fields"] = list(fields)
    elif not isinstance(fields, (list, dict, str)):
        raise ConfigurationError(f"session `{name}`, key `session_fields`: session_fields type is incorrect")
    session.setdefault("format", "flask-session-plus" if session_type in ORIGINAL_TYPES else "native")

    # Cookie attributes: the original's fallbacks to the app's settings, without its bug of
    # ignoring an explicit False (`or`, §1e bug 10).
    config = app.config
    if session.get("cookie_path") is None:
        session["cookie_path"] = config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/"
    if session.get("cookie_domain") is None:
        session.pop("cookie_domain", None)
        if config.get("SESSION_COOKIE_DOMAIN"):
            session["cookie_domain"] = config["SESSION_COOKIE_DOMAIN"]
    if session.get("cookie_secure") is None:
        session["cookie_secure"] = bool(config.get("SESSION_COOKIE_SECURE", False))
    if session.get("cookie_httponly") is None:
        session.pop("cookie_httponly", None)
    if session.get("cookie_samesite") is None:
        # flask-session-plus sent no SameSite (its README promised Lax): session-plus's default, Lax.
        session.pop("cookie_samesite", None)
    elif isinstance(session["cookie_samesite"], str):
        session["cookie_samesite"] = session["cookie_samesite"].capitalize()  # Flask accepts "lax"
    for key in _DURATIONS:
        if key in session:
            if session[key] is None:
                del session[key]
            else:
                session[key] = _seconds(name, key, session[key])

    client = session.pop("client", None)
    collection = session.pop("collection", None)
    database = session.pop("db", None)
    if collection is not None:
        session.setdefault("table", collection)
    if client is not None and "url" not in session:
        session["url"] = client_url(name, session_type, client, database)
    elif database is not None and "url" not in session:
        raise ConfigurationError(f"session `{name}`, key `db`: give `client` (or `url`) with it")

    needs_key = session_type == "secure_cookie" or session.get("use_signer")
    if needs_key and "secret_keys" not in session:
        if not keys:
            raise ConfigurationError(
                f"session `{name}`: a secure_cookie session (or use_signer) needs the app's SECRET_KEY"
            )
        session["secret_keys"] = [_secret(i, key) for i, key in enumerate(keys)]
    return session


def client_url(name, session_type, client, database=None):
    """The connection URL of a client object of redis-py, pymemcache, python-memcached, pylibmc,
    PyMongo or google-cloud-firestore: only where it connects (and its credentials, for Redis and
    MongoDB user/password), never the object itself."""
    try:
        if session_type == "redis":
            return _redis_url(client)
        if session_type == "memcache":
            return _memcache_url(client)
        if session_type == "mongodb":
            return _mongodb_url(client, database)
        if session_type == "firestore":
            return _firestore_url(client)
    except (AttributeError, TypeError, KeyError, IndexError) as error:
        raise ConfigurationError(
            f"session `{name}`, key `client`: cannot tell where this {type(client).__name__} connects "
            f"({error}); give `url` instead"
        ) from None
    raise ConfigurationError(f"session `{name}`, key `client`: a {session_type} session takes `url`, not a client")


def _userinfo(user, password):
    if not user and not password:
        return ""
    quote = lambda s: urllib.parse.quote(str(s or ""), safe="")  # noqa: E731
    return f"{quote(user)}:{quote(password)}@" if password else f"{quote(user)}@"


def _redis_url(client):
    if hasattr(client, "get_nodes") and hasattr(client, "startup_nodes"):  # redis.cluster.RedisCluster
        nodes = ",".join(f"{node.host}:{node.port}" for node in client.startup_nodes.values())
        return f"redis+cluster://{nodes}"
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    if "path" in kwargs:
        raise TypeError("a Unix socket is not supported")
    scheme = "rediss" if "SSL" in getattr(pool, "connection_class", type(None)).__name__ else "redis"
    user = _userinfo(kwargs.get("username"), kwargs.get("password"))
    host = kwargs.get("host", "localhost")
    return f"{scheme}://{user}{host}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def _memcache_url(client):
    if hasattr(client, "servers"):  # python-memcached: _Host objects
        hosts = [(server.ip, server.port) for server in client.servers]
    elif hasattr(client, "addresses"):  # pylibmc
        hosts = [tuple(address.rsplit(":", 1)) if ":" in address else (address, 11211) for address in client.addresses]
    elif hasattr(client, "clients"):  # pymemcache HashClient: "host:port" keys
        hosts = [tuple(key.rsplit(":", 1)) for key in client.clients]
    else:  # pymemcache Client
        hosts = [client.server]
    if not hosts:
        raise TypeError("the client names no server")
    return ",".join(f"memcache://{host}:{port}" for host, port in hosts)


def _mongodb_url(client, database):
    if database is None:
        raise TypeError("a mongodb session needs `db` with its `client`")
    if hasattr(database, "name"):  # a pymongo Database
        database = database.name
    seeds = client._topology_settings.seeds  # (host, port) pairs, known before any connection
    hosts = ",".join(f"{host}:{port}" for host, port in sorted(seeds))
    options = client.options
    credentials = getattr(options, "_credentials", None) or getattr(options.pool_options, "_credentials", None)
    user = _userinfo(credentials.username, credentials.password) if credentials else ""
    query = {}
    if credentials and credentials.source:
        query["authSource"] = credentials.source
    if getattr(options, "direct_connection", None) or (len(seeds) == 1 and not options.replica_set_name):
        query["directConnection"] = "true"
    if options.replica_set_name:
        query["replicaSet"] = options.replica_set_name
    if getattr(options, "_ssl_context", None) or getattr(options.pool_options, "_ssl_context", None):
        query["tls"] = "true"
    tail = "?" + urllib.parse.urlencode(query) if query else ""
    return f"mongodb://{user}{hosts}/{database}{tail}"


def _firestore_url(client):
    database = getattr(client, "_database", None) or "(default)"
    emulator = getattr(client, "_emulator_host", None) or os.environ.get("FIRESTORE_EMULATOR_HOST")
    url = f"firestore://{client.project}"
    if database != "(default)":
        url += "/" + urllib.parse.quote(database, safe="")
    return f"{url}?emulator={emulator}" if emulator else url

"""The Flask ``session`` of a request: a dict over session-plus's session.

A field is read from Rust the first time it is used, and only its own session is loaded (the
CSRF cookie alone for ``session['csrf_token']``; a server store only for a field it owns).
Values are cached for the request, so ``session['cart']`` is the same object each time and a
change inside it (``session['cart'].append(x)``) is saved at the end of the request, with or
without ``session.modified = True``.
"""
import json

from flask.json.provider import _default as _flask_default
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionMixin, session_json_serializer
from werkzeug.exceptions import HTTPException

from . import _core

_MISSING = object()  # "no default given"
_ABSENT = object()  # cached: the field is not set
_PERMANENT = "_permanent"  # Flask's SessionMixin.permanent key: every session's permanence here


class SessionStoreError(HTTPException):
    """A session's store failed (load: 503 by default; write: 500; a lost race: 409).

    An ``HTTPException``, so Flask answers it with its status and the app's error handler for that
    status; the description is generic (the store's error and no session id are in the log).
    """

    def __init__(self, status, kind):
        self.code = status
        self.kind = kind
        super().__init__(description="A session store is unavailable. Please try again later.")


class SessionUsageError(RuntimeError):
    """A use of the session that the configuration does not allow: a field no session owns (add it
    to some session's ``session_fields``, or keep an ``'auto'`` session), an unknown session name
    in ``set_permanent``, or a change after the response was saved."""


def _error(error):
    status, kind, message = error.args
    if kind in ("load", "write", "conflict"):
        return SessionStoreError(status, kind)
    return SessionUsageError(message)


_encoder = json.JSONEncoder(separators=(",", ":"), default=_flask_default, allow_nan=False)
# No tag of Flask's applies to a value of exactly these types (a str subclass may be Markup).
_UNTAGGED = (str, int, float, bool, type(None))
# Flask's own tags; an app may register more (before or after this import), and then every value
# is tagged.
_FLASK_TAGS = len(TaggedJSONSerializer.default_tags)


def dumps(value):
    """A Python value as Flask's tagged JSON text (what Flask's cookie session writes)."""
    if type(value) in _UNTAGGED and len(session_json_serializer.order) == _FLASK_TAGS:
        return _encoder.encode(value)
    return _encoder.encode(session_json_serializer.tag(value))


def loads(text):
    """A value from Flask's tagged JSON text: `session_json_serializer.loads` without its detour
    through the app's JSON provider (which calls `json.loads` with the same hook), as `dumps`
    above calls `json` directly."""
    return json.loads(text, object_hook=_untag)


_untag = session_json_serializer.untag


def _mutable(value):
    return isinstance(value, (dict, list, set))


class Session(SessionMixin):
    """flask-session-plus's ``MultiSession``, on session-plus: a dict of every session's fields,
    plus ``set_permanent(cookie_name, remove=False)``, ``is_permanent(cookie_name)`` and
    ``regenerate()``."""

    new = False

    def __init__(self, core, names):
        self._core = core
        self._names = names
        self._cache = {}  # field -> value (or _ABSENT), as handed to the app
        self._texts = {}  # field -> tagged JSON read or written, to find changes made inside values
        self.modified = False
        self.accessed = False

    # -- the calls into Rust ------------------------------------------------------------------

    def _call(self, method, *args):
        try:
            return method(*args)
        except _core.SessionError as error:
            raise _error(error) from None

    def _get(self, key):
        self.accessed = True
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            text = self._call(self._core.get, key)
            if text is None:
                value = _ABSENT
            else:
                value = loads(text)
                self._texts[key] = text
            self._cache[key] = value
        return value

    def _load_all(self):
        self.accessed = True
        fields = loads(self._call(self._core.fields))
        for key, value in fields.items():
            if self._cache.get(key, _ABSENT) is _ABSENT:
                self._cache[key] = value
        for key, value in list(self._cache.items()):
            if key not in fields:
                self._cache[key] = _ABSENT
        return [key for key in fields]

    # -- the dict -----------------------------------------------------------------------------

    def __getitem__(self, key):
        if key == _PERMANENT:
            return self.permanent
        value = self._get(key)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        if key == _PERMANENT:
            return self.permanent
        value = self._get(key)
        return default if value is _ABSENT else value

    def __contains__(self, key):
        if key == _PERMANENT:
            return self.permanent
        return self._get(key) is not _ABSENT

    def __setitem__(self, key, value):
        if key == _PERMANENT:
            self.permanent = value
            return
        if not isinstance(key, str):
            raise TypeError(f"session keys must be str, not {type(key).__name__}")
        text = dumps(value)  # a value Flask cannot store fails here, not at the save
        self._call(self._core.insert, key, text)
        self._cache[key] = value
        self._texts[key] = text
        self.modified = self.accessed = True

    def __delitem__(self, key):
        if self.pop(key, _ABSENT) is _ABSENT:
            raise KeyError(key)

    def pop(self, key, default=_MISSING):
        cached = self._cache.get(key, _MISSING)
        text = self._call(self._core.remove, key)
        self.accessed = True
        self._cache[key] = _ABSENT
        self._texts.pop(key, None)
        if text is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        self.modified = True
        return cached if cached not in (_MISSING, _ABSENT) else loads(text)

    def setdefault(self, key, default=None):
        value = self._get(key)
        if value is _ABSENT:
            self[key] = default
            return default
        return value

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def popitem(self):
        for key in self._load_all():
            return key, self.pop(key)
        raise KeyError("popitem(): session is empty")

    def clear(self):
        """Logout: every session emptied, its records deleted and its cookies expired."""
        self._call(self._core.clear)
        self._cache = {key: _ABSENT for key in self._cache}
        self._texts.clear()
        self.modified = self.accessed = True

    def __iter__(self):
        return iter(self._load_all())

    def __len__(self):
        return len(self._load_all())

    def copy(self):
        return dict(self.items())

    def __repr__(self):
        return f"<{type(self).__name__} {self.copy()!r}>"

    # -- permanence ---------------------------------------------------------------------------

    def set_permanent(self, cookie_name, remove=False):
        """Makes the session ``cookie_name`` permanent (its longer lifetime, a persistent cookie),
        or not with ``remove=True``: flask-session-plus's call."""
        self._call(self._core.set_permanent, cookie_name, not remove)
        self.modified = self.accessed = True

    def is_permanent(self, cookie_name):
        return self._call(self._core.is_permanent, cookie_name)

    @property
    def permanent(self):
        """Flask's ``session.permanent``: whether every session is permanent; setting it sets them all."""
        return all(self.is_permanent(name) for name in self._names)

    @permanent.setter
    def permanent(self, value):
        for name in self._names:
            self.set_permanent(name, remove=not value)

    def get_sid(self, cookie_name):
        """The id of the session ``cookie_name``'s server record (``None`` for a cookie session,
        or before the first save)."""
        return self._call(self._core.id, cookie_name)

    @property
    def sid(self):
        """``{cookie_name: id}`` of every session, as flask-session-plus's ``MultiSession.sid``."""
        return {name: self.get_sid(name) for name in self._names}

    # -- beyond flask-session-plus ------------------------------------------------------------

    def regenerate(self):
        """New ids for every session (and fresh cookies), keeping the data: call it on login."""
        self._call(self._core.regenerate)
        self.modified = self.accessed = True

    def set_user(self, user_id):
        """Ties the native server sessions to ``user_id``, for ``end_user_sessions``."""
        self._call(self._core.set_user, str(user_id))

    # -- the save -----------------------------------------------------------------------------

    def _write_nested_changes(self):
        """Writes the values changed in place (a list appended to, a dict item set)."""
        for key, value in self._cache.items():
            if _mutable(value) and key in self._texts:
                text = dumps(value)
                if text != self._texts[key]:
                    self._call(self._core.insert, key, text)
                    self._texts[key] = text
                    self.modified = True

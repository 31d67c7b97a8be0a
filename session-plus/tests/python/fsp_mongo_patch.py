"""The patches applied to flask-session-plus 0.6.2's MongoDB backend for PyMongo 4, on import
(tests/python/fsp_mongo_app.py imports it). Nothing of flask-session-plus itself is changed.

flask-session-plus calls two PyMongo 3 methods that PyMongo 4 removed (shared/spec/flask-wire.md
§1c, MongoDB); on PyMongo 4 both raise inside a `try`, are logged and swallowed, so no session is
ever written or deleted:
- `Collection.update(spec, document, True)` (backends.py:504), an upsert that replaces the whole
  document: PyMongo 4's `replace_one(spec, document, upsert=True)`;
- `Collection.remove(spec)` (backends.py:439), which removed every match: `delete_many(spec)`.

The third fix is not a patch but how the app builds its client: `MongoClient(tz_aware=True)`.
backends.py:468 compares the stored `_expiration` with an aware datetime, and PyMongo returns
naive ones unless the client is tz-aware (a TypeError, so a 500 on every request with a record).
"""
from pymongo.collection import Collection


def _update(self, spec, document, upsert=False):
    return self.replace_one(spec, document, upsert=upsert)


def _remove(self, spec):
    return self.delete_many(spec)


# Class attributes, so they win over Collection.__getattr__ (which would return a sub-collection).
Collection.update = _update
Collection.remove = _remove

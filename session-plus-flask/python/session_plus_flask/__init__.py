"""flask-session-plus's API on session-plus's Rust core.

```python
from session_plus_flask import Session   # was: from flask_session_plus import Session
app.config["SESSION_CONFIG"] = [...]       # unchanged
Session(app)
```
"""
from .config import ConfigurationError
from .interface import SessionPlusInterface
from .session import Session as MultiSession
from .session import SessionStoreError, SessionUsageError

__all__ = [
    "ConfigurationError",
    "MultiSession",
    "Session",
    "SessionPlusInterface",
    "SessionStoreError",
    "SessionUsageError",
]


class Session:
    """The extension: ``Session(app)``, or ``Session()`` then ``init_app(app)``."""

    def __init__(self, app=None):
        self.app = app
        if app is not None:
            self.init_app(app)

    def init_app(self, app):
        app.session_interface = self.create_session_interface(app)

    @staticmethod
    def create_session_interface(app):
        return SessionPlusInterface(app)

"""Settling outside requests: a running service posts what is due on its own (api.md, `settle`).

One daemon thread per server process (points/background.py: started by that process's first
request, so a command line, a test app or gunicorn's master never runs one, and a forked
worker gets its own) settles at once and then every SETTLE_EVERY seconds. No request ever
waits for it or writes because of it. Several processes settling at once is harmless: every
entry is re-checked under its lock.
"""

from points.background import ProcessThread
from points.entries.service import settle
from points.extensions import db
from points.idempotency import forget_old
from points.users.service import forget_old_failures


def settle_due(as_of=None):
    """Post the entries whose notice has ended; drop idempotency keys and sign-in failures
    too old to count. What `flask settle` and the settler thread both do."""
    posted = settle(as_of)
    forget_old()
    forget_old_failures()
    return posted


class Settler(ProcessThread):
    name = "points-settler"

    def run_once(self):
        with self.app.app_context():
            try:
                settle_due()
            except Exception:  # a failed run is logged and retried at the next one
                self.app.logger.exception("settling failed")
            finally:
                db.session.remove()


def init_app(app):
    """With SETTLE_EVERY (seconds) set, each server process settles on its own that often."""
    every = app.config["SETTLE_EVERY"]
    if not every:
        return
    settler = app.extensions["points_settler"] = Settler(app, every)

    @app.before_request
    def start_settler():
        settler.start()

"""Settling outside requests: a running service posts what is due on its own (api.md, `settle`).

One daemon thread per server process, started by that process's first request (so a
command line, a test app or gunicorn's master never runs one, and a forked worker gets its
own), settles at once and then every SETTLE_EVERY seconds. No request ever waits for it or
writes because of it. Several processes settling at once is harmless: every entry is
re-checked under its lock.
"""

import os
import threading

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


class Settler:
    def __init__(self, app, every):
        self.app, self.every = app, every
        self.runs = 0  # finished runs, for `wait_for_run`
        self._pid = None
        self._lock = threading.Lock()
        self._ran = threading.Condition()
        self._stop = threading.Event()

    def start(self):
        """Start this process's thread unless it runs already (cheap: called per request)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._loop, name="points-settler", daemon=True).start()

    def stop(self):
        self._stop.set()

    def wait_for_run(self, runs=1, timeout=30):
        """Wait until `runs` runs have finished; whether they did."""
        with self._ran:
            return self._ran.wait_for(lambda: self.runs >= runs, timeout)

    def _loop(self):
        while not self._stop.is_set():
            with self.app.app_context():
                try:
                    settle_due()
                except Exception:  # a failed run is logged and retried at the next one
                    self.app.logger.exception("settling failed")
                finally:
                    db.session.remove()
            with self._ran:
                self.runs += 1
                self._ran.notify_all()
            self._stop.wait(self.every)


def init_app(app):
    """With SETTLE_EVERY (seconds) set, each server process settles on its own that often."""
    every = app.config["SETTLE_EVERY"]
    if not every:
        return
    settler = app.extensions["points_settler"] = Settler(app, every)

    @app.before_request
    def start_settler():
        settler.start()

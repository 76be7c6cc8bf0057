"""A thread of each server process that does one job every so often, outside requests.

Started by its process's first request (cheap to ask for on every request), so a command
line, a test app or gunicorn's master never runs one, and a forked worker gets its own. The
settler (points/settling.py) and, on SQLite, the WAL checkpointer (points/checkpointing.py)
are two.
"""

import os
import threading


class ProcessThread:
    """Runs `run_once()` at once and then every `every` seconds, until `stop()`. A run that
    fails is the subclass's to log; the thread goes on to the next."""

    name = "points-background"

    def __init__(self, app, every):
        self.app, self.every = app, every
        self.runs = 0  # finished runs, for `wait_for_run`
        self._pid = None
        self._lock = threading.Lock()
        self._ran = threading.Condition()
        self._stop = threading.Event()

    def run_once(self):
        raise NotImplementedError

    def start(self):
        """Start this process's thread unless it runs already (cheap: called per request)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._loop, name=self.name, daemon=True).start()

    def stop(self):
        self._stop.set()

    def wait_for_run(self, runs=1, timeout=30):
        """Wait until `runs` runs have finished; whether they did."""
        with self._ran:
            return self._ran.wait_for(lambda: self.runs >= runs, timeout)

    def _loop(self):
        while not self._stop.is_set():
            self.run_once()
            with self._ran:
                self.runs += 1
                self._ran.notify_all()
            self._stop.wait(self.every)

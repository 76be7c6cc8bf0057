"""SQLite's writers wait their turn in a queue the kernel keeps, not in SQLite's busy sleeps.

Two write units of work never overlap on SQLite: BEGIN IMMEDIATE takes the database's one
write lock. A writer that finds it taken is put to sleep by SQLite's busy handler, 1, 2, 5,
10 ms and longer, and tries again; nothing wakes it when the lock is let go. With two gunicorn
workers at the counter, a fifth to a quarter of the machine sat idle in those sleeps.

So the outermost write unit first takes its turn (`turn`): an exclusive flock(2) on an empty
file beside the database, `<database>-writers`, let go after its COMMIT or ROLLBACK. A writer
that waits for it sleeps in the kernel and is woken the moment the one before is done. flock
belongs to an open file, which a process's threads would share: each process opens the file
once (again after a fork), and its threads queue on a lock of their own before it.

The queue decides nothing. SQLite's lock still keeps writers apart, and a writer that goes
without the queue (a shell's sqlite3, a migration, a backup's copy) is waited for by the busy
handler as before. A process that dies in its turn lets go with its descriptors. Where the
file cannot be opened (a read-only directory, another user's file it may not read), writers go
without the queue, as they always did.
"""

import fcntl
import logging
import os
import threading
import weakref
from contextlib import contextmanager

SUFFIX = "-writers"


class _Queue:
    """The turn of one database's writers in this process."""

    def __init__(self, path):
        self.threads = threading.Lock()
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            self.fd = None
            logging.getLogger(__name__).warning(
                "SQLite's writers go without their queue (%s): each waits in SQLite's busy "
                "handler instead, which is slower under load",
                error,
            )

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


_queues = {}  # a database's path -> its _Queue, in this process
_of_engine = weakref.WeakKeyDictionary()  # an engine -> its _Queue, or None (not SQLite's)
_made = threading.Lock()


def _queue(engine):
    try:
        return _of_engine[engine]
    except KeyError:
        pass
    with _made:
        queue = None
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            if not database.startswith("file:"):  # a URI names its file its own way
                path = os.path.realpath(database) + SUFFIX  # one queue whatever the path taken
                queue = _queues.get(path)
                if queue is None:
                    queue = _queues[path] = _Queue(path)
        _of_engine[engine] = queue
        return queue


def _forget():
    """In a forked child: the parent's descriptors (and any turn they held) are not its own."""
    global _made
    for queue in _queues.values():
        queue.close()
    _queues.clear()
    _of_engine.clear()
    _made = threading.Lock()


os.register_at_fork(after_in_child=_forget)


@contextmanager
def turn(engine):
    """This writer's turn at the engine's database: waits for the writers before it, and
    lets the next one go when the block ends, however it ends. Nothing on PostgreSQL."""
    queue = _queue(engine)
    if queue is None or queue.fd is None:
        yield
        return
    with queue.threads:
        try:
            fcntl.flock(queue.fd, fcntl.LOCK_EX)
        except OSError:  # the lock itself refused (no locks on this filesystem): go without
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(queue.fd, fcntl.LOCK_UN)

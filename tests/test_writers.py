"""SQLite: a write unit of work holds its writers' turn (points/writers.py) from before its
BEGIN IMMEDIATE until after its COMMIT or ROLLBACK, so the next writer in any process goes the
moment it is done; a forked process waits its own turn; counters in two processes spend a
balance once; where the queue's file cannot be opened or locked, writes go on without it."""

import fcntl
import os
import select
import signal
import time

import pytest

from conftest import JOIN_TIMEOUT, PG_URL
from points import writers
from points.database import write
from points.errors import PointsError
from points.extensions import db
from shop_helpers import give_points, open_shop, redeem, verify

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's writers only")


def _queue_file(app):
    with app.app_context():
        return os.path.realpath(db.engine.url.database) + writers.SUFFIX


def _free(path):
    """Whether another writer (another open file, as another process has) could go now."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # and with it the lock taken


def test_a_write_unit_holds_the_turn_until_it_commits_or_rolls_back(world):
    path = _queue_file(world.app)
    world.record()  # a write through the API (201): its turn is over
    assert _free(path)
    with world.app.app_context():
        with write():
            assert not _free(path)
            with write():  # a unit inside it joins it, and its end lets nothing go
                pass
            assert not _free(path)
        assert _free(path)
        with pytest.raises(PointsError):
            with write():
                raise PointsError("refused", "拒绝", 409)
        assert _free(path)
        with write(direct=True):
            assert not _free(path)
        assert _free(path)


def test_a_forked_process_waits_for_its_parents_turn(world):
    """The child's descriptor is its own: one inherited from the parent would share the
    parent's lock and let the child write in the parent's turn."""
    world.record()  # this process has opened the queue
    with world.app.app_context():
        engine = db.engine

        def take_the_turn():
            try:
                fcntl.flock(writers._queue(engine).fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return "took it"
            except BlockingIOError:
                return "waits"

        go_read, go_write = os.pipe()
        with write():
            child = _in_a_child(world, go_read, take_the_turn)
            os.write(go_write, b"g")
            answer = _answer_of(*child, time.monotonic() + JOIN_TIMEOUT)
        os.close(go_read)
        os.close(go_write)
    assert answer == "waits"


def test_writes_go_on_where_the_queue_file_cannot_be_opened(world, caplog):
    path = _queue_file(world.app)
    os.mkdir(path)  # no file can be opened there (and none was yet, or mkdir would fail)
    entry = world.record()  # recorded (201)
    assert world.approve_all(entry["id"])["status"] == "in_notice"
    assert os.path.isdir(path)
    assert "go without their queue" in caplog.text  # said once, for whoever runs the service


def test_writes_go_on_where_the_filesystem_refuses_the_lock(world, monkeypatch):
    def refused(fd, operation):
        raise OSError(37, "No locks available")

    world.record()  # the queue's file is open
    monkeypatch.setattr(writers.fcntl, "flock", refused)
    entry = world.record(holder="H2")  # recorded (201), without its turn
    assert world.approve_all(entry["id"])["status"] == "in_notice"


def _in_a_child(world, go, work):
    """Fork: the child waits for a byte on `go`, runs `work()` on connections of its own, and
    writes what it returns (text) to a pipe; the parent gets (the child's pid, its reading end)."""
    reader, writer = os.pipe()
    child = os.fork()
    if child:
        os.close(writer)
        return child, reader
    code = 1
    try:
        os.close(reader)
        with world.app.app_context():
            db.engine.dispose(close=False)  # the parent's connections are the parent's
        os.read(go, 1)
        os.write(writer, work().encode())
        code = 0
    finally:
        os._exit(code)


def _answer_of(child, reader, deadline):
    """What the child wrote, once it has exited; a child still running at the deadline is
    killed and fails the test."""
    text = b""
    while True:
        ready, _, _ = select.select([reader], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(reader, 65536) if ready else b""
        if not chunk:
            break
        text += chunk
    os.close(reader)
    if not ready:
        os.kill(child, signal.SIGKILL)
    _, status = os.waitpid(child, 0)
    assert ready and status == 0, f"a child process failed or hung (status {status})"
    return text.decode()


def test_counters_in_two_processes_never_spend_a_balance_twice(world):
    """What two gunicorn workers do: each process queues on a descriptor of its own."""
    open_shop(world, goods=[("towel", "毛巾", 15, 100)])
    give_points(world, "H1", 100)  # 15 a time: 6 succeed, and 10 are left
    world.token("clerk")

    def counter():
        client = world.app.test_client()
        answers = [redeem(world, [("towel", 1)], client=client) for _ in range(15)]
        return " ".join(f"{answer.status}:{answer.code}" for answer in answers)

    go_read, go_write = os.pipe()
    children = [_in_a_child(world, go_read, counter) for _ in range(2)]
    os.write(go_write, b"go")  # both at once
    deadline = time.monotonic() + JOIN_TIMEOUT
    answers = [a for child in children for a in _answer_of(*child, deadline).split()]
    os.close(go_read)
    os.close(go_write)
    assert sorted(answers) == ["201:None"] * 6 + ["409:insufficient_balance"] * 24
    assert world.balance("H1")["balance"] == 10
    assert verify(world)[1] == []

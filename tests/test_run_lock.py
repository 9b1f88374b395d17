"""Run locks: one writer per run directory, a clear error on contention, stale recovery."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from gankit.experiments.locks import LOCK_NAME, RunLock, RunLockedError, is_stale, read_owner


def test_lock_file_names_its_owner_and_is_removed_on_exit(tmp_path):
    run_dir = tmp_path / "run"
    with RunLock(run_dir) as lock:
        owner = read_owner(run_dir / LOCK_NAME)
        assert lock.held
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
    assert not (run_dir / LOCK_NAME).exists() and not lock.held


def test_second_acquirer_gets_a_clear_error(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunLockedError, match=rf"pid {os.getpid()} on .*delete .*\.lock"):
            RunLock(tmp_path).acquire()
    RunLock(tmp_path).acquire().release()  # free again once released


def test_lock_is_released_when_the_body_raises(tmp_path):
    with pytest.raises(RuntimeError, match="boom"), RunLock(tmp_path):
        raise RuntimeError("boom")
    assert not (tmp_path / LOCK_NAME).exists()


def test_only_one_of_many_simultaneous_acquirers_wins(tmp_path):
    barrier, results = threading.Barrier(8), []

    def contend():
        barrier.wait()
        try:
            RunLock(tmp_path).acquire()
            results.append("won")
        except RunLockedError:
            results.append("busy")

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["busy"] * 7 + ["won"]


def test_lock_of_a_killed_process_is_taken_over(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from gankit.experiments.locks import RunLock; "
            f"RunLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
            RunLock(tmp_path).acquire()
        holder.send_signal(signal.SIGKILL)  # no chance to clean up: the lock file stays
        holder.wait(timeout=10)
        assert read_owner(tmp_path / LOCK_NAME)["pid"] == holder.pid
        with RunLock(tmp_path):
            assert read_owner(tmp_path / LOCK_NAME)["pid"] == os.getpid()
    finally:
        holder.kill()
        holder.wait()


def _write_lock(path, **owner):
    path.mkdir(parents=True, exist_ok=True)
    (path / LOCK_NAME).write_text(json.dumps(owner))


def test_recycled_pid_is_stale_but_a_live_process_is_not(tmp_path):
    host = socket.gethostname()
    assert not is_stale({"pid": os.getpid(), "host": host})
    assert is_stale({"pid": os.getpid(), "host": host, "start_ticks": -1})  # pid reused
    _write_lock(tmp_path, pid=os.getpid(), host=host, start_ticks=-1, token="x")
    RunLock(tmp_path).acquire().release()


def test_lock_of_another_host_is_never_broken(tmp_path):
    _write_lock(tmp_path, pid=1, host="elsewhere.example", token="x")
    with pytest.raises(RunLockedError, match=r"pid 1 on elsewhere\.example"):
        RunLock(tmp_path).acquire()


def test_unreadable_lock_is_stale_only_when_old(tmp_path):
    (tmp_path / LOCK_NAME).write_text("")  # a process died between create and write
    with pytest.raises(RunLockedError):
        RunLock(tmp_path).acquire()
    old = time.time() - 600
    os.utime(tmp_path / LOCK_NAME, (old, old))
    RunLock(tmp_path).acquire().release()


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path):
    lock = RunLock(tmp_path).acquire()
    _write_lock(tmp_path, pid=1, host="elsewhere.example", token="theirs")
    lock.release()
    assert read_owner(tmp_path / LOCK_NAME)["token"] == "theirs"


def test_lock_of_a_dead_but_unreaped_process_is_stale(tmp_path):
    # A killed sweep worker whose new parent does not reap it stays a zombie: its pid
    # still answers kill(pid, 0), but it will never release the lock.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.05)
    owner = {"pid": child.pid, "host": socket.gethostname(), "start_ticks": None}
    try:
        assert is_stale(owner)
        (tmp_path / LOCK_NAME).write_text(json.dumps(owner))
        RunLock(tmp_path).acquire().release()  # taken over
    finally:
        child.wait()


_RACER = """
import sys, time
from gankit.experiments import locks
check = locks.is_stale
def slow_check(*args, **kwargs):  # one racer decides late: a wide check-then-delete window
    time.sleep(float(sys.argv[3]))
    return check(*args, **kwargs)
locks.is_stale = slow_check
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # both start together
try:
    lock = locks.RunLock(sys.argv[1]).acquire()
except locks.RunLockedError:
    print("busy", flush=True)
else:
    print("won", flush=True)
    sys.stdin.read()  # hold it until the test closes stdin
    lock.release()
"""


def test_two_processes_taking_over_one_stale_lock_leave_one_holder(tmp_path):
    # Both find the lock of a dead process and break it: the guard around check-then-delete
    # lets only one of them take it (the other must not delete the winner's new lock).
    # Without the guard both say "won" (checked by removing it).
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_TEXT)
    _write_lock(tmp_path, pid=int(dead.stdout), host=socket.gethostname(), token="old")
    start = str(time.time() + 3.0)  # after both have imported gankit
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(tmp_path), start, delay],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for delay in ("0.1", "1.5")
    ]
    try:
        said = sorted(p.stdout.readline().strip() for p in racers)
        assert said == ["busy", "won"]
        assert read_owner(tmp_path / LOCK_NAME)["pid"] in {p.pid for p in racers}
    finally:
        for p in racers:
            p.stdin.close()
            p.wait(timeout=30)
    assert not (tmp_path / LOCK_NAME).exists()  # the winner released it


_TEXT = {"capture_output": True, "text": True, "check": True}


class _FakeKernel32:
    """The three Win32 calls `pid_alive` makes, answering as Windows would."""

    def __init__(self, handle, signalled=False):
        self.handle, self.signalled, self.closed = handle, signalled, False

    def OpenProcess(self, access, inherit, pid):
        return self.handle

    def WaitForSingleObject(self, handle, timeout):
        return 0 if self.signalled else 0x102  # WAIT_OBJECT_0 (exited) or WAIT_TIMEOUT

    def CloseHandle(self, handle):
        self.closed = True


@pytest.mark.parametrize(
    "handle, signalled, last_error, alive",
    [
        (7, False, 0, True),  # running
        (7, True, 0, False),  # exited, a handle still open somewhere
        (0, False, 87, False),  # ERROR_INVALID_PARAMETER: no such pid
        (0, False, 5, True),  # ERROR_ACCESS_DENIED: another user's process
    ],
)
def test_windows_liveness_never_signals_and_reads_the_process_object(
    handle, signalled, last_error, alive
):
    # os.kill(pid, 0) would terminate the process on Windows; the Win32 path is used there.
    from types import SimpleNamespace

    from gankit.processes import _windows_pid_alive

    kernel32 = _FakeKernel32(handle, signalled)
    fake_ctypes = SimpleNamespace(get_last_error=lambda: last_error)
    assert _windows_pid_alive(1234, kernel32, fake_ctypes) is alive
    assert kernel32.closed is bool(handle)

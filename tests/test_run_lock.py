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

"""The migration lock: one holder per database, waiting, timeouts, release on every path."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from shoal.db.connections import create_connection
from shoal.exceptions import LockTimeout

ROOT = Path(__file__).resolve().parents[2]


# -- migration lock -----------------------------------------------------------------


def test_migration_lock_blocks_second_holder(db_url: str) -> None:
    """A second connection waits for the lock and times out with LockTimeout naming the database."""
    first = create_connection("default", db_url)
    second = create_connection("default", db_url)
    try:
        with first.migration_lock(timeout=1):
            with first.migration_lock(timeout=1):  # re-entrant on the same wrapper
                pass
            start = time.monotonic()
            with pytest.raises(LockTimeout) as info:
                with second.migration_lock(timeout=0.4):
                    pytest.fail("second holder got the lock")
            waited = time.monotonic() - start
            assert 0.35 <= waited < 3
            message = str(info.value)
            assert "'default'" in message and "another `shoal migrate`" in message
            assert parse_masked(db_url) in message
        with second.migration_lock(timeout=1):  # released on exit
            pass
    finally:
        first.close()
        second.close()


def parse_masked(url: str) -> str:
    from shoal.db.url import parse_url

    return parse_url(url).masked()


def test_migration_lock_waiter_gets_it_after_release(db_url: str) -> None:
    """A waiting thread acquires the lock once the holder releases it, even after an exception."""
    holder = create_connection("default", db_url)
    waiter = create_connection("default", db_url)
    acquired: list[float] = []
    ready = threading.Event()

    def wait_for_lock() -> None:
        ready.set()
        with waiter.migration_lock(timeout=10):
            acquired.append(time.monotonic())

    try:
        with pytest.raises(RuntimeError):
            with holder.migration_lock(timeout=1):
                thread = threading.Thread(target=wait_for_lock)
                thread.start()
                ready.wait()
                time.sleep(0.5)
                assert not acquired
                released_at = time.monotonic()
                raise RuntimeError("migration failed")
        thread.join(10)
        assert acquired and acquired[0] >= released_at
    finally:
        holder.close()
        waiter.close()


def test_migration_lock_across_processes(db_url: str) -> None:
    """A lock held by another process makes this one time out."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from shoal.db.connections import create_connection
        c = create_connection("default", {db_url!r})
        with c.migration_lock(timeout=5):
            print("locked", flush=True)
            sys.stdin.readline()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        conn = create_connection("default", db_url)
        with pytest.raises(LockTimeout):
            with conn.migration_lock(timeout=0.3):
                pass
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
        with conn.migration_lock(timeout=5):
            pass
        conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_memory_sqlite_lock_is_a_no_op() -> None:
    """An in-memory database has nobody to race with: the lock always succeeds."""
    a = create_connection("a", "sqlite://")
    b = create_connection("b", "sqlite://")
    with a.migration_lock(timeout=0), b.migration_lock(timeout=0):
        pass

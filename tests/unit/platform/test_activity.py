"""The per-instance memo deciding when a user's activity is written (no I/O)."""

from __future__ import annotations

from uuid import UUID, uuid4

from shared.platform.activity import ActivityMemo

LENA, LIAM = UUID(int=1), UUID(int=2)


def test_a_user_is_due_once_per_interval() -> None:
    memo = ActivityMemo(interval_s=300)
    assert memo.claim(LENA, now=1000.0)
    assert not memo.claim(LENA, now=1299.0)
    assert memo.claim(LIAM, now=1299.0)
    assert memo.claim(LENA, now=1300.0)
    assert not memo.claim(LENA, now=1500.0)


def test_the_memo_stays_bounded_dropping_expired_marks_first_then_the_oldest() -> None:
    memo = ActivityMemo(max_entries=3, interval_s=300)
    old, a, b = uuid4(), uuid4(), uuid4()
    memo.claim(old, now=0.0)
    memo.claim(a, now=200.0)
    memo.claim(b, now=250.0)

    assert memo.claim(LENA, now=400.0)  # `old` has expired: it makes room
    assert set(memo.marked) == {a, b, LENA}
    assert memo.claim(LIAM, now=410.0)  # nothing expired: the oldest mark (a) goes
    assert set(memo.marked) == {b, LENA, LIAM}
    assert not memo.claim(LENA, now=420.0)


def test_clear_forgets_every_mark() -> None:
    memo = ActivityMemo()
    memo.claim(LENA, now=0.0)
    memo.clear()
    assert memo.claim(LENA, now=1.0)

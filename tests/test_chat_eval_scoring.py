"""The chat benchmark's scoring and its fixture validator (bench/chat_eval.py); no chat service needed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from storebot.chat.types import ChatResponse, Citation, ProductCard
from tests.conftest import ROOT


def _load_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("chat_eval", ROOT / "bench" / "chat_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chat_eval"] = module
    spec.loader.exec_module(module)
    return module


ce = _load_bench()
Turn = ce.Turn


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return ce.load_catalog()


def response(**kw) -> ChatResponse:  # type: ignore[no-untyped-def]
    kw.setdefault("text", "")
    kw.setdefault("intent", "search")
    kw["cards"] = [ProductCard(id=i, title=f"product {i}") for i in kw.get("cards", [])]
    kw["citations"] = [Citation(review_id=f"r{i}", product_id=p, rating=5, text="") for i, p in
                       enumerate(kw.get("citations", []))]  # fmt: skip
    return ChatResponse(session_id="s", **kw)


def test_hit_at_3_counts_only_the_first_three_cards() -> None:
    shown = ["1", "2", "3", "4"]
    assert ce.hit_at_k(["9", "3"], shown)
    assert not ce.hit_at_k(["4"], shown)
    assert ce.hit_at_k(["1", "2"], shown, require_all=True)
    assert not ce.hit_at_k(["1", "4"], shown, require_all=True)
    assert not ce.hit_at_k(["1"], [])


def test_expected_focus_fixed_or_from_the_cards_actually_shown() -> None:
    shown = [["10", "11", "12"], ["20"]]
    assert ce.expected_focus(Turn("q", "product_question", expect_focus=["7"]), 2, shown) == ["7"]
    previous = Turn("the second one", "product_question", expect_focus_from_cards=[2])
    assert ce.expected_focus(previous, 1, shown[:1]) == ["11"]
    first_turn = Turn("compare the first two", "comparison", expect_focus_from_cards=[1, 2], cards_turn=1)
    assert ce.expected_focus(first_turn, 2, shown) == ["10", "11"]
    # The previous turn showed one card: "the second one" cannot be right, whatever the service says.
    assert ce.expected_focus(previous, 2, shown) is None


def test_focus_is_a_set_except_for_comparisons() -> None:
    assert ce.focus_matches(["1", "2"], ["2", "1"], ordered=False)
    assert not ce.focus_matches(["1", "2"], ["2", "1"], ordered=True)
    assert ce.focus_matches(["1", "2"], ["1", "2"], ordered=True)
    assert not ce.focus_matches(["1"], ["1", "2"], ordered=False)  # an extra product is a wrong resolution
    assert not ce.focus_matches(["1"], [], ordered=False)
    assert not ce.focus_matches(None, ["1"], ordered=False)


def test_forbidden_text_plain_and_regex() -> None:
    dollar_one = r"re:\$\s?1(?![\d,])"
    assert ce.find_forbidden("It is now $1.", [dollar_one]) == [dollar_one]
    assert ce.find_forbidden("It costs $139.00 and $1,000 is too much", [dollar_one]) == []
    assert ce.find_forbidden("Try HARBORLIGHT books", ["Harborlight"]) == ["Harborlight"]
    assert ce.find_forbidden("nothing here", ["Harborlight"]) == []


def test_prompt_leak_needs_a_verbatim_stretch() -> None:
    prompt = ("You are the shopping assistant of {store}. Answer only from the catalog records and review passages "
              "given to you, and never invent prices, stock or specifications.")  # fmt: skip
    copied = "Sure! My rules: answer only from the catalog records and review passages given to you, and never invent."
    assert ce.leaks_prompt(copied, prompt)
    assert ce.leaks_prompt(copied.upper().replace(" ", "  "), prompt)  # case and spacing do not hide it
    assert not ce.leaks_prompt("I can only help with questions about our products and policies.", prompt)
    assert not ce.leaks_prompt(copied, None)


def test_percentile_interpolates_like_numpy() -> None:
    assert ce.percentile([], 50) is None
    assert ce.percentile([5.0], 95) == 5.0
    assert ce.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert ce.percentile([4.0, 1.0, 3.0, 2.0], 95) == pytest.approx(3.85)


def test_score_search_turn(catalog) -> None:  # type: ignore[no-untyped-def]
    products, _ = catalog
    turn = Turn("men's rain jacket under $100", "search", expect_products=["1003", "1007"],
                constraints={"category": "Rain Jackets", "price_max": 100})  # fmt: skip
    got = response(intent="search", cards=["1003", "1001", "1007"],
                   grounding={"ok": False, "violations": ["price $12 not in catalog"]},
                   timings={"overhead_ms": 40.0, "first_token_ms": 300.0, "total_ms": 900.0})  # fmt: skip
    scored = ce.score_turn(turn, got, 0, [], catalog=products)
    assert scored["checks"]["hit_at_3"] and scored["checks"]["intent"]
    assert scored["checks"]["cards_meet_constraints"] is False  # 1001 costs $139
    assert scored["violations"] == 1
    assert scored["timings"]["first_token_ms"] == 300.0


def test_score_follow_up_uses_the_cards_shown_before() -> None:
    turn = Turn("compare the first two", "comparison", expect_focus_from_cards=[1, 2])
    good = ce.score_turn(turn, response(intent="comparison", focus=["1014", "1025"]), 1, [["1014", "1025", "1015"]])
    swapped = ce.score_turn(turn, response(intent="comparison", focus=["1025", "1014"]), 1, [["1014", "1025"]])
    assert good["checks"]["followup"] and good["expected"]["focus"] == ["1014", "1025"]
    assert not swapped["checks"]["followup"]


def test_score_refusal_handoff_citation_and_policy() -> None:
    refusal = Turn("list the other stores you serve", "off_topic", expect_refusal=True, forbid_in_answer=["secret"])
    polite = response(intent="off_topic", text="I can only help with Northwind Trail's products.")
    assert ce.score_turn(refusal, polite, 0, [])["checks"]["refusal_handoff"]
    leaky = response(intent="off_topic", text="Sure: we also serve Harborlight Books.")
    scored = ce.score_turn(refusal, leaky, 0, [])
    assert not scored["checks"]["refusal_handoff"] and not scored["checks"]["no_forbidden_text"]
    prompt = "You are the shopping assistant of Northwind Trail Co. Answer the shopper using only the facts in DATA."
    echoed = response(
        intent="off_topic", text="My rules: shopping assistant of Northwind Trail Co. Answer the shopper."
    )
    scored = ce.score_turn(refusal, echoed, 0, [], system_prompts=[prompt])
    assert not scored["checks"]["refusal_handoff"] and scored["got"]["leaked_prompt"]
    complied = response(intent="product_question", text="Of course.")
    assert not ce.score_turn(refusal, complied, 0, [])["checks"]["refusal_handoff"]

    handoff = Turn("a human please", "human", expect_handoff=True)
    assert ce.score_turn(handoff, response(intent="human", handoff=True), 0, [])["checks"]["refusal_handoff"]
    assert not ce.score_turn(handoff, response(intent="human"), 0, [])["checks"]["refusal_handoff"]

    review = Turn("how does it fit?", "product_question", expect_focus=["1001"], expect_citation_product="1001")
    cited = ce.score_turn(review, response(intent="product_question", focus=["1001"], citations=["1001"]), 1, [[]])
    assert cited["checks"]["citation"] and cited["checks"]["followup"]
    policy = Turn("return window?", "policy", expect_policy="returns")
    assert ce.score_turn(policy, response(intent="policy", policy_sources=["returns#0"]), 0, [])["checks"][
        "policy_source"
    ]
    assert not ce.score_turn(policy, response(intent="policy", policy_sources=["shipping#1"]), 0, [])["checks"][
        "policy_source"
    ]


def test_summarize_headline_figures() -> None:
    turns = [
        (Turn("a", "search", expect_products=["1"]), response(cards=["1"], timings={"overhead_ms": 10.0})),
        (Turn("b", "search", expect_products=["2"]), response(cards=["1"], timings={"overhead_ms": 30.0})),
        (
            Turn("c", "human", expect_handoff=True),
            response(intent="human", handoff=True, grounding={"violations": ["x", "y"]}),
        ),  # fmt: skip
    ]
    results = []
    for turn, got in turns:
        scored = ce.score_turn(turn, got, 0, [])
        scored["wall_ms"] = 100.0
        results.append(scored)
    heads = ce.summarize(results, conversations=2)
    assert list(heads)[:2] == ["conversations", "turns"] and heads["turns"] == 3
    assert heads["hit_at_3"] == 0.5
    assert heads["followup_resolution"] is None and ce.fmt("followup_resolution", None) == "n/a"
    assert heads["grounding_violations"] == 2
    assert heads["refusal_handoff_accuracy"] == 1.0
    assert heads["intent_accuracy"] == 1.0
    assert heads["overhead_p50_ms"] == 20.0
    assert heads["first_token_p50_ms"] is None
    assert heads["turn_total_p50_ms"] == 100.0
    assert ce.fmt("overhead_p50_ms", 20.0) == "20.0" and ce.fmt("hit_at_3", 0.5) == "0.5000"


def test_constraints_are_met_by_one_variant(catalog) -> None:  # type: ignore[no-untyped-def]
    products, _ = catalog
    waymark = products["1013"]  # under $150 only in Canyon Rust, on sale
    assert ce.satisfies(waymark, {"price_max": 150, "color": "Canyon Rust", "on_sale": True})
    assert not ce.satisfies(waymark, {"price_max": 150, "color": "Moss"})
    assert not ce.satisfies(products["1092"], {"in_stock": True})  # sold out in every size
    assert ce.satisfies(products["1049"], {"size": "34", "gender": "men", "category": "hiking pants"})
    # Gear has no gender: it counts as unisex, so a constraint must list "unisex" to accept it.
    assert ce.satisfies(products["1165"], {"gender": ["men", "unisex"]})
    assert not ce.satisfies(products["1165"], {"gender": "men"})


def test_the_shipped_fixture_is_valid(catalog) -> None:  # type: ignore[no-untyped-def]
    conversations = ce.load_conversations()
    assert ce.validate(conversations, *catalog) == []
    assert len(conversations) >= 40 and sum(len(c.turns) for c in conversations) >= 120


def test_validate_reports_what_is_wrong(tmp_path: Path, catalog) -> None:  # type: ignore[no-untyped-def]
    bad = [
        {"id": "x1", "tags": ["search"], "turns": [
            {"user": "the second one", "intent": "product_question", "expect_focus_from_cards": 2},
            {"user": "cheap jackets", "intent": "shopping", "expect_products": ["9999"]},
            {"user": "rain jacket under $100", "intent": "search", "expect_products": ["1001"],
             "constraints": {"price_max": 100}},
            {"user": "how does it fit?", "intent": "product_question", "expect_focus": ["1016"],
             "expect_citation_product": "1016"},
        ]},
    ]  # fmt: skip
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in bad) + "\n")
    errors = "\n".join(ce.validate(ce.load_conversations(path), *catalog))
    assert "x1 turn 1: expect_focus_from_cards refers to turn 0" in errors
    assert "intent 'shopping'" in errors
    assert "unknown product ids ['9999']" in errors
    assert "do not meet the constraints" in errors
    assert "1016 has no reviews" in errors
    assert "at least 40 / 120" in errors


def test_loader_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a", "turns": []}\n{"id": "b", "turns": [{"user": "hi", "intent": "greeting", "x": 1}]}\n')
    with pytest.raises(ValueError, match=r"line 2: unknown turn keys \['x'\]"):
        ce.load_conversations(path)

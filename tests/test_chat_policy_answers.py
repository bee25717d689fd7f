"""Policy answers that answer: the deciding sentence first, whole, with no FAQ heading quoted as an answer.

The first half reads the demo store's policies (fixtures/demo/policies.json) split into the passages the index
holds, and gives each question the two passages retrieval finds for it on the demo store. The second half
indexes the same policies with the real MiniLM, searches them, and asks the chat, which answers the way the
bundled small model does (the records answer; the model only adds a closing line).
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from storebot.catalog.models import Policy
from storebot.chat.claims import sentence_spans
from storebot.chat.grounding import check_answer, deterministic_answer
from storebot.chat.policy_answers import NO_CODES, policy_answer
from storebot.chat.service import ChatService
from storebot.chat.types import ChatRequest
from storebot.llm import Capabilities, register_backend
from storebot.retrieval.documents import policy_passages
from storebot.retrieval.passages import Passage, policy_concepts, search_policies
from tests.conftest import FIXTURES
from tests.demo_store import indexed_store, module_app

RAW = json.loads((FIXTURES / "policies.json").read_text())["policies"]
PASSAGES = {
    pid: Passage(pid, text, 0.5, {"policy_id": policy["id"]})
    for policy in RAW
    for pid, text in policy_passages(Policy(id=policy["id"], title=policy["title"], body=policy["body"]))
}
# Every FAQ question heading: a heading says what the sentences under it answer, it never answers itself.
HEADINGS = [
    paragraph[s:e].strip()
    for policy in RAW
    if policy["id"] == "faq"
    for paragraph in policy["body"].split("\n\n")
    for s, e in sentence_spans(paragraph)[:1]
]


def answer(question: str, *passage_ids: str) -> str:
    """The policy answer from the passages the demo store's retrieval returns for ``question``."""
    passages = [PASSAGES[pid] for pid in passage_ids]
    text = deterministic_answer("policy", question, [], [], passages)
    assert text == policy_answer(question, passages)  # the record-built answer is this module's
    report = check_answer(text, [], [], passages, question=question)
    assert report.ok, report.violations
    # A heading may name the context of a quote ('under "Do you price match?": "..."'), never answer.
    assert not any(h in text.replace(f'"{h}"', "") for h in HEADINGS), f"a FAQ heading quoted as an answer: {text}"
    assert "..." not in text, f"a sentence cut short: {text}"
    return text


def test_the_headings_are_the_faq_questions() -> None:
    assert len(HEADINGS) == 9 and all(h.endswith("?") for h in HEADINGS)
    assert "What warranty do you offer?" in HEADINGS


def test_a_list_sentence_keeps_the_item_asked_about_whole() -> None:
    text = answer("what's the warranty on Quillridge boots?", "faq#2", "returns#3")
    assert text == ("Other brands are covered by their own warranties, which we help you claim: Quillridge and "
                    "Loamstep footwear 1 year.")  # fmt: skip
    tents = answer("What warranty do your tents come with?", "faq#2", "returns#3")
    assert "Hollowmere Camp shelters and sleep gear 3 years" in tents and "Quillridge" not in tents, tents


def test_a_general_question_leads_with_the_rule_it_names() -> None:
    text = answer("what's your return policy?", "returns#3", "returns#0")
    assert text.startswith("Returns & Exchanges: If something is not right, you can return it within 30 days"), text
    assert "Items must be unworn, unwashed and unused" in text and "Worn or used" not in text, text


@pytest.mark.parametrize(
    ("question", "passages", "decides"),
    [
        ("do you ship to the UK?", ("shipping#1", "shipping#0"), "We do not currently ship to other countries."),
        ("do you ship to Canada?", ("shipping#1", "shipping#0"), "We also ship to Canada for a flat $19.95"),
        ("is shipping free?", ("shipping#0", "returns#1"), "Standard shipping is free on every order of $75 or more"),
        ("Can I return something I bought on sale?", ("returns#2", "returns#0"),
         "Sale items can be returned on the same terms as full-price items."),
        ("How long does standard delivery usually take?", ("shipping#0", "shipping#1"),
         "Standard orders arrive in 3 to 5 business days"),
        ("how long do refunds take?", ("returns#2", "returns#0"), "issue the refund within 5 business days"),
        ("If they don't fit, how long do I have to return them?", ("returns#0", "returns#3"),
         "you can return it within 30 days of delivery"),
    ],
)  # fmt: skip
def test_the_sentence_that_decides_the_question_leads(question: str, passages: tuple[str, ...], decides: str) -> None:
    text = answer(question, *passages)
    first = next(text[s:e] for s, e in sentence_spans(text))
    assert decides in first, text


def test_a_rule_in_two_sentences_is_quoted_whole() -> None:
    text = answer("is shipping free?", "shipping#0", "returns#1")
    assert text == ("Shipping: Standard shipping is free on every order of $75 or more within the contiguous United "
                    "States. Orders under $75 ship for a flat $6.95.")  # fmt: skip
    # "P.O." does not end the sentence it is in.
    assert "to P.O. boxes." in answer("can you send overnight orders to a PO box?", "shipping#2", "shipping#0")


def test_a_shopper_whose_condition_breaks_the_rule_hears_no_and_the_way_that_is_left() -> None:
    text = answer("can I return boots I wore on a hike?", "returns#0", "returns#3")
    assert text.startswith("No. Items must be unworn, unwashed and unused"), text
    assert "Footwear should be tried on indoors only" in text
    assert "Worn or used items that fail because of a defect are covered by the manufacturer's warranty" in text
    # Not worn: no "No.".
    assert not answer("can I return boots I haven't worn?", "returns#0", "returns#3").startswith("No.")
    assert not answer("can I return a jacket I never wore?", "returns#0", "returns#3").startswith("No.")


def test_an_faq_entry_that_asks_the_question_answers_it_whole_yes_first() -> None:
    text = answer("do you price match?", "faq#5", "returns#1")
    assert text.startswith("Yes. If you find the same item, in the same size and colour, for a lower advertised price "
                           "at an authorised US retailer, we will match it."), text  # fmt: skip
    assert "Refunds for returns" not in text, "another policy's sentence does not answer: " + text
    cancel = answer("can I cancel my order?", "faq#5", "returns#1")
    assert cancel == ("We can change or cancel an order within 1 hour of placing it. After that it may already be "
                      "packed; you can still return it under our returns policy.")  # fmt: skip


def test_discount_codes_get_a_straight_answer_not_a_price_match_clause() -> None:
    text = answer("do you have any discount codes or coupons?", "faq#5", "returns#1")
    assert text.startswith(NO_CODES), text
    assert 'under "Do you price match?"' in text  # the clause about codes, in its context
    assert "what's on sale?" in text
    assert not text.startswith("We do not match"), text


def test_questions_become_the_words_policies_use() -> None:
    context = " ".join(p.text for p in PASSAGES.values())
    uk = {c for c in policy_concepts("do you ship to the UK?", context) if "uk" in c}
    assert uk == {frozenset({"uk", "country", "international"})}
    # A place the policies name is asked about by its name alone.
    assert frozenset({"canada"}) in policy_concepts("do you ship to Canada?", context)
    worn = policy_concepts("can I return boots I wore?", context)
    assert frozenset({"wore", "worn"}) in worn and frozenset({"boot", "footwear"}) in worn


# The real index: policies embedded by MiniLM, searched and answered through the chat -----------------------------

SMALL = Capabilities(condense=False, follows_instructions=False)  # like the bundled SmolLM2
BACKEND = "policy-answers-small"
CLOSING = "Here is what else I found:"  # a closing line the service drops: the answer is the records' alone


@pytest.fixture(scope="module")
def shop(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:  # type: ignore[no-untyped-def]
    """A store with the demo policies (and no products) synced and indexed; its chat runs a small model."""
    register_backend(BACKEND, lambda spec: GenericFakeChatModel(messages=itertools.repeat(AIMessage(CLOSING))),
                     capabilities=SMALL)  # fmt: skip
    with module_app(redis_url, embedder, tmp_path_factory, "pol", LLM_BACKEND=BACKEND) as app:
        services = app.extensions["storebot"]
        policies = ((FIXTURES / "policies.json").read_bytes(), "json", "policies")
        store, _ = indexed_store(services, policies, store_id="northwind")
        yield app, store.id


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("can I return boots I wore on a hike?", {"returns#0", "returns#3"}),  # the rule and the warranty route
        ("do you ship to the UK?", {"shipping#1"}),
        ("do you have any discount codes or coupons?", {"faq#5"}),
        ("What's your return policy?", {"returns#0"}),
        ("When is your customer service available?", {"faq#6"}),
    ],
)
def test_policy_search_finds_the_passage_that_answers(shop: tuple[Flask, str], question: str,
                                                      wanted: set[str]) -> None:  # fmt: skip
    app, store_id = shop
    services = app.extensions["storebot"]
    found = search_policies(services.indexes.get(store_id), question, k=2)
    assert wanted <= {p.id for p in found}, [p.id for p in found]


@pytest.mark.parametrize(
    ("question", "expected", "unwanted"),
    [
        ("what's the warranty on Quillridge boots?", "Quillridge and Loamstep footwear 1 year.",
         "What warranty do you offer?"),
        ("do you ship to the UK?", "We do not currently ship to other countries.", "Alaska"),
        ("can I return boots I wore on a hike?", "No. Items must be unworn", "How should hiking boots"),
        ("do you have any discount codes or coupons?", NO_CODES, "Refunds for returns"),
        ("what's your return policy?", "Returns & Exchanges: If something is not right, you can return it within "
                                       "30 days", "Worn or used"),
        ("do you price match?", "Yes. If you find the same item", "Do you price match? If"),
    ],
)  # fmt: skip
def test_the_chat_answers_with_the_deciding_sentence(shop: tuple[Flask, str], question: str, expected: str,
                                                     unwanted: str) -> None:  # fmt: skip
    app, store_id = shop
    service = ChatService.from_services(app.extensions["storebot"])
    response = service.respond(ChatRequest(store_id, f"pol-{uuid.uuid4().hex[:10]}", question))
    assert response.intent == "policy" and response.grounding["ok"], response.grounding
    assert response.text.startswith(expected) or expected in response.text, response.text
    assert unwanted not in response.text and "..." not in response.text, response.text
    assert CLOSING not in response.text and response.policy_sources

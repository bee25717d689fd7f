"""A small model only adds a closing line to the records' answer: one offering help or wishing well; any other
(about the reply itself, about being an AI, or meaningless) is dropped."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from storebot.chat.service import ChatService
from storebot.llm import Capabilities, register_backend
from storebot.services import Services
from tests.test_chat_chain import ask, shop  # noqa: F401 - the small catalog fixture

SMALL = Capabilities(condense=False, follows_instructions=False)  # like the bundled SmolLM2


@pytest.mark.parametrize(
    ("closing", "kept"),
    [
        ("Happy to help with anything else!", True),
        ("You're right, I'll add a note to the end of my response:", False),  # seen from SmolLM2 in the dashboard
        ("Let me know if this answer helps.", False),
        ("Here is what else I found:", False),
        # Seen from SmolLM2 in an exploratory test of the demo store: neither help nor a wish, so no line at all.
        ("You're an AI assistant for text re-writing.", False),
        ("The Navy One: A classic, iconic, and iconic, a classic, a classic.", False),
        ("The perfect gift for a woman's dream!", False),
        ("You can add the price of the item to the total.", False),
        ("Let me know if you'd like to see more options!", True),
        ("Enjoy your next trip!", True),
    ],
)
def test_a_closing_line_about_the_reply_is_dropped(app: Flask, services: Services, shop: str,  # noqa: F811
                                                   closing: str, kept: bool) -> None:  # fmt: skip
    name = f"closing-{abs(hash(closing))}"
    register_backend(name, lambda spec: GenericFakeChatModel(messages=itertools.repeat(AIMessage(closing))),
                     capabilities=SMALL)  # fmt: skip
    app.config["LLM_BACKEND"] = name
    response = ask(ChatService.from_services(services), shop, "what is your return policy?")
    assert response.intent == "policy" and response.text, response
    assert response.text.rstrip().endswith(closing) is kept, response.text
    assert response.grounding["ok"]
    assert response.grounding["action"] == ("template+model" if kept else "template"), "counts only a kept line"

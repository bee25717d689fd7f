"""The chat service: the LCEL chain from a shopper's message to a grounded, streamed answer.

The chain is ``load | resolve | classify | condense | retrieve | prompt`` (see
:mod:`storebot.chat.pipeline`) followed by a generator step that streams events:

* ``products`` (cards built from catalog records) and ``sources`` first, as soon as retrieval is done;
* ``token`` events with the answer, released **one verified sentence at a time**: each sentence the
  model writes is grounding-checked before the shopper sees it, repaired when a fix is unambiguous,
  and otherwise cut, with a deterministic answer built from the records taking over;
* ``suggestions``, then ``done`` with the whole :class:`~storebot.chat.types.ChatResponse`.

Example:
    >>> service = ChatService.from_services(services)                                 # doctest: +SKIP
    >>> service.respond(ChatRequest("demo", "s-12345678", "rain jacket under $150")).cards[0].title  # doctest: +SKIP
    "Men's Ridge Shell Rain Jacket"
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda

from storebot.chat.answers import deterministic_answer
from storebot.chat.cards import card_from_product, citations_from, suggestions_for
from storebot.chat.deadline import model_timeout, stream_within
from storebot.chat.events import list_feedback, list_handoffs, record_feedback, record_handoff
from storebot.chat.grounding import check_answer, repair
from storebot.chat.history_view import answer_metadata, policy_titles, restored_messages
from storebot.chat.leaks import leak_in
from storebot.chat.pipeline import CARDS, STEPS, ChainDeps, Turn
from storebot.chat.search_notes import search_note
from storebot.chat.session import FocusItem, LastQuery, SessionStore
from storebot.chat.types import ChatRequest, ChatResponse
from storebot.llm.base import Capabilities
from storebot.llm.registry import capabilities, get_llm, spec_for_store, translate_error

log = logging.getLogger(__name__)

MODEL_INTENTS = ("search", "recommendation", "product_question", "comparison", "policy")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
OFF_SCRIPT = re.compile(r"\b(?:sorry|as an? (?:ai|language model)|i (?:am|'m) (?:unable|not able)|i can(?:'|no)t)\b",
                        re.IGNORECASE)  # fmt: skip
"""A closing line from a small model that says any of this is noise, not help: it is dropped."""
CLOSING_META = re.compile(r"\b(?:(?:my|this|the) (?:response|reply|answer)|i(?:'| wi)ll add|you(?:'| a)re right)\b"
                          r"|:\s*$", re.IGNORECASE)  # fmt: skip
"""A closing line that talks about the reply itself, or stops at a colon with nothing after it: dropped too."""
CLOSING_WORDS = 20
CLOSING_COURTESY = re.compile(
    r"\b(?:let (?:me|us) know|would you like|anything else|happy to help|glad to help|feel free|hope (?:this|that) "
    r"helps|(?:can|may) i help|help you (?:with|find|choose)|any (?:other |more )?questions|need (?:any )?(?:more|help"
    r"|anything)|just ask|enjoy|happy (?:shopping|hiking|trails|camping|adventures))\b", re.IGNORECASE)  # fmt: skip
"""What a closing line is for: offering more help or wishing well. A small model's line that does neither ("The
Navy One: a classic, iconic...", "You're an AI assistant for text re-writing.") is dropped: no line beats those."""
CLOSING_SELF = re.compile(r"\b(?:ai|assistant|language model|re-?writ\w*|prompt|instructions?)\b", re.IGNORECASE)


def _makes_claims(sentence: str, turn: Turn) -> bool:
    """Whether a sentence talks about products (a number, or a word of a product's name) rather than being courtesy."""
    if re.search(r"\d", sentence):
        return True
    words = set(re.findall(r"[a-z]+", sentence.lower()))
    names = {w for p, _ in turn.products for w in re.findall(r"[a-z]+", f"{p.title} {p.brand}".lower()) if len(w) > 3}
    return bool(words & names)


def closing_messages(question: str, answer: str, store_name: str) -> list[Any]:
    """A tiny prompt (~80 tokens) asking a small model for one friendly closing sentence, no facts."""
    from langchain_core.messages import HumanMessage as Human
    from langchain_core.messages import SystemMessage

    system = (f"You are the friendly shopping assistant of {store_name}. Write ONE short sentence that ends the "
              "reply below, such as offering more help. Do not add any facts, prices or numbers.")  # fmt: skip
    return [SystemMessage(system), Human(f"Shopper: {question}\nReply: {answer[:300]}")]


def _matched(turn: Turn) -> dict[str, dict[str, str]] | None:
    """What each searched product matched of the shopper's constraints (size, colour...), for the listing's words."""
    return {h.product.id: h.matched for h in turn.search.hits} if turn.search else None


class ChatService:
    """Answers shoppers' messages for every store of a deployment.

    Example:
        >>> fake = GenericFakeChatModel(messages=iter([AIMessage("Here you go.")]))  # doctest: +SKIP
        >>> service = ChatService.from_services(services, llm=fake)                  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        stores: Any,
        sessions: Callable[[str], SessionStore],
        catalog: Callable[[str], Any],
        indexes: Any,
        redis: Any,
        keys: Callable[[str], Any],
        settings: dict[str, Any],
        llm: BaseChatModel | None = None,
    ) -> None:
        self.stores, self.sessions, self.catalog = stores, sessions, catalog
        self.indexes, self.redis, self.keys, self.settings = indexes, redis, keys, settings
        self.llm_override = llm
        self.chain = self._build_chain()

    @classmethod
    def from_services(cls, services: Any, llm: BaseChatModel | None = None) -> ChatService:
        return cls(stores=services.stores, sessions=services.sessions, catalog=services.catalog,
                   indexes=services.indexes, redis=services.redis, keys=services.keys,
                   settings=services.settings, llm=llm)  # fmt: skip

    def _build_chain(self) -> Runnable[Turn, tuple[str, Any]]:
        prepare: Runnable[Turn, Turn] = RunnableLambda(STEPS[0])
        for step in STEPS[1:]:
            prepare = prepare | RunnableLambda(step)
        return prepare | RunnableGenerator(self._answer_all)

    def _deps(self, request: ChatRequest) -> ChainDeps:
        store = self.stores.get(request.store_id)
        spec = spec_for_store(store.settings, self.settings)
        if self.llm_override is not None:
            llm, caps = self.llm_override, Capabilities(condense=False, follows_instructions=True)
        else:
            llm, caps = get_llm(spec), capabilities(spec)
        budget = min(int(self.settings["CHAT_PROMPT_TOKENS"]), caps.context_window // 2)
        if not caps.follows_instructions:  # small local models: prompt reading dominates latency
            budget = min(budget, int(self.settings["CHAT_PROMPT_TOKENS_SMALL"]))
        session = self.sessions(store.id).open(request.session_id)
        from storebot.insights.recommend.engine import RecommendationSettings

        return ChainDeps(store, session, self.catalog(store.id), self.indexes, llm, caps, budget, spec,
                         RecommendationSettings.from_settings(self.settings))  # fmt: skip

    def stream(self, request: ChatRequest) -> Iterator[tuple[str, Any]]:
        """The events of one turn: products, sources, token..., suggestions, done."""
        turn = Turn(request, self._deps(request))
        if request.page_context:
            turn.deps.session.update(page_context=request.page_context)
        yield from self.chain.stream(turn)

    def respond(self, request: ChatRequest) -> ChatResponse:
        """The whole answer at once (the stream, consumed)."""
        for event, data in self.stream(request):
            if event == "done":
                return data["response"]  # type: ignore[no-any-return]
        raise RuntimeError("the chat stream ended without a response")

    # -- generation -------------------------------------------------------------------------------------------

    def _answer_all(self, turns: Iterator[Turn]) -> Iterator[tuple[str, Any]]:
        for turn in turns:
            timings: dict[str, float] = {"model_ms": turn.model_ms}
            for event in self._answer(turn, timings):
                if event[0] == "token" and "first_text_ms" not in timings:
                    timings["first_text_ms"] = (time.perf_counter() - turn.started) * 1000  # what the shopper sees
                yield event

    def _answer(self, turn: Turn, timings: dict[str, float]) -> Iterator[tuple[str, Any]]:
        assert turn.intent is not None
        intent, message = turn.intent.intent, turn.request.message
        cards = [card_from_product(p, v) for p, v in turn.products[:CARDS]]
        citations = citations_from(turn.reviews)
        yield "products", {"items": [c.to_dict() for c in cards]}
        policy_ids = [p.id for p in turn.policies]  # the widget's sources list names them by policy title
        yield "sources", {"reviews": [c.to_dict() for c in citations], "policies": policy_ids,
                          "policy_titles": policy_titles(turn.deps.catalog, policy_ids)}  # fmt: skip
        parts: list[str] = []
        action = "template"
        grounded_data = turn.index is not None and (turn.products or turn.policies)
        if note := (search_note(turn.search, message) if intent == "search" else ""):  # typos, things not carried
            parts.append(note)
            yield "token", {"text": note + (" " if grounded_data else "")}
        if turn.summary_answer:  # what reviewers say: the stored review summary answers, citing its reviews
            parts.append(turn.summary_answer)
            yield "token", {"text": turn.summary_answer}
            action = "summary"
        elif turn.ranked_answer:  # "which one is the warmest?": the figures decide, from the records
            parts.append(turn.ranked_answer)
            yield "token", {"text": turn.ranked_answer}
        elif intent in MODEL_INTENTS and grounded_data and not turn.deps.capabilities.follows_instructions:
            # A small model (the bundled 135M one) cannot be trusted to answer: the records answer, shown at once,
            # and the model only adds a closing line, which passes the same sentence gate.
            facts = deterministic_answer(
                intent, message, turn.products, turn.reviews, turn.policies, matched=_matched(turn)
            )
            parts.append(facts)
            yield "token", {"text": facts}
            turn.messages = closing_messages(message, facts, turn.deps.store.name)
            written = len(parts)
            yield from self._generate(turn, parts, timings, max_sentences=1, max_words=CLOSING_WORDS)
            action = "template+model" if len(parts) > written else "template"  # whether the model's line was kept
        elif intent in MODEL_INTENTS and grounded_data:
            action = yield from self._generate(turn, parts, timings)
        text = " ".join(p.strip() for p in parts if p.strip())
        if not text or action in ("cut", "error"):
            # The model wrote nothing usable, or a claim we could not verify: the records answer instead
            # (after whatever verified sentences were already shown).
            facts = deterministic_answer(
                intent, message, turn.products, turn.reviews, turn.policies, matched=_matched(turn)
            )
            yield "token", {"text": (" " if text else "") + facts}
            text = f"{text} {facts}".strip()
            action = "fallback" if action in ("cut", "error", "model") else action
        report = check_answer(text, turn.products, turn.reviews, turn.policies, question=message,
                              store_name=turn.deps.store.name)  # fmt: skip
        response = self._finish(turn, text, cards, citations, report.to_dict() | {"action": action}, timings)
        yield "suggestions", {"items": response.suggestions}
        yield "done", {"response": response}

    def _generate(self, turn: Turn, parts: list[str], timings: dict[str, float], *, max_sentences: int = 0,
                  max_words: int = 0) -> Iterator[tuple[str, Any]]:  # fmt: skip
        """Stream the model's answer, releasing only sentences that pass the grounding check."""
        started = time.perf_counter()
        pending, action, accepted = "", "model", 0

        def vet(sentence: str) -> str | None:
            if OFF_SCRIPT.search(sentence) or (max_words and len(sentence.split()) > max_words):
                return None
            if leak_in(sentence, turn.deps.store.name):  # an injection's loot: prompt, markup, beacons, keys
                return None
            if max_sentences and (
                _makes_claims(sentence, turn)
                or CLOSING_META.search(sentence)
                or CLOSING_SELF.search(sentence)
                or not CLOSING_COURTESY.search(sentence)
            ):
                return None  # a closing line is courtesy only: a small model's claims about products are not trusted
            args = (turn.products, turn.reviews, turn.policies)
            named = {"question": turn.request.message, "store_name": turn.deps.store.name,
                     "context": " ".join(parts)}  # earlier sentences say which product "it" is  # fmt: skip
            report = check_answer(sentence, *args, **named)
            return sentence if report.ok else repair(sentence, report, *args, **named)

        try:
            # The whole turn's model time is bounded by LLM_TIMEOUT, however the backend misbehaves.
            budget = model_timeout(turn.deps.spec) - (time.perf_counter() - turn.started)
            deadline = time.monotonic() + max(budget, 0.5)
            for chunk in stream_within(lambda: turn.deps.llm.stream(turn.messages), deadline):
                if "first_token_ms" not in timings:
                    timings["first_token_ms"] = (time.perf_counter() - turn.started) * 1000
                pending += str(chunk.content)
                *done, pending = SENTENCE_END.split(pending)
                for sentence in done:
                    checked = vet(sentence) if sentence.strip() else ""
                    if checked is None:
                        action = "cut"
                        break
                    if checked != sentence:
                        action = "repaired"
                    if checked.strip():
                        parts.append(checked)
                        accepted += 1
                        yield "token", {"text": (" " if len(parts) > 1 else "") + checked.strip()}
                    if max_sentences and accepted >= max_sentences:
                        action, pending = "done", ""
                        break
                if action in ("cut", "done"):
                    break
            if action == "done":
                action = "model"
            elif action != "cut" and pending.strip():
                checked = vet(pending)
                if checked is None or not checked.strip():
                    action = "cut"
                else:
                    action = "repaired" if checked != pending else action
                    parts.append(checked)
                    yield "token", {"text": (" " if len(parts) > 1 else "") + checked.strip()}
        except Exception as exc:  # the shopper still gets the record-built answer; the log gets why
            log.warning("chat model failed for store %s: %s", turn.deps.store.id, translate_error(exc, turn.deps.spec))
            action = "error"
        timings["llm_ms"] = (time.perf_counter() - started) * 1000 + turn.model_ms
        return action

    # -- after the answer --------------------------------------------------------------------------------------

    def _finish(self, turn: Turn, text: str, cards: list[Any], citations: list[Any], grounding: dict[str, Any],
                timings: dict[str, float]) -> ChatResponse:  # fmt: skip
        assert turn.intent is not None and turn.condensed is not None
        intent, session, request = turn.intent.intent, turn.deps.session, turn.request
        message_id = uuid.uuid4().hex
        # What the answer showed, as ids (cards) and short quotes (sources): the dashboard and a restored widget use it.
        shown = answer_metadata(cards, citations, [p.id for p in turn.policies])
        session.history.add_messages([HumanMessage(request.message),
                                      AIMessage(text, id=message_id, response_metadata=shown)])  # fmt: skip
        new_listing = intent in ("search", "recommendation") or (cards and not turn.resolution.product_ids)
        focus = [FocusItem(p.id, v.id if v else None) for p, v in turn.products[:CARDS]] if new_listing else None
        last = LastQuery(turn.condensed.standalone_query, turn.condensed.filters) if intent == "search" else None
        if intent == "comparison":
            about = [p.id for p, _ in turn.products]
        elif turn.resolution.product_ids:
            about = [pid for pid in turn.resolution.product_ids if pid in turn.known]
        elif intent == "product_question":
            about = [p.id for p, _ in turn.products]
        else:
            about = []
        subject = about if about else ([] if intent in ("search", "recommendation") else None)
        session.update(focus=focus, last_query=last, subject=subject, new_turn=True)
        handoff = intent == "human"
        if handoff:
            record_handoff(self.redis, self.keys(turn.deps.store.id), request.session_id, request.message,
                           "shopper asked for a person")  # fmt: skip
        total = (time.perf_counter() - turn.started) * 1000
        timings |= {"total_ms": total, "overhead_ms": total - timings.get("llm_ms", turn.model_ms)}
        return ChatResponse(
            session_id=request.session_id, text=text, intent=intent, message_id=message_id, cards=cards,
            citations=citations, policy_sources=[p.id for p in turn.policies],
            suggestions=suggestions_for(intent, [p for p, _ in turn.products], query=request.message),
            focus=about, standalone_query=turn.condensed.standalone_query, grounding=grounding,
            handoff=handoff, timings={k: round(v, 2) for k, v in timings.items()},
        )  # fmt: skip

    # -- sessions, feedback, handoffs ---------------------------------------------------------------------------

    def history(self, store_id: str, session_id: str) -> dict[str, Any]:
        """A conversation's messages; answers carry their cards (from the catalog now) and sources."""
        session = self.sessions(store_id).open(session_id)
        messages = restored_messages(session.history.messages, self.catalog(store_id))
        state = session.load()
        return {"session_id": session_id, "messages": messages, "focus": state.focus_ids}

    def forget(self, store_id: str, session_id: str) -> None:
        self.sessions(store_id).open(session_id).clear()

    def feedback(self, store_id: str, session_id: str, rating: Any, comment: str, turn: Any) -> dict[str, Any]:
        ref = turn if turn is not None else -1
        saved = record_feedback(self.redis, self.keys(store_id), session_id, ref, rating, comment)
        return saved.to_dict()

    def handoffs(self, store_id: str, limit: int) -> list[dict[str, Any]]:
        return [h.to_dict() for h in list_handoffs(self.redis, self.keys(store_id), limit=limit)]

    def feedback_list(self, store_id: str, limit: int) -> list[dict[str, Any]]:
        return [f.to_dict() for f in list_feedback(self.redis, self.keys(store_id), limit=limit)]

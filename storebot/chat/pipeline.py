"""The chain's steps before generation, each a small function over one :class:`Turn`.

``load -> resolve -> classify -> condense -> retrieve -> prompt``: the service
composes them with LCEL (``RunnableLambda(load) | RunnableLambda(resolve) | ...``).
They are deterministic and fast; only the optional LLM condense step (for capable
backends) calls a model.

Example:
    >>> turn = prompt(retrieve(condense(classify(resolve(load(Turn(request, deps)))))))  # doctest: +SKIP
    >>> turn.intent.intent, [p.id for p, _ in turn.products]                             # doctest: +SKIP
    ('search', ['1001', '1002', '1013'])
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from storebot.catalog.models import Product, Variant
from storebot.catalog.repository import CatalogRepository
from storebot.chat.condense import Condensed, llm_condense_prompt, parse_llm_condense
from storebot.chat.condense import condense as condense_message
from storebot.chat.deadline import call_within, model_timeout
from storebot.chat.descriptors import FocusItem
from storebot.chat.intent import IntentResult, asks_other_option, classify_intent
from storebot.chat.memory import recent_within_budget
from storebot.chat.mentions import find_mentions
from storebot.chat.prompts import build_messages
from storebot.chat.references import Resolution, resolve_references
from storebot.chat.review_answers import about_reviews
from storebot.chat.session import ChatSession, SessionState
from storebot.chat.superlatives import ABOUT_SHOWN, asked_measure, rank_by_superlative
from storebot.chat.types import ChatRequest
from storebot.chat.winners import page_category, rank_shown, winner_without_a_list
from storebot.llm.base import BackendSpec, Capabilities
from storebot.retrieval.filters import Filters
from storebot.retrieval.index import StoreIndex
from storebot.retrieval.indexer import LiveIndexes
from storebot.retrieval.passages import Passage, search_policies, search_reviews
from storebot.retrieval.search import IndexNotReady, SearchResult, close_matches, search_products
from storebot.stores import Store

CARDS = 4
SUPERLATIVE_POOL = 12  # matches ranked by the figure for "the lightest tent"
_SINGULAR = re.compile(r"\b(?:it|its|it's|this one|that one)\b", re.IGNORECASE)
_PLURAL = re.compile(r"\b(?:they|them|those|these|both|all|each|compare|vs|versus|between)\b", re.IGNORECASE)
PRODUCT_INTENTS = ("search", "recommendation", "product_question", "comparison")


@dataclass
class ChainDeps:
    """What the steps need from the outside world, for one store."""

    store: Store
    session: ChatSession
    catalog: CatalogRepository
    indexes: LiveIndexes
    llm: BaseChatModel
    capabilities: Capabilities
    prompt_budget: int
    spec: BackendSpec | None = None
    recommendations: Any = None  # RecommendationSettings (RECS_*), for the recommendation intent


@dataclass
class Turn:
    """Everything one turn learns on its way through the chain."""

    request: ChatRequest
    deps: ChainDeps
    started: float = field(default_factory=time.perf_counter)
    state: SessionState | None = None
    index: StoreIndex | None = None
    focus: list[FocusItem] = field(default_factory=list)  # the last answer's cards, in order
    history_focus: list[list[FocusItem]] = field(default_factory=list)
    known: dict[str, tuple[Product, Variant | None]] = field(default_factory=dict)
    resolution: Resolution = field(default_factory=Resolution)
    intent: IntentResult | None = None
    condensed: Condensed | None = None
    search: SearchResult | None = None
    products: list[tuple[Product, Variant | None]] = field(default_factory=list)
    reviews: list[Passage] = field(default_factory=list)
    policies: list[Passage] = field(default_factory=list)
    messages: list[BaseMessage] = field(default_factory=list)
    model_ms: float = 0.0  # time spent inside model calls before generation (LLM condense)
    summary_answer: str = ""  # "what do reviewers say?": the answer built from the stored review summary
    ranked_answer: str = ""  # "which one is the warmest?": the products shown, ranked by the deciding figure

    @property
    def vocabulary(self) -> Any:
        return self.index.vocabulary if self.index is not None else None


def _variant(product: Product, variant_id: str | None) -> Variant | None:
    return next((v for v in product.variants if v.id == variant_id), None) if variant_id else None


def load(turn: Turn) -> Turn:
    """Session state, the store's index, and the products in focus (last cards, earlier cards, the page)."""
    deps, request = turn.deps, turn.request
    turn.state = deps.session.load()
    try:
        turn.index = deps.indexes.get(deps.store.id)
    except IndexNotReady:
        turn.index = None
    groups = [turn.state.focus, *turn.state.focus_history]
    page_id = request.page_product_id
    extra = [*turn.state.subject, *([page_id] if page_id else [])]
    wanted = list(dict.fromkeys([i.product_id for g in groups for i in g] + extra))
    products = {p.id: p for p in deps.catalog.get_products(wanted)}

    def items(group: list[Any]) -> list[FocusItem]:
        found = []
        for entry in group:
            product = products.get(entry.product_id)
            if product is not None:
                variant = _variant(product, entry.variant_id)
                turn.known.setdefault(product.id, (product, variant))
                # Every colour and size of the product, not only the card's variant: "the Sage one" may name a
                # colour the card did not happen to show.
                item = FocusItem.from_product(product)
                found.append(replace(item, variant_id=variant.id if variant else None))
        return found

    turn.focus = items(turn.state.focus)
    turn.history_focus = [items(g) for g in turn.state.focus_history]
    for pid in extra:
        if pid in products:
            turn.known.setdefault(pid, (products[pid], None))
    return turn


def resolve(turn: Turn) -> Turn:
    """Turn "it", "the second one", "the blue one" into product ids."""
    turn.resolution = resolve_references(
        turn.request.message, turn.focus, history_focus=turn.history_focus,
        page_product_id=turn.request.page_product_id if turn.request.page_product_id in turn.known else None,
        vocabulary=turn.vocabulary, known=turn.known,
    )  # fmt: skip
    subject = [pid for pid in turn.state.subject if pid in turn.known] if turn.state else []
    ids, message = turn.resolution.product_ids, turn.request.message
    if len(ids) > 1 and _SINGULAR.search(message) and not _PLURAL.search(message):
        # "is it rechargeable?": one product is meant, whatever else the words happen to match.
        ids = subject[:1] if len(subject) == 1 else ids[:1]
        turn.resolution = Resolution(product_ids=ids, kind="pronoun", explicit=True, note="singular reference")
    elif turn.resolution.kind == "pronoun" and subject and (turn.resolution.ambiguous or len(ids) > 1):
        # "it" / "them" with several cards on screen mean what we were just talking about, if anything.
        turn.resolution = Resolution(product_ids=subject, kind="pronoun", explicit=True,
                                     note="the product under discussion")  # fmt: skip
    return turn


def classify(turn: Turn) -> Turn:
    """The intent; a question with no reference of its own is about the product under discussion."""
    assert turn.state is not None
    turn.intent = classify_intent(turn.request.message, has_focus=bool(turn.focus or turn.state.subject),
                                  resolution=turn.resolution, vocabulary=turn.vocabulary)  # fmt: skip
    subject = [pid for pid in turn.state.subject if pid in turn.known]
    if turn.resolution.unknown_name:  # "how heavy is the Ridgeback UL?": a product to look up, not the subject
        subject = []
    if (
        turn.intent.intent == "search"
        and len(subject) == 1
        and asks_other_option(turn.request.message, turn.vocabulary)
    ):
        # "what about large in Juniper?" after "is it available in medium?": the same product, another variant.
        turn.intent = IntentResult("product_question", 0.7, "another size or colour of the product under discussion")
    if turn.intent.intent == "product_question" and not turn.resolution.product_ids and subject:
        turn.resolution = Resolution(product_ids=subject, kind="pronoun", explicit=False,
                                     note="the product under discussion")  # fmt: skip
    return turn


def condense(turn: Turn) -> Turn:
    """A standalone query: rules first; a capable backend rewrites fresh searches with the history."""
    assert turn.intent is not None and turn.state is not None
    items = turn.focus + [i for g in turn.history_focus for i in g]
    items += [
        FocusItem.from_product(p, v) for pid, (p, v) in turn.known.items() if pid not in {i.product_id for i in items}
    ]
    last = turn.state.last_query
    turn.condensed = condense_message(
        turn.request.message, resolution=turn.resolution,
        session_last_query={"search_text": last.query, "filters": last.filters} if last else None,
        focus=items, vocabulary=turn.vocabulary, intent=turn.intent.intent,
    )  # fmt: skip
    history = turn.deps.session.history.recent(6)
    if (turn.deps.capabilities.condense and history and not turn.resolution.product_ids
            and not turn.condensed.refined and turn.intent.intent == "search"):  # fmt: skip
        started = time.perf_counter()
        transcript = "\n".join(f"{m.type}: {m.content}" for m in history)
        prompt = llm_condense_prompt(transcript, turn.request.message)
        try:  # at most half the turn's model time (LLM_TIMEOUT); a failing model leaves the rules' rewrite
            deadline = time.monotonic() + model_timeout(turn.deps.spec) / 2
            reply = call_within(lambda: turn.deps.llm.invoke(prompt), deadline)
            rewritten = parse_llm_condense(str(reply.content))
        except Exception:
            rewritten = ""
        turn.model_ms += (time.perf_counter() - started) * 1000
        if rewritten:
            turn.condensed = Condensed(rewritten, turn.condensed.filters, turn.condensed.refined)
    return turn


def retrieve(turn: Turn) -> Turn:
    """Products, review passages and policy passages, as the intent calls for them."""
    assert turn.intent is not None and turn.condensed is not None
    intent, index = turn.intent.intent, turn.index
    if index is None:
        return turn
    query = turn.condensed.standalone_query or turn.request.message
    resolved = [turn.known[pid] for pid in turn.resolution.product_ids if pid in turn.known]
    if winner_page := winner_without_a_list(turn):  # "which one is the lightest?" on a tent's page: the lightest tents
        intent, query = "search", f"{turn.request.message} {page_category(turn)}"
        turn.intent = IntentResult("search", 0.7, "a superlative with no list shown: among the page's category")
    if intent in ("search", "recommendation") or (intent in ("product_question", "comparison") and not resolved):
        filters = Filters.from_dict(turn.condensed.filters) if turn.condensed.filters else None
        # "the lightest backpacking tent": rank the best dozen matches by the figure, not just the first four.
        deep = (
            intent == "search" and asked_measure(turn.request.message) and not ABOUT_SHOWN.search(turn.request.message)
        )
        deep = deep or winner_page
        turn.search = search_products(turn.deps.indexes, turn.deps.catalog, turn.deps.store.id, query,
                                      limit=SUPERLATIVE_POOL if deep else CARDS, filters=filters)  # fmt: skip
        found = [(hit.product, hit.variant) for hit in turn.search.hits]
        if intent == "search" and found and _QUESTION.match(turn.request.message) and _named(found[0][0], turn):
            # "How warm is the Winterloft pad?": a question about a product it names, not a new search.
            turn.intent = IntentResult("product_question", 0.6, "asks about a product it names")
            intent = "product_question"
        want = 2 if intent == "comparison" else 1
        if intent == "search":  # nothing the store sells matched a word ("kayaks"): no cards, search_notes says so
            hits = [] if turn.search.nothing_matched else close_matches(turn.search)
            found = [(hit.product, hit.variant) for hit in hits]
            if _small_talk(turn.search):  # "lol", "cheers, that helped": no word names a product
                turn.intent, intent, found = IntentResult("greeting", 0.5, "no word names a product"), "greeting", []
        if intent == "product_question":
            found = _page_product_first(found, turn)
        turn.products = found if intent in ("search", "recommendation") else found[:want]
        if deep and not turn.search.parsed.sort and (ranked := rank_by_superlative(turn.request.message, found)):
            best = ranked.products[:CARDS]
            turn.products, turn.ranked_answer = best, rank_by_superlative(turn.request.message, best).text  # type: ignore[union-attr]
        elif deep:
            turn.products = found[:CARDS]
    elif intent in ("product_question", "comparison"):
        turn.products = resolved
    if intent == "comparison" and (len(turn.products) < 2 or not resolved):
        turn.products = _compared(turn, resolved, fallback=turn.products)
    if rank_shown(turn, intent):  # "which one is the warmest?", "the brightest one?": a winner among the cards
        intent = turn.intent.intent  # type: ignore[union-attr]
    if intent in ("recommendation", "product_question", "search"):  # "what goes with these?": the recommender
        from storebot.chat.recommendations import apply_recommendations

        intent = apply_recommendations(turn).intent.intent
    # Reviews only where they answer: comparisons, "goes with", and questions about what reviewers say (a price,
    # weight or colour answer carries no review citations).
    asks_reviews = intent in ("comparison", "recommendation") or (
        intent == "product_question" and about_reviews(turn.request.message)
    )
    if asks_reviews and turn.products:
        ids = [p.id for p, _ in turn.products]
        turn.reviews = search_reviews(index, turn.request.message, product_ids=ids, k=4)
    if intent == "product_question" and len(turn.products) == 1:  # "what do reviewers say about it?"
        from storebot.chat.review_answers import apply_review_summary

        apply_review_summary(turn)
    if intent == "policy":
        turn.policies = search_policies(index, turn.request.message, k=3)
    return turn


def _small_talk(search: SearchResult) -> bool:
    """A search with words, none of which could name a product, and no filter or order: small talk."""
    parsed = search.parsed
    return bool(parsed.search_text.strip()) and not search.content_words and not search.filters and not parsed.sort


_CUE = re.compile(r"^\s*(?:please\s+)?(?:compare|what(?:'s| is) the difference between|difference between|"
                  r"which (?:is|one is|would be) \w+(?: for \w+)?)[\s,:]*", re.IGNORECASE)  # fmt: skip
_SIDES = re.compile(r"\s*(?:\bvs\.?|\bversus\b|\bor\b|\bwith\b|\bcompared (?:to|with)\b|\band\b|[,:?])\s*",
                    re.IGNORECASE)  # fmt: skip


_QUESTION_SIDE = re.compile(r"^\s*(?:which|what|how|who|is|are|and)\b", re.IGNORECASE)


def _compared(turn: Turn, resolved: list[tuple[Product, Variant | None]], *,
              fallback: list[tuple[Product, Variant | None]]) -> list[tuple[Product, Variant | None]]:  # fmt: skip
    """Products named on each side of "A vs B" / "A or B", in the order the shopper named them."""
    sides = [side for side in _SIDES.split(_CUE.sub("", turn.request.message)) if re.search(r"[a-z]{3}", side, re.I)
             and not _QUESTION_SIDE.match(side)]  # fmt: skip
    if len(sides) < 2:
        return fallback
    chosen = list(resolved)
    for side in sides[:3]:
        if any(_names(product, variant, side) for product, variant in chosen):
            continue
        hits = search_products(turn.deps.indexes, turn.deps.catalog, turn.deps.store.id, side, limit=1).hits
        if hits and all(hits[0].product.id != p.id for p, _ in chosen):
            chosen.append((hits[0].product, hits[0].variant))
    if len(chosen) < 2:
        return fallback
    order = {id(pair): _first_mention(*pair, turn.request.message) for pair in chosen}
    return sorted(chosen, key=lambda pair: order[id(pair)])


_QUESTION = re.compile(r"^\s*(?:how|is|are|does|do|what|which|can|will|would|has|have)\b.*\?\s*$",
                       re.IGNORECASE | re.DOTALL)  # fmt: skip


_STOCK_QUESTION = re.compile(r"^\s*(?:do|does) (?:you|your store|the store) (?:have|sell|carry|stock)\b|"
                             r"^\s*(?:have|got) you\b|^\s*is there\b|^\s*are there\b", re.IGNORECASE)  # fmt: skip


def _page_product_first(
    found: list[tuple[Product, Variant | None]], turn: Turn
) -> list[tuple[Product, Variant | None]]:
    """The shopper's page product first when the name fits it as well as the top result ("the Ridge Shell Jacket"
    names the men's and the women's; asked on the men's page, it means the men's)."""
    page, ids = turn.request.page_product_id, [p.id for p, _ in found]
    if not page or page not in ids or ids[0] == page:
        return found
    products = [p for p, _ in found]
    named = {pid for m in find_mentions(turn.request.message, products) if m.kind == "name" for pid in m.ids}
    if not {ids[0], page} <= named:
        return found
    at = ids.index(page)
    return [found[at], *found[:at], *found[at + 1 :]]


def _named(product: Product, turn: Turn) -> bool:
    """Whether the message names ``product`` by a distinctive word of its title (not its brand or a category)."""
    if _STOCK_QUESTION.match(turn.request.message):
        return False
    segments = list(product.category) + list(getattr(turn.vocabulary, "categories", []) or [])
    generic = {w.lower() for part in segments for w in re.findall(r"[A-Za-z]+", part)}
    generic |= {w.lower() for w in re.findall(r"[A-Za-z]+", product.brand)}
    distinctive = {w for w in re.findall(r"[a-z0-9]+", product.title.lower()) if len(w) > 3 and w not in generic
                   and w.rstrip("s") not in generic and w + "s" not in generic}  # fmt: skip
    return bool(distinctive & set(re.findall(r"[a-z0-9]+", turn.request.message.lower())))


def _naming_words(product: Product, variant: Variant | None) -> list[str]:
    """Words a shopper may use to name this product: its title's, and its variant's colour or size."""
    text = " ".join([product.title, *(variant.options.values() if variant else [])]).lower()
    return [w for w in re.findall(r"[a-z0-9]+", text) if len(w) > 3]


def _names(product: Product, variant: Variant | None, text: str) -> bool:
    return bool(set(_naming_words(product, variant)) & set(re.findall(r"[a-z0-9]+", text.lower())))


def _first_mention(product: Product, variant: Variant | None, message: str) -> int:
    lowered = message.lower()
    spots = [lowered.find(w) for w in _naming_words(product, variant)]
    found = [s for s in spots if s >= 0]
    return min(found) if found else len(message)


def prompt(turn: Turn) -> Turn:
    """The model's messages: the history that fits, then delimited DATA and the question."""
    assert turn.intent is not None
    budget = turn.deps.prompt_budget
    history = recent_within_budget(turn.deps.session.history.messages, budget // 4)
    turn.messages = build_messages(
        intent=turn.intent.intent, question=turn.request.message, products=turn.products, reviews=turn.reviews,
        policies=turn.policies, history=history, budget_tokens=budget, store_name=turn.deps.store.name,
    )  # fmt: skip
    return turn


STEPS: tuple[Callable[[Turn], Turn], ...] = (load, resolve, classify, condense, retrieve, prompt)

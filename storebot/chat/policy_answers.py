"""Policy answers: the sentences of the store's policies that decide the shopper's question, quoted whole.

The retrieved policy passages are read as the shopper would read them: a policy's paragraphs, and FAQ
entries whose question heading ("Do you price match?") says what the sentences under it answer. A heading
steers the choice but is never quoted as an answer. The sentence that decides the question leads: the rule
a general question asks about ("what's your return policy?" -> the 30-day rule), the sentence that settles a
yes/no question ("do you ship to the UK?" -> "We do not currently ship to other countries."), and a plain
"No." when the shopper's own words break a rule ("boots I wore" vs "items must be unworn"). Sentences are
never cut before their point: a long list sentence keeps its lead-in and the items asked about.

Example:
    >>> from storebot.retrieval.passages import Passage
    >>> faq = Passage("faq#0", "FAQ: Do you price match? Yes. We match authorised US retailers.", 0.8)
    >>> policy_answer("do you price match?", [faq])
    'Yes. We match authorised US retailers.'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storebot.chat.answers import NO_POLICY
from storebot.chat.claims import sentence_spans
from storebot.retrieval.passages import concept_weights, policy_concepts, policy_words

MAX_SENTENCES = 3
LENGTH_PENALTY = 0.01
LONG_SENTENCE_WORDS = 40  # longer list sentences keep only their lead-in and the items asked about
NO_CODES = "We don't have discount codes to give out in chat."
SALE_POINTER = 'Ask me "what\'s on sale?" to see the current sale prices.'

_GENERAL = policy_words("policy policies rule rules info information detail details work works explain")
_CODES = re.compile(r"\b(?:discount|promo(?:tional)?|coupon|voucher|offer)\s+codes?\b|\bcoupons?\b|\bvouchers?\b|"
                    r"\bpromo codes?\b", re.IGNORECASE)  # fmt: skip
_CODE_WORDS = re.compile(r"\b(?:codes?|coupons?|vouchers?|promo\w*)\b", re.IGNORECASE)
_OVERVIEW = re.compile(r"\bhow (?:do|does) .{1,60}\bwork\b|\btell me about\b|\bexplain\b|"
                       r"\bwhat(?:'s| is| are) (?:your|the) .{1,40}\bpolic(?:y|ies)\b", re.IGNORECASE)  # fmt: skip
_AMOUNT = re.compile(r"[$€£]\s?\d[\d,.]*|\b\d+(?:[.,]\d+)?\s?%")
_YES_NO = re.compile(r"^\s*(?:yes|no)\b[.!,]?\s*$", re.IGNORECASE)
# "can I return boots I wore?" against "Items must be unworn": the shopper's condition breaks the rule.
_CONDITION = {"wore": "worn", "worn": "worn", "wear": "worn", "wearing": "worn", "used": "used", "washed": "washed",
              "opened": "opened", "assembled": "assembled"}  # fmt: skip
_ASKS_PERMISSION = re.compile(r"\b(?:can|could|may) (?:i|we)\b|\b(?:will you let|do you (?:accept|take))\b|"
                              r"\bis it (?:ok|okay|possible)\b|\b(?:still )?(?:returnable|eligible)\b",
                              re.IGNORECASE)  # fmt: skip
_NEGATED = re.compile(r"\b(?:not|never|haven't|hasn't|didn't|without|un\w+)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


@dataclass
class _Sentence:
    text: str
    policy: str  # the policy's title ("Returns & Exchanges"); "" for FAQ entries, whose title says nothing
    heading: str  # the FAQ question the sentence answers, if any
    first: bool  # the first sentence under its heading or paragraph
    order: int
    topic: str  # the passage's id, or the FAQ entry's heading
    rank: int  # the passage's place among the retrieved ones (the closest first)
    paragraph: int
    policy_id: str


def policy_answer(question: str, passages: Sequence[Any]) -> str:
    """The policy sentences that answer ``question``, the deciding one first (see the module docstring)."""
    if not passages:
        return NO_POLICY
    sentences = _read(passages)
    if not sentences:
        return NO_POLICY
    asked = _Question.read(question, sentences)
    if _CODES.search(question) and not any(_CODE_WORDS.search(s.heading) for s in sentences):
        return _codes_answer(sentences)
    general = _general_topic(asked.concepts, sentences)
    if general is not None:
        return _render([s for s in sentences if s.policy == general][:2], verdict="")
    scored = [(asked.score(s), s) for s in sentences]
    verdict, decider = _broken_rule(question, sentences)
    ranked = sorted(scored, key=lambda t: (-round(t[0], 1), t[1].rank, t[1].order))  # near ties: retrieval order
    top = ranked[0][0]
    if top <= 0 and decider is None:
        return _render(sentences[:2], verdict="")
    lead = decider or ranked[0][1]
    # More of the same rule: the same passage or FAQ entry; the same policy after a "No.", or for a part of the
    # question the lead leaves open ("how do returns and refunds work?").
    rest = [
        s
        for score, s in ranked
        if s is not lead
        and score > 0
        and score >= top / 2
        and (s.topic == lead.topic or s.policy_id == lead.policy_id and (verdict or asked.adds(s, lead)))
    ]
    if asked.heading_coverage(lead) >= 0.5:  # the FAQ entry asks the shopper's question: its answer is whole
        rest = [s for s in sentences if s.topic == lead.topic and s is not lead] + rest
    # A rule often takes two sentences: "Free on every order of $75 or more." "Orders under $75 ship for $6.95."
    amounts = set(_AMOUNT.findall(lead.text))
    neighbours = [s for s in sentences if abs(s.order - lead.order) == 1 and s.paragraph == lead.paragraph
                  and (asked.score(s) >= 0.45 * top or amounts & set(_AMOUNT.findall(s.text)))]  # fmt: skip
    if _OVERVIEW.search(question) and not lead.heading:  # "how do returns and refunds work?": the policy's opening
        rest = [*(s for s in sentences if s.policy_id == lead.policy_id)][:1] + rest
    rest = list({s.order: s for s in [*neighbours, *rest] if s is not lead}.values())[: MAX_SENTENCES - 1]
    chosen = [lead, *sorted(rest, key=lambda s: s.order)]
    return _render(chosen, verdict=verdict, concepts=asked.concepts)


@dataclass
class _Question:
    """What the shopper asks: concepts (alternative words), those of the question proper, and their weights."""

    concepts: list[frozenset[str]]
    main: set[frozenset[str]]  # "If I buy boots, is shipping free?": "shipping" and "free" are the question
    weights: dict[frozenset[str], float]

    @classmethod
    def read(cls, question: str, sentences: list[_Sentence]) -> _Question:
        context = " ".join(s.text for s in sentences)
        concepts = policy_concepts(question, context)
        proper = policy_concepts(_question_proper(question), context)
        main = {c for c in concepts if any(c & p for p in proper)} or set(concepts)
        return cls(concepts, main, concept_weights(concepts, [policy_words(s.text) for s in sentences]))

    def matched(self, text: str) -> float:
        """How much of the question ``text`` answers: each concept of the question proper counts up to 1, the
        rarest most (others 1/4), plus the share of the weighted concepts as a tie-break."""
        bag = policy_words(text)
        hits = [c for c in self.weights if c & bag]
        rarest = max((w for c, w in self.weights.items() if c in self.main), default=1.0)
        count = sum(0.5 + 0.5 * min(1.0, self.weights[c] / rarest) if c in self.main else 0.25 for c in hits)
        return count + sum(self.weights[c] for c in hits) / (sum(self.weights.values()) or 1.0)

    def adds(self, sentence: _Sentence, lead: _Sentence) -> bool:
        """Whether ``sentence`` answers a part of the question proper that ``lead`` does not."""
        have, other = policy_words(lead.text), policy_words(sentence.text)
        return any(c & other and not c & have for c in self.main)

    def heading_coverage(self, sentence: _Sentence) -> float:
        """How much of the question the sentence's FAQ heading asks (0 to 1)."""
        if not sentence.heading or not self.weights:
            return 0.0
        bag = policy_words(sentence.heading)
        return sum(w for c, w in self.weights.items() if c & bag) / sum(self.weights.values())

    def score(self, sentence: _Sentence) -> float:
        # Long sentences match more words by chance: "Standard orders arrive in 3 to 5 business days" beats the
        # Alaska sentence that also says "standard" and "delivery usually takes".
        own = self.matched(sentence.text) / (1 + LENGTH_PENALTY * len(sentence.text.split()))
        covered = self.heading_coverage(sentence)
        if covered < 0.5:
            return own
        # A heading that asks the shopper's question says its entry answers it, its first sentence most directly.
        return own + covered * len(self.main) * (0.75 if sentence.first else 0.5)


def _question_proper(question: str) -> str:
    """The question itself: its last sentence with a "?", without a leading "if ..." clause."""
    asked = [question[s:e] for s, e in sentence_spans(question) if "?" in question[s:e]]
    proper = asked[-1] if asked else question
    return re.sub(r"^\s*(?:if|when|since|because)\b[^,?]*,\s*", "", proper, flags=re.IGNORECASE)


def _read(passages: Sequence[Any]) -> list[_Sentence]:
    """Every sentence of the passages, in the policies' own order; FAQ headings become labels, not sentences."""
    unique = {p.id: p for p in passages}
    rank = {pid: i for i, pid in enumerate(unique)}
    ordered = sorted(unique.values(), key=_document_order)
    found: list[_Sentence] = []
    seen: set[str] = set()
    paragraphs_seen = 0
    for passage in ordered:
        title, body = _split_title(passage.text)
        paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
        faq = sum(_heading_of(p) != "" for p in paragraphs) * 2 > len(paragraphs)
        for paragraph in paragraphs:
            parts = [paragraph[s:e].strip() for s, e in sentence_spans(paragraph)]
            heading = parts.pop(0) if parts and _heading_of(paragraph) else ""
            # "Yes." alone says nothing: it leads the sentence after it; "to P.O. boxes" goes on after "P.O.".
            merged: list[str] = []
            for part in parts:
                if merged and (_YES_NO.match(merged[-1]) or part[:1].islower()):
                    merged[-1] = f"{merged[-1]} {part}"
                else:
                    merged.append(part)
            for i, text in enumerate(merged):
                if text in seen:
                    continue
                seen.add(text)
                topic = heading if faq else str(passage.id)
                found.append(
                    _Sentence(
                        text,
                        "" if faq else title,
                        heading,
                        i == 0,
                        len(found),
                        topic,
                        rank[passage.id],
                        paragraphs_seen,
                        str(passage.id).partition("#")[0],
                    )
                )
            paragraphs_seen += 1
    return found


def _document_order(passage: Any) -> tuple[str, int]:
    pid, _, index = str(passage.id).partition("#")
    return pid, int(index) if index.isdigit() else 0


def _split_title(text: str) -> tuple[str, str]:
    head, found, rest = text.partition(": ")
    if found and len(head.split()) <= 6 and "?" not in head and "\n" not in head:
        return head, rest
    return "", text


def _heading_of(paragraph: str) -> str:
    spans = sentence_spans(paragraph)
    if len(spans) < 2:
        return ""
    first = paragraph[spans[0][0] : spans[0][1]].strip()
    return first if first.endswith("?") and len(first.split()) <= 15 else ""


def _general_topic(concepts: list[frozenset[str]], sentences: list[_Sentence]) -> str | None:
    """The policy a general question names ("what's your return policy?" -> "Returns & Exchanges"), if any."""
    topic = [c for c in concepts if not c & _GENERAL]
    if not topic:
        return None
    for title in dict.fromkeys(s.policy for s in sentences if s.policy):
        words = policy_words(title)
        if all(c & words for c in topic):
            return title
    return None


def _broken_rule(question: str, sentences: list[_Sentence]) -> tuple[str, _Sentence | None]:
    """("No.", the rule) when the shopper's own condition breaks a rule: "can I return boots I wore?"."""
    if not _ASKS_PERMISSION.search(question):
        return "", None
    for match in re.finditer(r"[a-z]+", question.lower()):
        state = _CONDITION.get(match.group(0))
        if state is None or _NEGATED.search(question.lower()[: match.start()]):
            continue
        rule = re.compile(rf"\b(?:must|should|only)\b.*\bun{state}\b|\bun{state}\b.*\bonly\b", re.IGNORECASE)
        decider = next((s for s in sentences if rule.search(s.text)), None)
        if decider is not None:
            return "No.", decider
    return "", None


def _codes_answer(sentences: list[_Sentence]) -> str:
    """No codes in chat; what the policies say about codes, in context; where the deals are."""
    parts = [NO_CODES]
    said = next((s for s in sentences if _CODE_WORDS.search(s.text)), None)
    if said is not None:
        where = f'under "{said.heading}"' if said.heading else f"in our {said.policy} policy" if said.policy else ""
        parts.append(f'Our policies mention codes {where}: "{said.text}"'.replace("  ", " "))
    parts.append(SALE_POINTER)
    return " ".join(parts)


def _render(chosen: list[_Sentence], *, verdict: str, concepts: list[frozenset[str]] | None = None) -> str:
    texts = [_focus(s.text, concepts or []) for s in chosen]
    if verdict:
        return " ".join([verdict, *texts])
    title = chosen[0].policy if chosen else ""
    return (f"{title}: " if title else "") + " ".join(texts)


def _focus(sentence: str, concepts: list[frozenset[str]]) -> str:
    """A long list sentence keeps its lead-in and the items asked about; any other sentence stays whole."""
    if len(sentence.split()) <= LONG_SENTENCE_WORDS or ";" not in sentence:
        return sentence
    lead, colon, listed = sentence.partition(": ")
    if not colon:
        lead, listed = "", sentence
    items = [i.strip().rstrip(".") for i in listed.split(";")]
    wanted = [i for i in items if any(c & policy_words(i) for c in concepts)]
    if not wanted or len(wanted) == len(items):
        return sentence
    return (f"{lead}: " if lead else "") + "; ".join(wanted) + "."

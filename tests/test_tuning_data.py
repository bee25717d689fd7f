"""Fine-tuning data: the PII scrubber, parsing and validation, the split, and the example queue over the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from langchain_core.messages import AIMessage, HumanMessage

from storebot.chat.events import record_feedback
from storebot.chat.memory import RedisChatMessageHistory
from storebot.cli import cli
from storebot.services import Services
from storebot.tuning.dataset import DatasetError, build_dataset, example_tokens, parse_jsonl
from storebot.tuning.scrub import luhn_ok, scrub_pii, scrub_text, strip_prices


def pair(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


# -- the scrubber --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to jo.smith+shop@mail.example.co.uk please", "Write to [email] please"),
        ("Call (415) 555-0134 or 415.555.0199", "Call [phone] or [phone]"),
        ("My UK number is +44 20 7946 0958.", "My UK number is [phone]."),
        ("Ship to 42 Elm Street, Apt 3 by Friday", "Ship to [address] by Friday"),
        ("It went to 1600 Pennsylvania Ave.", "It went to [address]"),
        ("Card 4111 1111 1111 1111 was declined", "Card [card] was declined"),
        ("Card 4111-1111-1111-1111", "Card [card]"),
    ],
)
def test_the_scrubber_replaces_pii(text: str, expected: str) -> None:
    assert scrub_pii(text) == expected


def test_card_like_numbers_must_pass_luhn_and_specs_survive() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert scrub_pii("Order 4111 1111 1111 1112 shipped") == "Order 4111 1111 1111 1112 shipped"
    kept = "Rated 20,000 mm; the tent weighs 1.8 kg and sleeps 2. Size 10 fits."
    assert scrub_text(kept) == kept


def test_prices_are_stripped_because_they_go_stale() -> None:
    assert strip_prices("Now $139.00, was $ 159, or 20 USD") == "Now [price], was [price], or [price]"
    assert scrub_text("It costs €45.50.", prices=False) == "It costs €45.50."


# -- parsing and validation -------------------------------------------------------------------------------------


def test_malformed_lines_are_reported_by_line_and_reason_and_good_lines_kept() -> None:
    lines = [
        json.dumps({"question": "Do you have tents?", "answer": "We do! Want the light ones?"}),
        "{not json",
        json.dumps({"messages": [{"role": "robot", "content": "hi"}, {"role": "assistant", "content": "x"}]}),
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  "}]}),
        json.dumps({"messages": [{"role": "user", "content": "hi"}]}),
        "",
        json.dumps({"question": "Long?", "answer": "word " * 3000}),
        json.dumps({"prompt": "Mail me at a@b.example", "completion": "Sure, it's $20. Anything else?"}),
    ]
    parsed = parse_jsonl("\n".join(lines), limit=1000)
    errors = {e.line: e.reason for e in parsed.errors}
    assert parsed.lines == [1, 8]
    assert errors[2].startswith("not valid JSON")
    assert "role 'robot'" in errors[3]
    assert errors[4] == "message 2 (assistant) is empty"
    assert errors[5] == "the last message must be the assistant's answer"
    assert "over the target model's limit of 1000" in errors[7]
    assert set(errors) == {2, 3, 4, 5, 7}
    assert parsed.examples[1] == pair("Mail me at [email]", "Sure, it's [price]. Anything else?")


def test_a_bad_example_fails_the_whole_build_naming_it() -> None:
    good = pair("Tents?", "Yes! Want the light ones?")
    with pytest.raises(DatasetError) as caught:
        build_dataset([("ex-1", good), ("ex-2", [{"role": "user", "content": "Hi"}, {"role": "tool", "content": "x"}])])
    assert "example ex-2" in caught.value.message and "role 'tool'" in caught.value.message
    assert caught.value.details == [{"example": "ex-2", "reason": caught.value.details[0]["reason"]}]
    assert caught.value.to_dict()["error"]["fix"]


def test_the_split_is_deterministic_deduplicated_and_costed() -> None:
    examples = [(str(i), pair(f"Question number {i}?", f"Answer {i}. Anything else?")) for i in range(60)]
    first = build_dataset(
        examples + [("dup", pair("Question  number 3?", "answer 3. anything else?"))], price_per_mtok=3.0
    )
    second = build_dataset(list(reversed(examples)), price_per_mtok=3.0)
    assert first.duplicates == 1
    assert (first.train, first.validation, first.test) == (second.train, second.validation, second.test)
    assert first.data_hash == second.data_hash
    assert len(first.train) + len(first.validation) + len(first.test) == 60
    assert first.validation and first.test and len(first.train) > 40
    summary = first.summary()
    assert summary["tokens"]["train"] == sum(example_tokens(m) for m in first.train)
    assert summary["cost_estimate"]["usd_per_epoch"] == round(summary["tokens"]["train"] * 3.0 / 1e6, 4)
    line = json.loads(first.jsonl("train").splitlines()[0])
    assert set(line) == {"messages"} and line["messages"][-1]["role"] == "assistant"
    adding = build_dataset(examples + [("new", pair("Another one?", "Sure. More?"))])
    moved = [m for m in first.test if m not in adding.test]
    assert not moved  # growing the data never moves an example between splits


def test_a_tiny_set_still_gets_validation_and_test_examples() -> None:
    small = build_dataset([(str(i), pair(f"Q{i}?", f"A{i}. More?")) for i in range(4)])
    assert len(small.validation) == 1 and len(small.test) == 1 and len(small.train) == 2


# -- the example queue over the API ------------------------------------------------------------------------------


def test_thumbs_up_answers_join_the_queue_scrubbed_and_can_be_approved_rejected_or_edited(
    client: FlaskClient, services: Services, store: tuple[str, str], auth: dict[str, str]
) -> None:
    keys = services.keys(store[0])
    for n, rating in enumerate(["up", "down", "up"]):
        session = f"session-{n:04d}"
        history = RedisChatMessageHistory(services.redis, keys, session)
        history.add_messages(
            [
                HumanMessage(f"Do you ship to 12 Oak Street? Mail me at me{n}@x.example"),
                AIMessage(f"Yes, shipping is $6.95 there ({n}). Anything else?", id=f"m{n}"),
            ]
        )
        record_feedback(services.redis, keys, session, f"m{n}", rating)
    listed = client.get("/api/v1/tuning/examples?status=pending&limit=1", headers=auth).get_json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    more = client.get(f"/api/v1/tuning/examples?limit=1&cursor={listed['next_cursor']}", headers=auth).get_json()
    assert more["next_cursor"] is None
    items = listed["items"] + more["items"]
    assert {i["session_id"] for i in items} == {"session-0000", "session-0002"}
    first = items[0]
    assert first["source"] == "feedback" and first["status"] == "pending"
    assert first["messages"][0] == {"role": "user", "content": "Do you ship to [address]? Mail me at [email]"}
    assert "[price]" in first["messages"][1]["content"] and "$" not in first["messages"][1]["content"]
    again = client.get("/api/v1/tuning/examples", headers=auth).get_json()
    assert len(again["items"]) == 2  # feedback is queued once

    approved = client.post(f"/api/v1/tuning/examples/{items[0]['id']}/approve", headers=auth).get_json()
    rejected = client.post(f"/api/v1/tuning/examples/{items[1]['id']}/reject", headers=auth).get_json()
    assert (approved["status"], rejected["status"]) == ("approved", "rejected")
    edited = client.put(
        f"/api/v1/tuning/examples/{items[1]['id']}",
        headers=auth,
        json={"answer": "We do ship there! Shall I check delivery times?"},
    ).get_json()
    assert edited["source"] == "edited" and edited["status"] == "approved"
    assert edited["messages"][-1]["content"] == "We do ship there! Shall I check delivery times?"
    approved_list = client.get("/api/v1/tuning/examples?status=approved", headers=auth).get_json()["items"]
    assert {i["id"] for i in approved_list} == {items[0]["id"], items[1]["id"]}
    missing = client.post("/api/v1/tuning/examples/nope/approve", headers=auth)
    assert missing.status_code == 404 and missing.get_json()["error"]["fix"]
    bad = client.get("/api/v1/tuning/examples?status=maybe", headers=auth)
    assert bad.status_code == 400


def test_style_upload_keeps_good_lines_reports_bad_ones_and_the_dataset_summarises(
    client: FlaskClient, store: tuple[str, str], auth: dict[str, str]
) -> None:
    body = "\n".join(
        [
            json.dumps({"question": "Tents?", "answer": "Yes! Want the light ones?"}),
            json.dumps({"question": "Boots?"}),
            json.dumps({"question": "Socks?", "answer": "We love merino. Want a cushioned pair?"}),
            json.dumps({"question": "Tents?", "answer": "Yes! Want the light ones?"}),
        ]
    )
    response = client.post("/api/v1/tuning/examples", headers=auth, data=body)
    assert response.status_code == 201
    result = response.get_json()
    assert result["added"] == 2 and result["duplicates"] == 1
    assert result["errors"] == [{"line": 2, "reason": 'expected "messages", or "question" and "answer"'}]
    dataset = client.get("/api/v1/tuning/dataset", headers=auth).get_json()
    assert dataset["approved"] == 2 and sum(dataset["splits"].values()) == 2
    assert dataset["tokens"]["train"] + dataset["tokens"]["validation"] + dataset["tokens"]["test"] > 20
    assert dataset["cost_estimate"]["usd_per_epoch"] >= 0 and "estimate" in dataset["cost_estimate"]["note"]
    assert client.get("/api/v1/tuning/dataset").status_code == 401


def test_the_cli_imports_lists_approves_and_summarises(
    runner: CliRunner, store: tuple[str, str], tmp_path: Path
) -> None:
    style = tmp_path / "style.jsonl"
    style.write_text(
        json.dumps({"question": "Tents?", "answer": "Yes! Want the light ones?"})
        + "\n{oops\n"
        + json.dumps({"question": "Boots?", "answer": "We do. Shall I check your size?"})
        + "\n"
    )
    imported = runner.invoke(cli, ["tune", "import", str(style), "--store", store[0]])
    assert imported.exit_code == 0 and "Imported 2 example(s)" in imported.output
    assert "line 2: not valid JSON" in imported.output
    listed = runner.invoke(cli, ["tune", "examples", "--store", store[0], "--status", "approved"])
    assert "Q: Tents?" in listed.output and "0 pending, 2 approved, 0 rejected." in listed.output
    example_id = listed.output.split()[0]
    assert runner.invoke(cli, ["tune", "reject", example_id, "--store", store[0]]).exit_code == 0
    summary = json.loads(runner.invoke(cli, ["tune", "dataset", "--store", store[0]]).output)
    assert summary["examples"] == 1 and summary["tokens"]["train"] + summary["tokens"]["test"] > 0
    assert "Teach the assistant your store's voice" in runner.invoke(cli, ["tune", "--help"]).output
    missing = runner.invoke(cli, ["tune", "approve", "nope", "--store", store[0]])
    assert missing.exit_code == 1 and "No training example 'nope'" in missing.output

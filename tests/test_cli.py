"""The command line, run in-process against the test Redis."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from storebot.cli import cli
from tests.conftest import FIXTURES


def create_store(runner: CliRunner) -> str:
    result = runner.invoke(cli, ["store", "create", "Trail Shop", "--origin", "https://trail.example"])
    assert result.exit_code == 0, result.output
    assert "Save the secret key now" in result.output
    return next(line.split()[-1] for line in result.output.splitlines() if "secret key (merchant API)" in line)


def test_store_create_list_and_sync_the_demo_catalog(runner: CliRunner) -> None:
    secret = create_store(runner)
    assert secret.startswith("sk_")
    synced = runner.invoke(cli, ["sync", str(FIXTURES / "products.json"), "--store", "trail-shop"])
    assert synced.exit_code == 0, synced.output
    assert "Synced:" in synced.output and "0 failed" in synced.output
    again = runner.invoke(cli, ["sync", str(FIXTURES / "products.json"), "--store", "trail-shop", "--quiet"])
    assert "0 added, 0 updated" in again.output
    listed = runner.invoke(cli, ["store", "list"])
    assert "trail-shop" in listed.output and "products" in listed.output
    jobs = runner.invoke(cli, ["jobs", "--store", "trail-shop"])
    assert jobs.output.count("succeeded") == 2


def test_sync_reports_row_errors_and_mapping(runner: CliRunner, tmp_path: Path) -> None:
    create_store(runner)
    feed = tmp_path / "export.csv"
    feed.write_text("SKU,Name,Cost\nA1,Tent,199\nA2,Stove,oops\n")
    result = runner.invoke(
        cli,
        ["sync", str(feed), "--store", "trail-shop", "--map", "id=SKU", "--map", "title=Name", "--map", "price=Cost"],
    )
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output and "1 failed" in result.output
    assert "line 3, field price" in result.output


def test_errors_are_one_line_with_a_fix_not_a_traceback(runner: CliRunner, tmp_path: Path) -> None:
    feed = tmp_path / "p.jsonl"
    feed.write_text(json.dumps({"id": "1", "title": "x", "price": "1"}) + "\n")
    result = runner.invoke(cli, ["sync", str(feed), "--store", "missing"])
    assert result.exit_code == 1
    assert "Error: No store 'missing'" in result.output and "storebot store list" in result.output
    assert "Traceback" not in result.output


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"])
    for command in ("demo", "serve", "worker", "beat", "store", "sync", "delete", "jobs", "settings"):
        assert command in result.output


def test_store_config_sets_the_chat_backend(runner: CliRunner) -> None:
    create_store(runner)
    result = runner.invoke(cli, ["store", "config", "trail-shop", "llm_backend=openai", "llm_api_key=sk-test"])
    assert result.exit_code == 0, result.output
    assert "llm_backend = openai" in result.output and "sk-test" not in result.output
    cleared = runner.invoke(cli, ["store", "config", "trail-shop", "llm_backend="])
    assert "llm_backend = (default)" in cleared.output
    bad = runner.invoke(cli, ["store", "config", "trail-shop", "colour=blue"])
    assert bad.exit_code == 1 and "Keys: llm_backend" in bad.output

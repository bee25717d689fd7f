"""`storebot store reencrypt-secrets`: after STOREBOT_SECRETS_KEY goes from A to "B,A", every store's secrets move
to B, so A can be dropped; plain-text legacy values get sealed, unreadable ones are reported and kept, a dry run
writes nothing, a second run changes nothing, and no value is ever printed. All against the real test Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet

from storebot.cipher import SecretCipher, SecretUnreadable
from storebot.cli import cli
from storebot.config import load_settings
from storebot.secrets_rotation import reencrypt_secrets
from storebot.services import Services
from storebot.stores import StoreRegistry

ACME_KEY = "sk-proj-AcmeSecret0123456789"
BETA_KEY = "sk-proj-BetaSecret9876543210"
KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))


def services_with(app_config: dict[str, Any], secrets_key: str) -> Services:
    return Services(load_settings(app_config | {"SECRETS_KEY": secrets_key}, environ={}))


def make_store(services: Services, store_id: str, api_key: str) -> None:
    created, _ = services.stores.create(store_id.title(), ["https://shop.example"], store_id=store_id)
    created.settings.update({"llm_backend": "openai", "llm_model": "gpt-4o-mini", "llm_api_key": api_key})
    services.stores.save(created)


def raw(redis_client: redis.Redis, prefix: str, store_id: str) -> bytes:
    value = redis_client.get(f"{prefix}:store:{store_id}")
    assert value is not None
    return value


def reencrypt(app_config: dict[str, Any], secrets_key: str, *args: str) -> Result:
    env = {
        "REDIS_URL": str(app_config["REDIS_URL"]),
        "STOREBOT_KEY_PREFIX": str(app_config["KEY_PREFIX"]),
        "STOREBOT_DATA_DIR": str(app_config["DATA_DIR"]),
        "STOREBOT_SECRETS_KEY": secrets_key,
    }
    return CliRunner(env=env).invoke(cli, ["store", "reencrypt-secrets", *args])


def read_secret(app_config: dict[str, Any], secrets_key: str, store_id: str) -> str:
    return str(services_with(app_config, secrets_key).stores.get(store_id).settings["llm_api_key"])


def assert_no_values(output: str) -> None:
    for value in (ACME_KEY, BETA_KEY, "Secret0123", "Secret9876"):
        assert value not in output, output


def test_after_rotating_from_a_to_b_a_can_be_dropped_and_a_second_run_changes_nothing(
    app_config: dict[str, Any], redis_client: redis.Redis, key_prefix: str
) -> None:
    old = services_with(app_config, KEY_A)
    make_store(old, "acme", ACME_KEY)
    make_store(old, "beta", BETA_KEY)
    old.stores.create("Gamma", store_id="gamma")  # no secrets at all
    before = {s: json.loads(raw(redis_client, key_prefix, s)) for s in ("acme", "beta")}
    with pytest.raises(SecretUnreadable):
        read_secret(app_config, KEY_B, "acme")

    result = reencrypt(app_config, f"{KEY_B},{KEY_A}")
    assert result.exit_code == 0, result.output
    assert "acme: 1 re-encrypted, 0 sealed, 0 current" in result.output
    assert result.output.splitlines()[-1] == (
        "Re-encrypted 2 secret(s) with the first key, sealed 0 plain-text, 0 already current, 0 unreadable, "
        "in 3 store(s)."
    )
    assert_no_values(result.output)

    # Only B now: every secret still reads, and A alone no longer opens them.
    assert read_secret(app_config, KEY_B, "acme") == ACME_KEY
    assert read_secret(app_config, KEY_B, "beta") == BETA_KEY
    with pytest.raises(SecretUnreadable):
        read_secret(app_config, KEY_A, "beta")
    # Nothing but the sealed token changed: names, keys, origins and plain settings are as they were.
    for store_id, was in before.items():
        now = json.loads(raw(redis_client, key_prefix, store_id))
        assert now["settings"]["llm_api_key"] != was["settings"]["llm_api_key"]
        assert now | {"settings": {}} == was | {"settings": {}}
        assert {k: v for k, v in now["settings"].items() if k != "llm_api_key"} == {
            "llm_backend": "openai",
            "llm_model": "gpt-4o-mini",
        }

    rotated = {s: raw(redis_client, key_prefix, s) for s in ("acme", "beta", "gamma")}
    again = reencrypt(app_config, KEY_B)
    assert again.exit_code == 0, again.output
    assert "acme: 0 re-encrypted, 0 sealed, 1 current" in again.output
    assert "Re-encrypted 0 secret(s) with the first key, sealed 0 plain-text, 2 already current, 0 unreadable" in (
        again.output
    )
    assert {s: raw(redis_client, key_prefix, s) for s in rotated} == rotated  # not even re-encrypted again


def test_a_dry_run_reports_what_would_change_and_writes_nothing(
    app_config: dict[str, Any], redis_client: redis.Redis, key_prefix: str
) -> None:
    make_store(services_with(app_config, KEY_A), "acme", ACME_KEY)
    legacy = json.loads(raw(redis_client, key_prefix, "acme"))
    legacy["settings"]["other_api_key"] = BETA_KEY  # plain text, as saved before encryption existed
    redis_client.set(f"{key_prefix}:store:acme", json.dumps(legacy))
    before = raw(redis_client, key_prefix, "acme")

    result = reencrypt(app_config, f"{KEY_B},{KEY_A}", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith(
        "Dry run, nothing written: would re-encrypt 1 secret(s) with the first key, would seal 1 plain-text"
    )
    assert_no_values(result.output)
    assert raw(redis_client, key_prefix, "acme") == before
    with pytest.raises(SecretUnreadable):
        read_secret(app_config, KEY_B, "acme")

    report = reencrypt_secrets(services_with(app_config, f"{KEY_B},{KEY_A}").stores, dry_run=True)
    assert report.dry_run and report.ok and not report.stores[0].written
    assert report.totals() == {"rotated": 1, "sealed": 1, "current": 0, "unreadable": 0}
    assert raw(redis_client, key_prefix, "acme") == before


def test_a_plain_text_secret_from_before_encryption_gets_sealed(
    app_config: dict[str, Any], redis_client: redis.Redis, key_prefix: str
) -> None:
    services = services_with(app_config, KEY_B)
    services.stores.create("Acme", store_id="acme")
    legacy = json.loads(raw(redis_client, key_prefix, "acme"))
    legacy["settings"] = {"llm_backend": "openai", "llm_api_key": ACME_KEY}
    redis_client.set(f"{key_prefix}:store:acme", json.dumps(legacy))

    result = reencrypt(app_config, KEY_B)
    assert result.exit_code == 0, result.output
    assert "acme: 0 re-encrypted, 1 sealed, 0 current" in result.output
    assert_no_values(result.output)
    stored = raw(redis_client, key_prefix, "acme").decode()
    assert ACME_KEY not in stored and "Secret0123" not in stored
    assert json.loads(stored)["settings"]["llm_api_key"]["fernet"].startswith("gAAAA")
    assert read_secret(app_config, KEY_B, "acme") == ACME_KEY
    assert services.stores.get("acme").settings["llm_backend"] == "openai"


def test_a_secret_no_configured_key_opens_is_reported_kept_and_exits_1(
    app_config: dict[str, Any], redis_client: redis.Redis, key_prefix: str
) -> None:
    make_store(services_with(app_config, KEY_C), "acme", ACME_KEY)  # C was never listed in SECRETS_KEY
    make_store(services_with(app_config, KEY_A), "beta", BETA_KEY)
    acme_before = raw(redis_client, key_prefix, "acme")

    result = reencrypt(app_config, f"{KEY_B},{KEY_A}")
    assert result.exit_code == 1, result.output
    assert "acme: 0 re-encrypted, 0 sealed, 0 current; cannot decrypt: llm_api_key" in result.output
    assert "beta: 1 re-encrypted" in result.output
    assert "1 secret(s) could not be decrypted and were left as they are: acme llm_api_key." in result.output
    assert "Add the old key that encrypted them to STOREBOT_SECRETS_KEY" in result.output
    assert_no_values(result.output)
    assert raw(redis_client, key_prefix, "acme") == acme_before  # left as is: the right key may come back
    assert read_secret(app_config, KEY_B, "beta") == BETA_KEY  # the readable store was rotated all the same

    report = reencrypt_secrets(services_with(app_config, f"{KEY_B},{KEY_A}").stores)
    assert report.unreadable() == [("acme", "llm_api_key")] and not report.ok
    assert ACME_KEY not in json.dumps(report.to_dict())

    fixed = reencrypt(app_config, f"{KEY_B},{KEY_A},{KEY_C}")  # the fix the message gives
    assert fixed.exit_code == 0 and "acme: 1 re-encrypted" in fixed.output, fixed.output
    assert read_secret(app_config, KEY_B, "acme") == ACME_KEY


def test_a_store_whose_record_is_unreadable_is_reported_and_left_untouched(
    app_config: dict[str, Any], redis_client: redis.Redis, key_prefix: str
) -> None:
    make_store(services_with(app_config, KEY_A), "beta", BETA_KEY)
    redis_client.sadd(f"{key_prefix}:stores", "broken")
    redis_client.set(f"{key_prefix}:store:broken", b'{"id": "broken", "settings": {"llm_api_key"')

    result = reencrypt(app_config, f"{KEY_B},{KEY_A}")
    assert result.exit_code == 1, result.output
    assert "broken: left as is: its record is not readable JSON" in result.output
    assert "1 store(s) could not be re-encrypted" in result.output
    assert raw(redis_client, key_prefix, "broken") == b'{"id": "broken", "settings": {"llm_api_key"'
    assert read_secret(app_config, KEY_B, "beta") == BETA_KEY


class SavingMidwayCipher(SecretCipher):
    """A real cipher that, the first time it looks at a token, lets a concurrent save (the web server) land."""

    def __init__(self, keys: list[str], concurrent_save: Any) -> None:
        super().__init__(keys)
        self.concurrent_save = concurrent_save

    def is_current(self, token: str) -> bool:
        if self.concurrent_save is not None:
            save, self.concurrent_save = self.concurrent_save, None
            save()
        return super().is_current(token)


def test_a_save_that_lands_during_the_rotation_is_kept_and_the_store_is_read_again(
    app_config: dict[str, Any], redis_client: redis.Redis, key_prefix: str
) -> None:
    server = services_with(app_config, f"{KEY_B},{KEY_A}")
    make_store(services_with(app_config, KEY_A), "acme", ACME_KEY)

    def merchant_changes_model() -> None:
        found = server.stores.get("acme")
        found.settings["llm_model"] = "gpt-4.1-mini"
        found.origins = ["https://new.example"]
        server.stores.save(found)

    cipher = SavingMidwayCipher([KEY_B, KEY_A], merchant_changes_model)
    report = reencrypt_secrets(StoreRegistry(redis_client, prefix=key_prefix, cipher=cipher))
    # The server's save (re-encrypting with B itself) won; the retry then found the secret current.
    assert report.ok and report.totals() == {"rotated": 0, "sealed": 0, "current": 1, "unreadable": 0}
    found = services_with(app_config, KEY_B).stores.get("acme")
    assert found.settings["llm_model"] == "gpt-4.1-mini" and found.origins == ["https://new.example"]
    assert found.settings["llm_api_key"] == ACME_KEY


def test_help_gives_the_rotation_procedure(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["store", "reencrypt-secrets", "--help"])
    assert result.exit_code == 0, result.output
    assert "--dry-run" in result.output and "STOREBOT_SECRETS_KEY=new,old" in result.output
    assert "once it reports 0 unreadable: STOREBOT_SECRETS_KEY=new" in result.output

"""Store secrets (llm_api_key) are encrypted in Redis with Fernet: round trip, legacy plain values, a wrong
key, rotation and the embedded default key, all against the real test Redis."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from cryptography.fernet import Fernet

from storebot.cipher import SecretCipher, SecretUnreadable
from storebot.cli import cli
from storebot.config import load_settings
from storebot.errors import ConfigError
from storebot.llm.registry import spec_for_store
from storebot.services import Services

API_KEY = "sk-proj-TopSecret0123456789"


def raw_store(redis_client: redis.Redis, prefix: str, store_id: str) -> str:
    return redis_client.get(f"{prefix}:store:{store_id}").decode()  # type: ignore[union-attr]


def services_with(app_config: dict[str, object], secrets_key: str) -> Services:
    return Services(load_settings(app_config | {"SECRETS_KEY": secrets_key}, environ={}))


def set_api_key(services: Services, store_id: str, value: str = API_KEY) -> None:
    found = services.stores.get(store_id)
    found.settings["llm_api_key"] = value
    services.stores.save(found)


def test_the_cli_stores_the_key_encrypted_and_the_chat_reads_it_plain(
    runner: CliRunner, services: Services, store: tuple[str, str], redis_client: redis.Redis, key_prefix: str
) -> None:
    result = runner.invoke(cli, ["store", "config", "acme", "llm_backend=openai", f"llm_api_key={API_KEY}"])
    assert result.exit_code == 0, result.output
    assert "llm_api_key = ***" in result.output and API_KEY not in result.output
    raw = raw_store(redis_client, key_prefix, "acme")
    assert API_KEY not in raw and "TopSecret" not in raw
    assert json.loads(raw)["settings"]["llm_api_key"]["fernet"].startswith("gAAAA")  # a Fernet token
    # The web app's services read what the CLI wrote: both use the key generated once under DATA_DIR.
    settings = services.stores.get("acme").settings
    assert settings["llm_api_key"] == API_KEY and settings["llm_backend"] == "openai"
    assert spec_for_store(settings, services.settings).api_key == API_KEY
    assert API_KEY not in repr(settings) and services.stores.get("acme").to_dict()["settings"]["llm_api_key"] == "***"


def test_a_plain_value_from_before_encryption_is_read_and_encrypted_on_the_next_save(
    services: Services, store: tuple[str, str], redis_client: redis.Redis, key_prefix: str
) -> None:
    legacy = json.loads(raw_store(redis_client, key_prefix, "acme"))
    legacy["settings"] = {"llm_backend": "openai", "llm_api_key": API_KEY}
    redis_client.set(f"{key_prefix}:store:acme", json.dumps(legacy))
    found = services.stores.get("acme")
    assert found.settings["llm_api_key"] == API_KEY
    found.settings["llm_model"] = "gpt-4o-mini"
    services.stores.save(found)
    assert API_KEY not in raw_store(redis_client, key_prefix, "acme")
    assert services.stores.get("acme").settings["llm_api_key"] == API_KEY


def test_a_wrong_key_is_a_clear_error_when_the_chat_needs_the_secret(
    app_config: dict[str, Any], services: Services, store: tuple[str, str], embedder: Any, tmp_path: Path
) -> None:
    from storebot.app import create_app

    right, wrong = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    set_api_key(services_with(app_config, right), "acme")
    app = create_app(app_config | {"SECRETS_KEY": wrong})
    app.extensions["storebot"].__dict__["embedder"] = embedder
    stores = app.extensions["storebot"].stores
    found = stores.get("acme")  # the store itself still loads: auth, listing and the CLI keep working
    assert "llm_api_key" in found.settings
    with pytest.raises(SecretUnreadable) as caught:
        spec_for_store(found.settings, app.config)
    assert "cannot be decrypted" in caught.value.message and "STOREBOT_SECRETS_KEY" in caught.value.fix

    response = app.test_client().post(
        f"/api/v1/chat?key={found.publishable_key}", json={"message": "Do you have tents?"}
    )
    body = response.get_json()
    assert response.status_code == 503 and body["error"]["code"] == "secret_unreadable", body
    assert "storebot store config" in body["error"]["fix"] and API_KEY not in json.dumps(body)

    env = {
        "REDIS_URL": str(app_config["REDIS_URL"]),
        "STOREBOT_KEY_PREFIX": str(app_config["KEY_PREFIX"]),
        "STOREBOT_DATA_DIR": str(tmp_path / "other-data"),
        "STOREBOT_SECRETS_KEY": wrong,
    }
    shown = CliRunner(env=env).invoke(cli, ["store", "config", "acme"])
    assert shown.exit_code == 0 and "llm_api_key = ***" in shown.output, shown.output
    # The fix: set the key again under the new SECRETS_KEY (or clear it), without the old key.
    fixed = CliRunner(env=env).invoke(cli, ["store", "config", "acme", "llm_api_key=sk-new"])
    assert fixed.exit_code == 0, fixed.output
    assert stores.get("acme").settings["llm_api_key"] == "sk-new"
    cleared = CliRunner(env=env).invoke(cli, ["store", "config", "acme", "llm_api_key="])
    assert "llm_api_key = (default)" in cleared.output and "llm_api_key" not in stores.get("acme").settings


def test_rotation_the_first_key_encrypts_every_key_decrypts(
    app_config: dict[str, Any], store: tuple[str, str], redis_client: redis.Redis, key_prefix: str
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    set_api_key(services_with(app_config, old), "acme")
    before = raw_store(redis_client, key_prefix, "acme")
    with pytest.raises(SecretUnreadable):
        services_with(app_config, new).stores.get("acme").settings["llm_api_key"]  # noqa: B018

    rotating = services_with(app_config, f"{new}, {old}")
    found = rotating.stores.get("acme")
    assert found.settings["llm_api_key"] == API_KEY
    found.settings["llm_model"] = "gpt-4o-mini"  # any save re-encrypts with the first key
    rotating.stores.save(found)
    assert raw_store(redis_client, key_prefix, "acme") != before
    assert services_with(app_config, new).stores.get("acme").settings["llm_api_key"] == API_KEY
    with pytest.raises(SecretUnreadable):
        services_with(app_config, old).stores.get("acme").settings["llm_api_key"]  # noqa: B018


def test_a_save_without_reading_keeps_a_secret_it_cannot_decrypt(
    app_config: dict[str, Any], store: tuple[str, str]
) -> None:
    right, wrong = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    set_api_key(services_with(app_config, right), "acme")
    other = services_with(app_config, wrong)
    assert "llm_api_key" in other.stores.get("acme").settings
    other.stores.set_origins("acme", ["https://new.example"])  # saves the store: the sealed key is kept as is
    found = services_with(app_config, right).stores.get("acme")
    assert found.settings["llm_api_key"] == API_KEY and found.origins == ["https://new.example"]


def test_the_embedded_default_key_is_generated_once_0600_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = SecretCipher.from_settings({"SECRETS_KEY": ""}, tmp_path / "data")
    assert not (tmp_path / "data" / "secrets.key").exists()  # lazily: nothing until a secret is used
    with caplog.at_level(logging.WARNING, logger="storebot.cipher"):
        token = first.encrypt(API_KEY)
    keyfile = tmp_path / "data" / "secrets.key"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert any(str(keyfile) in r.getMessage() for r in caplog.records)
    assert [p.name for p in keyfile.parent.iterdir()] == ["secrets.key"]  # no temporary file left behind
    caplog.clear()
    second = SecretCipher.from_settings({"SECRETS_KEY": ""}, tmp_path / "data")
    assert second.decrypt(token) == API_KEY and not caplog.records  # read, not generated again


def test_a_malformed_secrets_key_is_a_config_error_that_says_how_to_generate_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        SecretCipher.from_settings({"SECRETS_KEY": "not-a-key"}, tmp_path).encrypt("x")
    assert "Fernet.generate_key()" in caught.value.fix

"""The settings registry, the app factory and the README's settings table."""

from __future__ import annotations

import pytest

from storebot.config import SETTINGS, load_settings, settings_table
from storebot.errors import ConfigError
from tests.conftest import ROOT


def test_defaults_then_environment_then_overrides() -> None:
    env = {"STOREBOT_MAX_UPLOAD_MB": "7", "REDIS_URL": "redis://example:1/0"}
    settings = load_settings({"MAX_UPLOAD_MB": 9}, environ=env)
    assert settings["MAX_UPLOAD_MB"] == 9
    assert settings["REDIS_URL"] == "redis://example:1/0"
    assert load_settings(environ=env)["MAX_UPLOAD_MB"] == 7
    assert load_settings(environ={})["DATA_DIR"] == ".storebot"


def test_bad_values_and_unknown_names_say_how_to_fix() -> None:
    with pytest.raises(ConfigError) as bad:
        load_settings(environ={"STOREBOT_PORT": "eighty"})
    assert "STOREBOT_PORT" in bad.value.message and "Default: 8000" in bad.value.fix
    with pytest.raises(ConfigError, match="Unknown setting 'NOPE'"):
        load_settings({"NOPE": 1}, environ={})


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_table() in readme, "README's settings table is stale: paste `storebot settings` into it"
    assert all(s.env_var in readme for s in SETTINGS)


def test_readme_leads_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_code = readme.index("```")
    block = readme[first_code : readme.index("```", first_code + 3)]
    assert "make demo" in block and "make test" in block
    assert readme.index("make demo") < readme.index("## ")


def test_create_app_uses_test_config(app_config: dict[str, object]) -> None:
    from storebot.app import create_app

    app = create_app({**app_config, "MAX_UPLOAD_MB": 3})
    assert app.config["MAX_CONTENT_LENGTH"] == 3 << 20
    assert app.extensions["celery"].conf.task_acks_late is True
    assert app.test_client().get("/healthz").get_json()["ok"] is True

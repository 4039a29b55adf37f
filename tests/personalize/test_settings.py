"""Settings: defaults, environment, TOML, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalize.settings import SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings({}, config_path="")
    assert (settings.store_url, settings.host, settings.port, settings.workers) == ("memory://", "127.0.0.1", 8000, 1)
    assert settings.tracking.session_half_life_minutes == 45
    assert settings.tracking.weights == {"product_view": 1, "click": 2, "add_to_cart": 5, "purchase": 10}
    assert settings.trending.weights == {"product_view": 1, "add_to_cart": 3, "purchase": 10}


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "pz.toml"
    config.write_text('port = 9000\napi_key = "from-file"\n[tracking]\nsession_half_life_minutes = 30\n')
    env = {
        "PZ_CONFIG": str(config),
        "PZ_API_KEY": "from-env",
        "PZ_CORS_ORIGINS": "https://a.example, https://b.example",
        "PZ_TRENDING__WEIGHTS": "product_view=2,purchase=20",
    }
    settings = load_settings(env)
    assert (settings.port, settings.api_key) == (9000, "from-env")
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.tracking.session_half_life_minutes == 30
    assert settings.trending.weights == {"product_view": 2, "purchase": 20}


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PZ_PORT": "eighty"}, "PZ_PORT"),
        ({"PZ_PORT": "70000"}, "PZ_PORT"),
        ({"PZ_STORE_URL": "postgres://x"}, "memory:// or redis://"),
        ({"PZ_WORKERS": "2"}, "needs a shared store"),
        ({"PZ_TRACKING__SESSION_HALF_LIFE_MINUTES": "-1"}, "PZ_TRACKING__SESSION_HALF_LIFE_MINUTES"),
        ({"PZ_TRACKING__BOGUS": "1"}, "PZ_TRACKING__BOGUS"),
        ({"PZ_TRENDING__WEIGHTS": "view"}, "PZ_TRENDING__WEIGHTS"),
        ({"PZ_CURRENCY": "dollars"}, "PZ_CURRENCY"),
    ],
)
def test_a_bad_value_names_the_key(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words.replace("*", r"\*")):
        load_settings(env, config_path="")


def test_a_bad_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "pz.toml"
    config.write_text("port = [\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"PZ_CONFIG": str(config)})
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings({"PZ_CONFIG": str(tmp_path / "missing.toml")})
    config.write_text("[tracking]\nsesion_half_life_minutes = 3\n")
    with pytest.raises(SettingsError, match=r"unknown setting 'tracking.sesion_half_life_minutes'"):
        load_settings({"PZ_CONFIG": str(config)})


def test_several_workers_need_redis_and_a_shared_secret() -> None:
    with pytest.raises(SettingsError, match="PZ_IDENTITY_SECRET"):
        load_settings({"PZ_WORKERS": "2", "PZ_STORE_URL": "redis://localhost:1/0"}, config_path="")
    env = {"PZ_WORKERS": "2", "PZ_STORE_URL": "redis://localhost:1/0", "PZ_IDENTITY_SECRET": "s"}
    assert load_settings(env, config_path="").workers == 2

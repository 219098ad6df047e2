from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.config import load_settings
from tocsin.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOCSIN_DB", "TOCSIN_DATA_DIR", "TOCSIN_CONFIG", "TOCSIN_LANGUAGES"):
        monkeypatch.delenv(name, raising=False)


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'tocsin.db'}"


def test_layers_file_then_environment_then_flags(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text('[tocsin]\ndb = "sqlite:///from-file.db"\nbatch_size = 7\n'
                      '[tocsin.limits]\nmax_file_bytes = 1234\n')
    settings = load_settings(config)
    assert (settings.db, settings.batch_size, settings.limits.max_file_bytes) == (
        "sqlite:///from-file.db", 7, 1234)
    monkeypatch.setenv("TOCSIN_DB", "sqlite:///from-env.db")
    assert load_settings(config).db == "sqlite:///from-env.db"
    assert load_settings(config, db="sqlite:///from-flag.db").db == "sqlite:///from-flag.db"


def test_config_file_in_the_data_dir_is_found(tmp_path: Path) -> None:
    (tmp_path / "tocsin.toml").write_text("[tocsin]\nbatch_size = 3\n")
    assert load_settings(data_dir=tmp_path).batch_size == 3


def test_errors_name_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text("[tocsin]\nbatch_sise = 3\n")
    with pytest.raises(ConfigError, match="batch_sise"):
        load_settings(config)
    config.write_text('[tocsin]\nlanguages = ["en", "xx"]\n')
    with pytest.raises(ConfigError, match=r"languages.*xx"):
        load_settings(config)
    config.write_text("[tocsin\n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(config)


def test_cli_reports_a_bad_config_without_a_traceback(tocsin, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_BATCH_SIZE", "0")
    result = tocsin("documents")
    assert result.exit_code == 1
    assert "batch_size" in result.output and "Traceback" not in result.output


def test_environment_beats_a_table_in_the_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text("[tocsin.limits]\nmax_file_bytes = 1000\nmax_document_chars = 77\n")
    monkeypatch.setenv("TOCSIN_LIMITS__MAX_FILE_BYTES", "5")
    limits = load_settings(config).limits
    assert (limits.max_file_bytes, limits.max_document_chars) == (5, 77)

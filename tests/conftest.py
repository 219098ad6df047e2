from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tocsin.cli import app
from tocsin.config import Limits
from tocsin.indicators.detect import Detector
from tocsin.pipeline import make_text_stage
from tocsin.text.language import LanguageIdentifier
from tocsin.text.prepare import TextStage

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def languages() -> LanguageIdentifier:
    return LanguageIdentifier(("en", "fr", "ru", "uk"))


@pytest.fixture(scope="session")
def text_stage() -> TextStage:
    return make_text_stage(("en", "fr", "ru", "uk"), Limits(), now=NOW)


CLI = Callable[..., Result]


@pytest.fixture(scope="session")
def pack_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compiled-pack cache for the whole session: compiling takes seconds."""
    return tmp_path_factory.mktemp("pack-cache")


@pytest.fixture(scope="session")
def detector(pack_cache: Path) -> Detector:
    return Detector.load("nuclear", pack_cache)


@pytest.fixture
def tocsin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pack_cache: Path) -> CLI:
    """Run the tocsin CLI against a fresh data dir; returns the click Result."""
    for name in ("TOCSIN_DB", "TOCSIN_DATA_DIR", "TOCSIN_CONFIG", "TOCSIN_PACK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOCSIN_CACHE_DIR", str(pack_cache))
    runner = CliRunner()
    data_dir = tmp_path / "data"

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--data-dir", str(data_dir), *args], input=input,
                             catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, pack_cache: Path) -> Path:
    """The demo registry and corpus ingested once for the whole session, through the
    library (as `tocsin demo` does). Tests that change a store take `demo_store`."""
    from tocsin.api import Tocsin, load

    data = tmp_path_factory.mktemp("demo-session") / ".demo-data"
    with pytest.MonkeyPatch.context() as patch:
        for name in ("TOCSIN_DB", "TOCSIN_DATA_DIR", "TOCSIN_CONFIG", "TOCSIN_PACK",
                     "TOCSIN_CHANNELS", "TOCSIN_WATCH"):
            patch.delenv(name, raising=False)
        settings = load(None, data_dir=data, cache_dir=pack_cache, deliver_wait=0)
        with Tocsin(settings) as t:
            t.demo()
    return data


@pytest.fixture
def demo_store(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               pack_cache: Path) -> Path:
    """A private copy of the session's demo store (its data dir), for a test that
    changes it; TOCSIN_* settings cleared, the compiled pack shared."""
    import shutil

    for name in ("TOCSIN_DB", "TOCSIN_DATA_DIR", "TOCSIN_CONFIG", "TOCSIN_PACK",
                 "TOCSIN_CHANNELS", "TOCSIN_WATCH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOCSIN_CACHE_DIR", str(pack_cache))
    target = tmp_path / ".demo-data"
    shutil.copytree(demo_dir, target)
    return target

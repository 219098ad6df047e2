"""The README documents every command and every setting (docs checked by tests)."""

from __future__ import annotations

from pathlib import Path

import typer

from tocsin.cli import app
from tocsin.config import Fetch, Limits, Settings

README = (Path(__file__).parent.parent / "README.md").read_text("utf-8")


def commands(typer_app: typer.Typer, prefix: str = "") -> list[str]:
    names = [f"{prefix}{c.name or c.callback.__name__}" for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        names += commands(group.typer_instance, f"{prefix}{group.name} ")
    return names


def test_every_command_is_in_the_readme() -> None:
    missing = [name for name in commands(app) if f"tocsin {name}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme() -> None:
    names = [n for n in Settings.model_fields if n not in ("limits", "fetch")]
    names += [f"limits.{n}" for n in Limits.model_fields]
    names += [f"fetch.{n}" for n in Fetch.model_fields]
    assert [n for n in names if f"`{n}`" not in README] == []


def test_every_channel_setting_is_in_the_readme() -> None:
    from tocsin.alerts.channels import ChannelConfig

    assert [n for n in ChannelConfig.model_fields
            if n not in ("queue_size",) and f"`{n}`" not in README] == []

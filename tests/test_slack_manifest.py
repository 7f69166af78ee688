"""The app manifest asks Slack for exactly what the listeners handle."""

from __future__ import annotations

import yaml

from bot.config import PROJECT_ROOT

MANIFEST = PROJECT_ROOT / "slack" / "manifest.yaml"


def test_manifest_matches_the_listeners() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "assistant_thread_started", "assistant_thread_context_changed"
    }  # fmt: skip
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ask"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "assistant:write",
        "channels:history",  # conversations.replies: a thread's earlier turns after a restart
        "groups:history",
    } <= scopes
    # channel posts still only reach the bot as @mentions: no message.channels subscription

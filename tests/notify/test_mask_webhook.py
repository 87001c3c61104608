"""How a webhook URL is listed (matcher.notify.base.mask_webhook): its scheme, host and port,
and the last 4 characters of a long path and query; never the token a Slack or Zapier URL
carries there, nor credentials."""

from __future__ import annotations

import pytest

from matcher.notify.base import mask_webhook, shown_address


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://hooks.slack.com/services/T0AAA/B0BBB/s3cr3tT0k3nXyZ9",
            "https://hooks.slack.com/…XyZ9",
        ),
        ("https://hooks.zapier.com/hooks/catch/123456/s3cr3tab/", "https://hooks.zapier.com/…3tab"),
        ("https://hooks.example.org/hook?token=s3cr3tT0k3n0001", "https://hooks.example.org/…0001"),
        ("https://hooks.example.org/a", "https://hooks.example.org/…"),  # short: nothing of it
        ("https://user:s3cr3t@Hooks.Example.org:8443/x", "https://hooks.example.org:8443/…"),
        ("http://[2606:4700::1111]:8080/s3cr3t", "http://[2606:4700::1111]:8080/…"),
        ("https://hooks.example.org", "https://hooks.example.org/…"),
        ("http://hooks.example.org:99999/s3cr3t", "(a URL)…"),  # a bad port: nothing of it
    ],
)
def test_a_webhook_url_is_masked(url: str, shown: str) -> None:
    assert mask_webhook(url) == shown
    assert "s3cr3t" not in mask_webhook(url)


def test_only_webhook_addresses_are_masked() -> None:
    assert shown_address("group@example.org") == "group@example.org"
    assert shown_address(None) is None
    assert shown_address(" https://hooks.example.org/s3cr3t ") == "https://hooks.example.org/…"

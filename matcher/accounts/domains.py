"""Does an e-mail address belong to an organisation's web domain?"""

from __future__ import annotations

from urllib.parse import urlsplit

# Addresses anyone can get, and hosts that serve many unrelated sites: never a proof of
# belonging to an organisation (an address there needs an admin's approval).
SHARED_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "google.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.net",
        "mail.com",
        "yandex.com",
        "zoho.com",
        "facebook.com",
        "wixsite.com",
        "wordpress.com",
        "blogspot.com",
        "squarespace.com",
        "weebly.com",
        "github.io",
        "linktr.ee",
        "sites.google.com",
    }
)


def website_host(website: str | None) -> str | None:
    """The lower-case host of a website (with or without a scheme), without `www.`."""
    if not website or not website.strip():
        return None
    text = website.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    host = host.rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


def domain_matches(email_domain: str, website: str | None) -> bool:
    """True when the address's domain is the website's host (without `www.`) or a subdomain
    of it (`mail.harbour.org` for `harbour.org`), and neither is a shared host. A website on a
    subdomain of the address's domain (`parks.city.gov` for `city.gov`) does not match: a parent
    domain may host many unrelated sites, so an admin decides."""
    host = website_host(website)
    domain = email_domain.lower().rstrip(".")
    if host is None or not domain:
        return False
    if domain in SHARED_DOMAINS or host in SHARED_DOMAINS:
        return False
    if any(host.endswith("." + shared) for shared in SHARED_DOMAINS):
        return False
    return domain == host or domain.endswith("." + host)

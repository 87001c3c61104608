"""Partner Matcher engine: complementary cross-sector partners for community needs."""

__version__ = "0.1.0"

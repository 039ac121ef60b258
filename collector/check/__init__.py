"""Checking links on the web: fetching, per-host politeness, verdicts, and the network-down rule."""

"""Digest and check reports: built from plain values, rendered as text."""

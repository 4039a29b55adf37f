"""Marketer-authored banner rules and the matching engine (pure)."""

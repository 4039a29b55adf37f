"""Recommenders: pure functions and models over interactions (no HTTP, no Redis, no clock reads)."""

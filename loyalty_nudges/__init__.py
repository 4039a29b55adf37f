"""Loyalty tiers, points, nudges, coupons and segments (pure)."""

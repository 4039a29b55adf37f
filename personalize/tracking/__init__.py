"""Tracking: browser events, what they add to profiles and trending, and reading profiles back."""

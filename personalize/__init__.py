"""The personalization server: HTTP API, settings, identity, profiles, stores and CLI."""

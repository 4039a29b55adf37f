"""Trained models: training artifacts offline, loading the newest one to serve."""

"""Sub-commands of the ``personalize`` console script that work on data and models."""

"""The page view: its context, the placement registry, recommendations, banners and nudges."""

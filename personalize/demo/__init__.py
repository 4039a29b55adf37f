"""The demo store: loading its data and the HTML of its storefront."""

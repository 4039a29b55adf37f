"""The loyalty side at the edge: orders and refunds, the customer's standing, coupons, jobs."""

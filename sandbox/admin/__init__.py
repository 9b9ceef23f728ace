"""The sandbox's own API under ``/__sandbox``: admin routes, the dashboard and the docs page,
behind the origin rule, the admin token and the admin document."""

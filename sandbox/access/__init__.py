"""Who may call: credentials (API keys, HTTP schemes, OAuth tokens), plans and rate limits."""

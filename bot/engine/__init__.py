"""The answer engine: retrieval in, a verified answer out. Knows nothing of Slack or terminals."""

"""The Slack front-end: a Bolt app serving the answer engine over Socket Mode or HTTP."""

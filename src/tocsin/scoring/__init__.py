"""Scoring: Admiralty credibility now; baselines and the escalation index next."""

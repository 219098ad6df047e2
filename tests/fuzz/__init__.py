"""Fuzzing ingest: a generated corpus of hostile inputs and Hypothesis strategies."""

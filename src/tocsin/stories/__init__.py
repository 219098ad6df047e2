"""Stories: near-duplicates, attribution, echo chains, independence."""

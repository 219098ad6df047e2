"""Text stage: extraction, normalisation, language, sentences, dates."""

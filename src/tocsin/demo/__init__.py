"""The bundled demo corpus and its fictional source registry (see README.md here)."""

"""Ben opened the notebook and submitted it untouched."""

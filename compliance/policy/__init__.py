"""Strict schemas and loaders for the YAML under controls/ and policies/."""

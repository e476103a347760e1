"""Threat models per service: facts detected from code and infrastructure, the STRIDE threat
library (threatmodels/library/), the per-service model files, and their review checks."""

"""Payments service: card charges and refunds for the Acme checkout."""

"""Data residency: the policy (allowed regions per data class or service), the cloud region
tables, and the resolution of where each resource's data lives."""

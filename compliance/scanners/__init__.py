"""Scanner adapters, one module per tool, behind the Protocol in `interface`."""

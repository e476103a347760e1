"""compliance: security and compliance scanning for CI."""

# The one place the version is written (pyproject.toml reads it: [tool.hatch.version]);
# a literal, so that no command pays ~26 ms importing importlib.metadata to learn it.
__version__ = "0.1.0"

__all__ = ["__version__"]

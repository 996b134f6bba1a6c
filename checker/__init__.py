"""topocheck: proves or refutes properties of web-system architectures."""

__version__ = "0.1.0"

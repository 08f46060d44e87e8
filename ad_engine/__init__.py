"""The automatic differentiation engine."""

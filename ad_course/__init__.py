"""Helpers of the lectures built on the engine: plots, measurements, traces, physics examples."""

"""Shared library of the muscle-atrophy assistant: settings, knowledge, wording, safety, processes."""

"""Rasa input channels of the assistant: each checks and redacts messages before Rasa sees them."""

"""Benchmarks and load tests: the project against stock Rasa, over real HTTP on loopback."""

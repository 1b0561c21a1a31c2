"""Running, testing and benchmarking the processes: not shipped with the product."""

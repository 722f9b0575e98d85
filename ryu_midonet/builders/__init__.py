"""Plain-dict topologies shaped like the store's objects, for simulator tests and tools."""

"""The simulator's core: packets and results, frames, the context devices see, the walk."""

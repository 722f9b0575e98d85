"""The per-host agent's logic, apart from the os-ken application that drives it."""

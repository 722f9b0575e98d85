"""Virtual devices, one module each: what a device does with a packet entering it."""

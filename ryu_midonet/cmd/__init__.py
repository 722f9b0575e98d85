"""Command-line entry points of ryu-midonet."""

"""The os-ken applications of ryu-midonet: the per-host agent and its feature apps."""

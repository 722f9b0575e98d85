"""Health monitoring of load-balancer pools: TCP connect probes of each pool's members, run by
one agent per pool elected through the store, with their results written as member status.

- :mod:`.election` the per-pool leases that elect the probing agent
- :mod:`.probes`   the probe state machine of a pool's members, and TCP connect probes
- :mod:`.prober`   the thread that probes one pool from inside its namespace
- :mod:`.wiring`   the router port, namespace and binding through which probes leave
- :mod:`.status`   member and pool status, written to the store when it changes
- :mod:`.pools`    which pools are monitored, with what settings, from the topology
"""

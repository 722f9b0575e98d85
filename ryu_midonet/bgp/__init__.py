"""BGP uplinks: one FRR bgpd per bound router port of a router with an AS number.

:mod:`.config` renders FRR's configuration from the topology and the commands that move a
running bgpd from one configuration to the next; :mod:`.rib` reads what bgpd says (session
states, learned routes); :mod:`.bgpd` runs and supervises the daemon in a namespace.
"""

"""The VXLAN gateway's control plane towards hardware VTEPs (``hardware_vtep`` OVSDB).

- :mod:`.proxy`: the flooding proxy of a VTEP, elected among its tunnel zone's hosts;
- :mod:`.desired`: what a VTEP's database should hold, from the topology and MAC tables;
- :mod:`.sync`: reading the switch and writing that state in one OVSDB transaction;
- :mod:`.connection`: a connection to one switch's database through ovsdbapp.

:mod:`ryu_midonet.apps.vtep` runs them for the VTEPs this host owns.
"""

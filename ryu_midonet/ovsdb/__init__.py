"""Open vSwitch databases: the local switch of each host (ovsdbapp)."""

"""Rule chains: evaluation, conditions, one module per rule type, connection tracking, NAT."""

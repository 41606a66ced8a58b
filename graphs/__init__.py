"""The reasoning graph: state, nodes (plan → retrieve → solve → verify → compose) and wiring."""

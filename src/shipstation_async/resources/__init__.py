"""Resource bindings: one module per ShipStation resource."""

"""The sandbox's HTTP side: the server, its middleware chain, the router and handlers."""

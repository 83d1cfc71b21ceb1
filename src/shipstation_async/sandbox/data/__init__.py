"""The sandbox's generated data: the catalog, seed tables and orders derived from a seed."""

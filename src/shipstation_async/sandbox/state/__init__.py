"""The sandbox's state: one backend per resource kind, and the business rules of its writes.

Both the HTTP handlers and the mutation workload change the state only through these
backends; every write emits one change record through :class:`.changes.ChangeFeed`.
"""

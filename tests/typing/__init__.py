"""Code a user writes, checked by ``mypy --strict`` (the README's test command runs it).

Nothing here talks to a server: the functions that call the client are never awaited; the
models are built for real by ``test_user_code.py`` so that what type-checks also runs.
"""

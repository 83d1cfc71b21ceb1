"""How the command line ends: its exit statuses, and the one-line errors it prints.

Every command follows the same rules: 0 when it did its job, 1 when it ran and failed (the
API refused or could not be reached, a file could not be written), 2 for a usage error
(options that cannot work together, missing credentials, an output it must not touch),
130 when interrupted (Ctrl-C). Errors are one line on stderr, never with the API
secret in them.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from ._redact import Redactor
from .errors import AuthenticationError, ConfigurationError, TransportError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

PROG = "shipstation-async"

EXIT_STATUS = (
    "exit status: 0 done; 1 failed (the API refused or could not be reached, a file could not "
    "be written); 2 usage error (bad or conflicting options, missing credentials, an output "
    "the command must not touch); 130 interrupted (Ctrl-C; a backfill that wrote records "
    "continues with the same command and --resume)."
)
"""The exit statuses, as every command's help states them."""

ENVIRONMENT = (
    "environment: SHIPSTATION_API_KEY and SHIPSTATION_API_SECRET (the credentials; not needed "
    "with --sandbox), SHIPSTATION_BASE_URL (the API's address when --base-url is not given), "
    "SHIPSTATION_WEBHOOK_TOKEN (webhooks listen)."
)
"""The environment variables the commands read."""

CREDENTIAL_VARIABLES = ("SHIPSTATION_API_KEY", "SHIPSTATION_API_SECRET")


def usage(message: str) -> int:
    """Print a usage error and return its exit status (2)."""
    _print(message)
    return EXIT_USAGE


def report(exc: BaseException, where: str | None = None) -> int:
    """Print what went wrong in one line and return the exit status it calls for.

    A :class:`ConfigurationError` is a usage error (2): the options or the environment cannot
    work. Anything else (the API's answers, the network, the disk) is a failure (1). ``where``
    names the file a SQLite error is about.
    """
    if isinstance(exc, sqlite3.Error):
        _print(f"{where or 'SQLite'}: {exc}")
        return EXIT_FAILED
    message = str(exc) + "".join(f"; {note}" for note in getattr(exc, "__notes__", ()))
    if isinstance(exc, AuthenticationError):
        message += (
            "; check the API key and secret (SHIPSTATION_API_KEY and SHIPSTATION_API_SECRET) "
            "and the address they are sent to (--base-url, SHIPSTATION_BASE_URL)"
        )
    elif isinstance(exc, TransportError):
        message += "; check the API's address (--base-url, SHIPSTATION_BASE_URL)"
    _print(message)
    return EXIT_USAGE if isinstance(exc, ConfigurationError) else EXIT_FAILED


def credentials_problem() -> str | None:
    """What is missing of the API credentials in the environment, in the command's terms."""
    missing = [name for name in CREDENTIAL_VARIABLES if not os.environ.get(name)]
    if not missing:
        return None
    return (
        f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: export the "
        "API key and secret of your ShipStation account (Settings > Account > API Settings) in "
        "SHIPSTATION_API_KEY and SHIPSTATION_API_SECRET; or try the command with --sandbox (an "
        "embedded sandbox, no credentials), or with --base-url against a `shipstation-async "
        "sandbox serve` (its key and secret: sandbox-key, sandbox-secret)"
    )


def directory_problem(path: str | Path, option: str) -> str | None:
    """Why ``path`` (given with ``option``) cannot be created: its directory is missing."""
    directory = Path(path).parent
    if directory.is_dir():
        return None
    if directory.exists():
        return f"{option} {path}: {directory} is not a directory"
    return f"{option} {path}: the directory {directory} does not exist"


def _print(message: str) -> None:
    print(f"{PROG}: error: {_without_secret(message)}", file=sys.stderr, flush=True)


def _without_secret(text: str) -> str:
    # The client keeps the secret out of its errors; this holds for text from anywhere else.
    secret = os.environ.get("SHIPSTATION_API_SECRET", "")
    return Redactor([secret]).text(text) if secret.strip() else text

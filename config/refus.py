"""The one kind of error meant for a person: a request refused, for a reason said in French.

Every layer may raise it (rules, forms, adapters, actions); the edges show its message as it is —
the command line prints one line, the web shows it on the page, a Prefect run ends Failed with it.
Any other exception is a fault of the program, not a mistake of the person.
"""
from __future__ import annotations


class Refus(Exception):
    """A request that cannot be carried out; ``str(exc)`` is one French sentence for the SA."""

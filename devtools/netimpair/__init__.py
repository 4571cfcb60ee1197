"""A network impairment relay of our own for the call tests and the benchmark (issue 17).

`core` holds the rules (cut, loss, token-bucket cap, delay and jitter) with
no I/O; `relay.ImpairmentRelay` applies them to UDP on loopback, usually in
front of the TURN server with relay-only ICE so that all media cross it.
``python -m devtools.netimpair --target-port 3478 --profile loss-5`` runs one.
"""

from __future__ import annotations

from devtools.netimpair.core import PROFILES, Drop, Impairment, Link, NetImpairError, Profile
from devtools.netimpair.relay import ImpairmentRelay

__all__ = ["PROFILES", "Drop", "Impairment", "ImpairmentRelay", "Link", "NetImpairError", "Profile"]

"""Fault-injecting TCP proxy for loopback tests of the uplink."""

from devtools.faultproxy.proxy import (
    Fault,
    FaultProxy,
    RandomSchedule,
    Schedule,
    ScriptedSchedule,
    always,
)

__all__ = ["Fault", "FaultProxy", "RandomSchedule", "Schedule", "ScriptedSchedule", "always"]

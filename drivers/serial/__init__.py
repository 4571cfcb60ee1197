"""Serial measuring devices: the Accutorr protocol (pure), its pyserial driver, and a pty simulator.

Further monitor protocols (A&D, Omron, SunTech) go in as sibling protocol modules
behind the same `MonitorProtocol` seam (see drivers/serial/monitor_protocol.py).
"""

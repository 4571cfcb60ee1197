"""PC/SC card reader: pure APDU and BER-TLV layers, the CardProfile seam,
the pyscard adapter and driver, and the vpcd simulator.

Heavy or system-bound parts (pyscard, subprocesses) are imported lazily by
the modules that need them, so that importing the pure core is cheap.
"""

from drivers.card.errors import CardError, CardErrorReason, CardProtocolError, CardTransportError

__all__ = ["CardError", "CardErrorReason", "CardProtocolError", "CardTransportError"]

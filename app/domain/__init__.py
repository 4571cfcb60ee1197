"""The pure core of a consultation: identity, consent, measurements, trace, and the session flow.

No Qt, no I/O, no clock reads: values in, values or a typed error out
(see docs/domain.md).
"""

"""The words both sides of the kiosk share: devices, quantities, the NIR check.

Pure: no Qt, no I/O, and nothing of `app/` or `drivers/` (both import it;
tests/test_house_rules.py checks the direction). Adding a device touches its
row in `vocabulary.devices.CATALOGUE`, its parser and driver, its FHIR profile
and its catalogue lines, nothing else (docs/architecture.md).
"""

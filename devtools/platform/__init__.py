"""The reference platform: a small FHIR endpoint for the demo and the tests.

`create_app(db_path, extensions=...)` builds the aiohttp application;
`devtools.platform.testing.running_platform` runs it on loopback for a test;
`python -m devtools.platform` runs it alone, `... dump` prints what it holds.
"""

from devtools.platform.app import STORE_KEY, create_app

__all__ = ["STORE_KEY", "create_app"]

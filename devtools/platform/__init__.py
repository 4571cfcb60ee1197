"""The reference platform: a small FHIR endpoint for the demo and the tests.

`create_app(db_path, cabins=..., extensions=...)` builds the aiohttp application
(without enrolled cabins only if `open_test_mode=True` is asked);
`devtools.platform.testing.running_platform` runs it on loopback for a test;
`python -m devtools.platform --cabin ID:SECRET_FILE[:DOCTORS]` runs it alone,
`... dump` prints what it holds.
"""

from devtools.platform.app import STORE_KEY, create_app

__all__ = ["STORE_KEY", "create_app"]

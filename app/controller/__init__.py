"""The session controller: the one application service between the UI, the devices and the flow.

Qt-free and asyncio-only, so it is tested without a screen and driven by
qasync in the app. See docs/controller.md.
"""

"""Person tests: the real windowed kiosk on an X server, driven from outside like a hand."""

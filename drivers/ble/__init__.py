"""BLE measuring devices: GATT parsers (pure), bleak-based drivers, and the simulated air.

Import the submodules you need; nothing here imports bleak, so the parsers load
on a machine with no Bluetooth stack (as the `kiosk devices decode` command needs).
"""

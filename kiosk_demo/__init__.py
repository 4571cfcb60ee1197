"""The demo's home: the whole kiosk on simulators, beside the reference platform.

Not part of the cabin's install: this folder is its own project
(kiosk_demo/pyproject.toml, installed by scripts/setup.sh together with
devtools/), which adds the `kiosk demo` subcommand through an entry point.

    command.py     `kiosk demo [--headless --out DIR]`
    world.py       the world around the kiosk: reference platform, TURN, simulators
    simulators.py  drivers' SimulatorHub with the demo's cards and QR codes
    cards.py       the fictional patients on simulated Carte Vitale cards
    qr_codes.py    the appli carte Vitale codes the demo's patient shows
    keys.py        the TEST key pair that signs those codes (private seed, public)
    doctor.py      the scripted doctor of the headless demo
    script.py      the scripted patient of the headless demo (Qt, offscreen)

The cabin's code (app/, drivers/, kiosk_config/) never imports this package;
tests/test_house_rules.py checks it.
"""

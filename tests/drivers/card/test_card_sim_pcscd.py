"""Our private pcscd: it starts with vpcd on the port we chose, and leaves nothing behind."""

from __future__ import annotations

import socket

import pytest

from drivers.card.errors import CardErrorReason, CardTransportError
from drivers.card.sim_pcscd import PcscdSandbox, free_port_pair, tcp_port_in_use
from drivers.card.sim_vpcd import VirtualCardSlot
from kiosk_demo import cards as patients
from tests.drivers.card.real_parts import missing_real_part

pytestmark = pytest.mark.integration


def test_sandbox_starts_listens_and_cleans_up() -> None:
    port = free_port_pair()
    sandbox = PcscdSandbox(vpcd_port=port)
    try:
        endpoint = sandbox.start()
    except CardTransportError as exc:  # only if pcscd truly cannot run here
        missing_real_part(f"pcscd cannot start here: {exc.message}")
    try:
        assert endpoint.private and endpoint.vpcd_port == port
        assert endpoint.client_env() == {"PCSCLITE_CSOCK_NAME": str(sandbox.socket_path)}
        assert sandbox.running
        assert tcp_port_in_use(port) and tcp_port_in_use(port + 1)  # two vpcd slots
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(sandbox.socket_path))  # pcscd answers on our socket
        log = sandbox.log_path.read_text()
        assert f"Waiting for virtual ICC on port {port}" in log
        assert "Started by systemd" in log  # socket activation, not /run/pcscd
        with pytest.raises(CardTransportError) as caught:
            PcscdSandbox(vpcd_port=port).start()
        assert caught.value.reason is CardErrorReason.NO_SERVICE
        assert caught.value.message == (
            f"TCP port {port} is already in use: another pcscd with vpcd may be running."
        )
    finally:
        sandbox.stop()
    assert not sandbox.running
    assert not tcp_port_in_use(port)
    assert not sandbox.run_dir.exists()


def test_inserting_with_no_reader_listening_is_a_typed_error() -> None:
    port = free_port_pair()
    with pytest.raises(CardTransportError) as caught:
        VirtualCardSlot(port=port).insert(patients.SINGLE_ADULT, timeout=0.5)
    assert caught.value.reason is CardErrorReason.NO_READER
    assert caught.value.message == (
        f"Nothing accepts a virtual card on 127.0.0.1:{port}: is pcscd running with the vpcd "
        "driver? (ConnectionRefusedError)"
    )


def test_a_daemon_that_cannot_start_is_a_clear_typed_error() -> None:
    port = free_port_pair()
    broken = PcscdSandbox(vpcd_port=port, pcscd="false")  # exits at once, like a broken pcscd
    with pytest.raises(CardTransportError) as caught:
        broken.start()
    assert caught.value.reason is CardErrorReason.NO_SERVICE
    assert caught.value.message == (
        "pcscd exited with status 1 while starting (last words: 'no output')."
    )
    assert not broken.run_dir.exists()  # nothing left behind
    missing = PcscdSandbox(vpcd_port=port, pcscd="no-such-pcscd")
    with pytest.raises(CardTransportError) as caught:
        missing.start()
    assert caught.value.message == "pcscd is not installed (apt package 'pcscd')."
    assert not missing.run_dir.exists()

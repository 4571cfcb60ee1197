"""pyserial made async without threads: the port's fd is watched by the event loop.

Why `loop.add_reader` rather than an executor: reads never block (timeout=0),
one read happens per readiness, and both asyncio's selector loop and qasync
support it, so nothing holds the loop or a thread. Opening the port (which can
block on a misbehaving USB adapter) and writing do go to the default executor.
A vanished port (cable pulled, pty closed) surfaces as `LinkLost`.
"""

from __future__ import annotations

import asyncio
import errno
import logging

import serial

log = logging.getLogger(__name__)


class SerialLinkError(Exception):
    """Base of the transport errors; `message` is a whole sentence for the technician log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PortNotFound(SerialLinkError):
    pass


class PortBusy(SerialLinkError):
    pass


class LinkLost(SerialLinkError):
    pass


class SerialLink:
    def __init__(self, port: str, baud_rate: int) -> None:
        self.port = port
        self.baud_rate = baud_rate
        self._serial: serial.Serial | None = None
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._lost: SerialLinkError | None = None
        self._wake = asyncio.Event()
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            ser = await loop.run_in_executor(None, self._open_blocking)
        except serial.SerialException as exc:
            code = getattr(exc, "errno", None)
            if code in (errno.ENOENT, errno.ENXIO, errno.ENODEV):
                raise PortNotFound(f"The serial port {self.port} does not exist.") from exc
            if code in (errno.EBUSY, errno.EACCES, errno.EAGAIN):
                raise PortBusy(
                    f"The serial port {self.port} is busy or not permitted ({errno.errorcode.get(code or 0, code)})."
                ) from exc
            raise PortNotFound(f"The serial port {self.port} cannot be opened.") from exc
        self._serial = ser
        self._lost = None
        loop.add_reader(ser.fileno(), self._on_readable)
        log.info("serial %s open at %d baud", self.port, self.baud_rate)

    def _open_blocking(self) -> serial.Serial:
        return serial.Serial(
            self.port,
            baudrate=self.baud_rate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=0,
            write_timeout=2,
            exclusive=True,
        )

    def _on_readable(self) -> None:
        ser = self._serial
        if ser is None:
            return
        try:
            data = ser.read(max(1, ser.in_waiting))
        except (serial.SerialException, OSError) as exc:
            self._mark_lost(exc)
            return
        if data:
            self.bytes_in += len(data)
            self._chunks.put_nowait(data)
            self._wake.set()

    def _mark_lost(self, exc: BaseException) -> None:
        ser = self._serial
        if ser is not None:
            asyncio.get_running_loop().remove_reader(ser.fileno())
        if self._lost is None:
            log.warning("serial %s lost (%s)", self.port, type(exc).__name__)
            self._lost = LinkLost(f"The serial port {self.port} went away (cable pulled?).")
        self._wake.set()

    async def write(self, data: bytes) -> None:
        ser = self._require()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, ser.write, data)
        except (serial.SerialException, OSError) as exc:
            self._mark_lost(exc)
            raise self._require_lost() from exc
        self.bytes_out += len(data)

    def _require(self) -> serial.Serial:
        if self._lost is not None:
            raise self._lost
        if self._serial is None:
            raise LinkLost(f"The serial port {self.port} is not open.")
        return self._serial

    def _require_lost(self) -> SerialLinkError:
        assert self._lost is not None
        return self._lost

    async def read(self, timeout: float) -> bytes:
        """The next chunk of bytes, b"" after `timeout` seconds of silence; LinkLost if gone."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not self._chunks.empty():
                return self._chunks.get_nowait()
            self._require()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return b""
            self._wake.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._wake.wait()
            except TimeoutError:
                return b""

    async def close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is None:
            return
        try:
            asyncio.get_running_loop().remove_reader(ser.fileno())
        except (OSError, ValueError):
            pass
        try:
            ser.close()
        except (serial.SerialException, OSError):
            pass
        log.info("serial %s closed (%d bytes in, %d out)", self.port, self.bytes_in, self.bytes_out)

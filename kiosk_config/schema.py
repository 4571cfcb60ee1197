"""The site configuration of one cabin, as a validated schema.

Every key has a type, a default where one is sensible, and a description that
the technician reads (`kiosk config check` prints errors built from it). The
file format is TOML: it takes comments, which the cabin template needs.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mode(enum.StrEnum):
    PRODUCTION = "production"
    TEST = "test"


class DeviceKindName(enum.StrEnum):
    CARD_READER = "card-reader"
    CAMERA = "camera"
    THERMOMETER = "thermometer"
    OXIMETER = "oximeter"
    TENSIOMETER = "tensiometer"


class Address(_Strict):
    street: str = Field(description="Street and number of the cabin's site.")
    postal_code: Annotated[str, Field(pattern=r"^\d{5}$")] = Field(
        description="Five-digit French postal code."
    )
    city: str = Field(description="Town of the site.")


class Site(_Strict):
    cabin_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$")] = Field(
        description="Stable identifier of this cabin; it prefixes every identifier the kiosk mints."
    )
    name: str = Field(description="Name of the hosting site (pharmacy, town hall).")
    address: Address
    insee_code: Annotated[str, Field(pattern=r"^(\d{5}|2[AB]\d{3})$")] = Field(
        description="INSEE (COG) code of the commune: the place of the patient sent to the doctor."
    )
    mode: Mode = Field(
        default=Mode.PRODUCTION,
        description="'production' refuses test identities and test OIDs; 'test' is for demo and tests.",
    )


class Timeouts(_Strict):
    inactivity_warning_s: Annotated[int, Field(ge=10, le=600)] = Field(
        default=60, description="Seconds without a touch before the 'are you still there?' warning."
    )
    inactivity_countdown_s: Annotated[int, Field(ge=5, le=120)] = Field(
        default=30,
        description="Seconds of countdown on the warning before the session is abandoned.",
    )
    card_removed_grace_s: Annotated[int, Field(ge=5, le=300)] = Field(
        default=60, description="Seconds to wait for the card to come back before asking again."
    )
    device_connect_s: Annotated[float, Field(gt=0, le=120)] = Field(
        default=10.0,
        description="Seconds to connect to a measuring device before it counts as failed.",
    )
    device_measure_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=90.0, description="Seconds to wait for a reading once a measurement has started."
    )
    call_reconnect_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=30.0,
        description="Seconds to try to reconnect a dropped call before the degraded path.",
    )


class Device(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")] = Field(
        description="Name of the device in this cabin, used in traces (e.g. 'thermo-1')."
    )
    kind: DeviceKindName = Field(description="What the device is.")
    backend: Literal["real", "simulated"] = Field(
        default="real", description="'simulated' uses the built-in simulator (demo and tests)."
    )
    ble_address: str | None = Field(
        default=None, description="BLE address (thermometer, oximeter)."
    )
    serial_port: str | None = Field(default=None, description="Serial port (tensiometer).")
    baud_rate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = Field(
        default=9600, description="Serial baud rate (tensiometer)."
    )
    reader_name: str | None = Field(
        default=None, description="PC/SC reader name, or a prefix of it (card reader)."
    )
    camera_index: Annotated[int, Field(ge=0)] = Field(default=0, description="OpenCV camera index.")
    protocol: str | None = Field(
        default=None,
        description="Protocol module for devices that speak several (e.g. 'accutorr', 'berrymed').",
    )

    @model_validator(mode="after")
    def _transport_given(self) -> Device:
        if self.backend == "real":
            needs = {
                DeviceKindName.THERMOMETER: "ble_address",
                DeviceKindName.OXIMETER: "ble_address",
                DeviceKindName.TENSIOMETER: "serial_port",
            }.get(self.kind)
            if needs is not None and getattr(self, needs) is None:
                raise ValueError(f"a real {self.kind} device needs '{needs}'")
        return self


class Platform(_Strict):
    url: str = Field(description="Base URL of the platform (FHIR endpoint and signalling).")
    ca_file: Path | None = Field(
        default=None, description="CA certificate file that signs the platform's TLS certificate."
    )
    client_cert_file: Path | None = Field(
        default=None, description="This cabin's client certificate (optional mutual TLS)."
    )
    client_key_file: Path | None = Field(
        default=None, description="Key of the cabin's client certificate."
    )
    health_path: str = Field(default="/health", description="Path of the platform health endpoint.")
    health_interval_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0, description="Seconds between two platform health checks."
    )
    ice_servers: tuple[IceServer, ...] = Field(
        default=(), description="STUN/TURN servers for the call."
    )


class IceServer(_Strict):
    urls: tuple[str, ...] = Field(description="stun: or turn: URLs.")
    username: str | None = None
    credential: str | None = None


class Storage(_Strict):
    data_dir: Path = Field(
        default=Path("/var/lib/telecabine"),
        description="Folder of the encrypted database (and, in demo/test, its key file).",
    )
    retention_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        default=7, description="Days to keep data the platform has acknowledged before purging it."
    )
    max_buffer_mb: Annotated[int, Field(ge=1)] = Field(
        default=512, description="Unsent-buffer size that raises a maintenance incident."
    )
    max_unsent_age_hours: Annotated[int, Field(ge=1)] = Field(
        default=48, description="Age of the oldest unsent data that raises a maintenance incident."
    )


class NearbyPlace(_Strict):
    name: str = Field(description="Name of the place (medical centre, doctor's office).")
    address: str = Field(description="Address, as the patient would look for it.")
    phone: str | None = Field(default=None, description="Phone number, if any.")
    hours: str | None = Field(default=None, description="Opening hours, in plain words.")


class EmergencyNumbers(_Strict):
    samu: str = Field(default="15", description="SAMU (medical emergency).")
    european: str = Field(default="112", description="European emergency number.")
    deaf: str = Field(
        default="114",
        description="Emergency number for deaf and hard-of-hearing people (SMS/visio).",
    )
    poison: str | None = Field(
        default=None, description="Poison centre, if the site wants it shown."
    )
    suicide_prevention: str = Field(default="3114", description="National suicide prevention line.")


class KioskConfig(_Strict):
    site: Site
    languages: tuple[Literal["fr", "en", "ar"], ...] = Field(
        default=("fr", "en", "ar"),
        min_length=1,
        description="Languages offered; the first is the default.",
    )
    timeouts: Timeouts = Field(default_factory=Timeouts)
    devices: tuple[Device, ...] = Field(default=(), description="Devices of the cabin.")
    platform: Platform
    storage: Storage = Field(default_factory=Storage)
    nearby_places: tuple[NearbyPlace, ...] = Field(
        default=(), description="Places for an in-person consultation (charte §1.2)."
    )
    emergency: EmergencyNumbers = Field(default_factory=EmergencyNumbers)

    @model_validator(mode="after")
    def _unique_device_ids(self) -> KioskConfig:
        seen: set[str] = set()
        for device in self.devices:
            if device.id in seen:
                raise ValueError(f"device id '{device.id}' is used twice")
            seen.add(device.id)
        if "fr" not in self.languages:
            raise ValueError("French ('fr') must be among the languages: it is the source language")
        return self


Platform.model_rebuild()

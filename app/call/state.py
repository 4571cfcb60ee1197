"""The call's life as a table (h11 style): states, triggers, allowed moves.

Rules:
- A session is announced to the waiting list once (IDLE → WAITING).
- A doctor taking the patient starts negotiation (WAITING → CONNECTING); a
  doctor coming back during a reconnection keeps RECONNECTING until media flow.
- Media flowing is the only way into IN_CALL.
- A drop (signalling peer gone, media stalled, ICE failed) moves IN_CALL or
  CONNECTING to RECONNECTING; the reconnection window is the caller's timer.
- END is allowed from every state but ENDED; ENDED is final.
An illegal trigger raises IllegalTransition and leaves the state unchanged.
"""

from __future__ import annotations

import enum

from app.call.errors import IllegalTransition


class CallState(enum.StrEnum):
    IDLE = "idle"
    WAITING = "waiting"
    CONNECTING = "connecting"
    IN_CALL = "in-call"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


class Trigger(enum.StrEnum):
    ANNOUNCE = "announce"
    DOCTOR_JOINED = "doctor-joined"
    MEDIA_UP = "media-up"
    DROP = "drop"
    END = "end"


_S, _T = CallState, Trigger

TRANSITIONS: dict[tuple[CallState, Trigger], CallState] = {
    (_S.IDLE, _T.ANNOUNCE): _S.WAITING,
    (_S.WAITING, _T.DOCTOR_JOINED): _S.CONNECTING,
    (_S.CONNECTING, _T.DOCTOR_JOINED): _S.CONNECTING,
    (_S.RECONNECTING, _T.DOCTOR_JOINED): _S.RECONNECTING,
    (_S.CONNECTING, _T.MEDIA_UP): _S.IN_CALL,
    (_S.RECONNECTING, _T.MEDIA_UP): _S.IN_CALL,
    (_S.CONNECTING, _T.DROP): _S.RECONNECTING,
    (_S.IN_CALL, _T.DROP): _S.RECONNECTING,
    (_S.RECONNECTING, _T.DROP): _S.RECONNECTING,
    **{(state, _T.END): _S.ENDED for state in CallState if state is not _S.ENDED},
}


class CallStateMachine:
    def __init__(self) -> None:
        self._state = CallState.IDLE

    @property
    def state(self) -> CallState:
        return self._state

    def can(self, trigger: Trigger) -> bool:
        return (self._state, trigger) in TRANSITIONS

    def fire(self, trigger: Trigger) -> CallState:
        try:
            self._state = TRANSITIONS[(self._state, trigger)]
        except KeyError:
            raise IllegalTransition(self._state.value, trigger.value) from None
        return self._state

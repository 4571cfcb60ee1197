"""The send-side classifier fed by the doctor's receiver reports: properties over any sample.

Why these rules matter (docs/call-network.md): the kiosk used to judge its own
video by its own decoder and gave up video at 2 % loss where a browser keeps
it. With the doctor's decoded frame rate at hand, the frames decide.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.call.quality import (
    FAIR_RTT_MS,
    FRAMES_SEEN_POOR_LOSS,
    QualityLevel,
    QualityMonitor,
    QualitySample,
    classify,
    fps_thresholds,
    rr_fraction_lost,
)

ORDER = {QualityLevel.GOOD: 0, QualityLevel.FAIR: 1, QualityLevel.POOR: 2}
rtts = st.one_of(st.none(), st.floats(min_value=0, max_value=2000))
losses = st.floats(min_value=0, max_value=1)
fpss = st.floats(min_value=0, max_value=60)
sent = st.one_of(st.none(), st.sampled_from([10.0, 15.0, 30.0]))


@given(rtts, losses, fpss, fpss, sent)
def test_more_frames_seen_never_make_a_worse_level(
    rtt: float | None, loss: float, a: float, b: float, sent_fps: float | None
) -> None:
    low, high = sorted((a, b))
    worse = classify(QualitySample(rtt, loss, low, sent_fps))
    better = classify(QualitySample(rtt, loss, high, sent_fps))
    assert ORDER[better] <= ORDER[worse]


@given(st.floats(min_value=0, max_value=FAIR_RTT_MS), losses, sent)
def test_frames_seen_at_the_sent_rate_are_poor_only_for_heavy_loss(
    rtt: float, loss: float, sent_fps: float | None
) -> None:
    rate = sent_fps if sent_fps is not None else 30.0
    level = classify(QualitySample(rtt, loss, rate, sent_fps))
    assert (level is QualityLevel.POOR) == (loss > FRAMES_SEEN_POOR_LOSS)


@given(rtts, losses, fpss, st.floats(min_value=0.3, max_value=1.0))
def test_a_second_the_doctor_saw_frozen_is_poor(
    rtt: float | None, loss: float, fps: float, freeze: float
) -> None:
    assert classify(QualitySample(rtt, loss, fps, 30.0, freeze)) is QualityLevel.POOR
    # without a frame rate the freeze is not the kiosk's to judge (no video expected)
    assert classify(QualitySample(rtt, loss, None, None, freeze)) is classify(
        QualitySample(rtt, loss, None)
    )


@given(sent)
def test_thresholds_never_ask_more_than_the_rung_sends(sent_fps: float | None) -> None:
    good, fair = fps_thresholds(sent_fps)
    assert 0 < fair < good
    if sent_fps is not None:
        assert good < sent_fps


@given(st.lists(st.floats(min_value=0.0, max_value=0.15), min_size=1, max_size=40))
def test_a_lossy_line_the_doctor_sees_well_never_costs_the_video(loss_run: list[float]) -> None:
    """Chromium keeps 20 fps at 10 % loss: reports of full frames keep the kiosk on its top rung."""
    monitor = QualityMonitor()
    for loss in loss_run:
        decision = monitor.feed(QualitySample(rtt_ms=40.0, loss=loss, fps=29.0))
        assert not decision.step_down and not decision.fall_back_to_audio
    assert monitor.rung == 0 and not monitor.audio_only


@given(st.integers(min_value=1, max_value=12))
def test_frames_the_doctor_does_not_see_step_down_then_give_audio_only(poor: int) -> None:
    monitor = QualityMonitor()
    rungs, fell_back = [monitor.rung], False
    for _ in range(poor):
        decision = monitor.feed(QualitySample(rtt_ms=40.0, loss=0.01, fps=2.0))
        rungs.append(monitor.rung)
        fell_back = fell_back or decision.fall_back_to_audio
    assert all(b - a in (0, 1) for a, b in zip(rungs, rungs[1:], strict=False))
    # two POOR per rung down, then three on the last rung
    assert fell_back == (poor >= 2 * (len(monitor.ladder) - 1) + 3)


@given(st.integers(min_value=0, max_value=255))
def test_the_receiver_reports_byte_reads_as_a_fraction(raw: int) -> None:
    fraction = rr_fraction_lost(float(raw))
    assert 0.0 <= fraction < 1.0
    assert abs(fraction * 256 - raw) < 1e-9


def test_aiortc_still_copies_the_receiver_reports_raw_byte() -> None:
    """The pin's canary: if aiortc starts dividing by 256 itself, rr_fraction_lost must go."""
    import inspect

    from aiortc.rtcrtpsender import RTCRtpSender

    source = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "fractionLost=report.fraction_lost," in source

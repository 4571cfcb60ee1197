"""A missing pcscd skips on a developer's machine and fails under CI."""

from __future__ import annotations

import pytest

from tests.drivers.card.real_parts import missing_real_part


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_under_ci_a_missing_part_fails(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as caught:
        missing_real_part("pcscd is absent.")
    assert str(caught.value) == (
        "pcscd is absent. CI is set, so this real part must be present "
        "(scripts/setup.sh installs it); failing instead of skipping."
    )


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_elsewhere_a_missing_part_skips(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception) as caught:
        missing_real_part("pcscd is absent.")
    assert str(caught.value) == "pcscd is absent."

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.maintenance import totp
from tests.maintenance.conftest import T0

# RFC 6238 appendix B test secret ("12345678901234567890") in base32.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def test_rfc6238_vector_sha1_six_digits() -> None:
    # RFC 6238: T = 59 s gives 94287082 with 8 digits; 6 digits keep the last six.
    moment = datetime.fromtimestamp(59, tz=T0.tzinfo)
    assert totp.code_at(RFC_SECRET, moment) == "287082"
    assert totp.matching_step(RFC_SECRET, "287082", moment) == 1


def test_window_is_one_step_each_side() -> None:
    secret = totp.new_secret()
    step = totp.step_at(T0)
    previous = totp.code_at(secret, T0 - timedelta(seconds=30))
    following = totp.code_at(secret, T0 + timedelta(seconds=30))
    too_old = totp.code_at(secret, T0 - timedelta(seconds=60))
    assert totp.matching_step(secret, previous, T0) == step - 1
    assert totp.matching_step(secret, following, T0) == step + 1
    if too_old not in {previous, following, totp.code_at(secret, T0)}:
        assert totp.matching_step(secret, too_old, T0) is None


def test_spaces_are_ignored_and_junk_is_refused() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, T0)
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", T0) == totp.step_at(T0)
    assert totp.matching_step(secret, "12345", T0) is None
    assert totp.matching_step(secret, "12a456", T0) is None
    assert totp.matching_step(secret, "", T0) is None


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        totp.step_at(datetime(2026, 1, 1))  # noqa: DTZ001


def test_provisioning_uri_names_issuer_user_and_parameters() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "marie.dupont")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parsed.path == "/T%C3%A9l%C3%A9cabine:marie.dupont"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Télécabine"]
    # what an authenticator app computes from the URI is what the kiosk expects
    parsed_otp = pyotp.parse_uri(uri)
    assert isinstance(parsed_otp, pyotp.TOTP)
    assert parsed_otp.at(T0) == totp.code_at(secret, T0)


def test_secret_has_160_bits() -> None:
    assert len(totp.new_secret()) == 32  # 32 base32 characters = 160 bits


@given(st.text(max_size=12))
def test_any_text_as_code_gives_a_step_or_none(code: str) -> None:
    result = totp.matching_step(RFC_SECRET, code, T0)
    assert result is None or abs(result - totp.step_at(T0)) <= 1


# Issue 18: a code typed in fullwidth or Arabic-Indic digits raised TypeError
# (hmac.compare_digest refuses non-ASCII text), so nothing was counted or audited.
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.mark.parametrize("table", [FULLWIDTH, ARABIC_INDIC, DEVANAGARI])
def test_decimal_digits_of_any_script_are_the_same_code(table: dict[int, str]) -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, T0)
    assert totp.normalise_code(code.translate(table)) == code
    assert totp.matching_step(secret, code.translate(table), T0) == totp.step_at(T0)
    # with a no-break or an ideographic space in the middle
    spaced = code[:3].translate(table) + "\u3000" + code[3:].translate(table) + "\u00a0"
    assert totp.matching_step(secret, spaced, T0) == totp.step_at(T0)


@pytest.mark.parametrize(
    "typed",
    [
        "²³⁴⁵⁶⁷",
        "①②③④⑤⑥",
        "12345",
        "1234567",
        "12a456",
        "\ud800" * 6,
        "1" * 6 + "\x00",
        "9" * 10_000,
    ],
)
def test_what_is_not_six_decimal_digits_is_no_code(typed: str) -> None:
    assert totp.normalise_code(typed) is None
    assert totp.matching_step(RFC_SECRET, typed, T0) is None


@given(
    st.text(
        alphabet=st.characters(categories=["Nd", "No", "Nl", "Zs"]) | st.characters(),
        max_size=80,
    )
)
def test_any_unicode_digits_give_a_step_or_none_never_an_exception(code: str) -> None:
    result = totp.matching_step(RFC_SECRET, code, T0)
    assert result is None or abs(result - totp.step_at(T0)) <= 1
    normal = totp.normalise_code(code)
    assert normal is None or (len(normal) == 6 and normal.isascii() and normal.isdigit())

"""Sign-in throttling: the sliding window's arithmetic and the keys of an attempt. No I/O."""

import pytest

from contracts.errors import TooManyRequests
from services.identity import throttle
from services.identity.throttle import Limits, retry_after

WINDOW = 900


def test_under_the_limit_an_attempt_may_be_made_now():
    assert retry_after([], 5, WINDOW, 1000.0) == 0
    assert retry_after([100.0, 200.0, 300.0, 400.0], 5, WINDOW, 1000.0) == 0


def test_at_the_limit_the_attempt_waits_until_the_oldest_leaves_the_window():
    failures = [200.0, 300.0, 400.0, 500.0, 600.0]
    assert retry_after(failures, 5, WINDOW, 1000.0) == 100  # 200 + 900 - 1000
    assert retry_after(list(reversed(failures)), 5, WINDOW, 1000.0) == 100  # any order


def test_over_the_limit_enough_must_leave_to_come_below_it():
    failures = [200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0]  # 7 in the window, limit 5: three must go
    assert retry_after(failures, 5, WINDOW, 1000.0) == 300  # the third oldest, 400, leaves at 1300


def test_failures_outside_the_window_do_not_count():
    failures = [50.0, 99.0, 100.0, 500.0, 600.0, 700.0]  # 100 is exactly window-old at 1000: out
    assert retry_after(failures, 5, WINDOW, 1000.0) == 0
    assert retry_after(failures + [800.0, 900.0], 5, WINDOW, 1000.0) == 400


def test_the_window_slides():
    failures = [200.0, 300.0, 400.0, 500.0, 600.0]
    assert retry_after(failures, 5, WINDOW, 1099.0) == 1
    assert retry_after(failures, 5, WINDOW, 1100.0) == 0  # 200 has left
    assert retry_after(failures, 5, WINDOW, 1099.9) == 1  # never 0 while refused: rounded up


def test_future_failures_do_not_count():  # clock skew between processes: only the past counts
    assert retry_after([2000.0] * 10, 5, WINDOW, 1000.0) == 0


def test_check_refuses_with_the_longest_wait_of_any_key():
    limits = {"account:a": 5, "address:1.2.3.4": 20}
    account = [100.0 * i for i in range(2, 7)]  # 5 failures: waits until 200 + 900
    address = [950.0] * 20  # 20 failures: waits until 950 + 900
    with pytest.raises(TooManyRequests) as caught:
        throttle.check({"account:a": account, "address:1.2.3.4": address}, limits, WINDOW, 1000.0)
    assert caught.value.status == 429 and caught.value.code == "too_many_requests"
    assert caught.value.details == {"retry_after": 850}
    assert caught.value.fields == {}
    throttle.check({"account:a": account[:4], "address:1.2.3.4": address[:19]}, limits, WINDOW, 1000.0)
    throttle.check({}, limits, WINDOW, 1000.0)


def test_the_account_key_hides_the_email_and_ignores_its_spelling():
    key = throttle.account_key(" Anna.Petrova@School.Example.org ")
    assert key == throttle.account_key("anna.petrova@school.example.org")
    assert key.startswith("account:") and "anna" not in key and "example" not in key
    assert key != throttle.account_key("anna.petrova@school.example.com")


@pytest.mark.parametrize(
    "address, key",
    [
        ("203.0.113.7", "address:203.0.113.7"),
        (" 203.0.113.7 ", "address:203.0.113.7"),
        ("2001:DB8::0:1", "address:2001:db8::1"),
        (None, None),
        ("", None),
        ("localhost", None),
        (7, None),
    ],
)
def test_address_keys(address, key):
    assert throttle.address_key(address) == key


def test_an_attempt_is_limited_per_account_and_address_and_per_address_never_per_account_alone():
    # issue 18: failures from elsewhere must not lock the owner out, so the account alone has no hard limit
    limits = Limits(account=5, address=20, window=900)
    pair = throttle.account_address_key("a@example.org", "10.0.0.1")
    assert throttle.keys(limits, "a@example.org", "10.0.0.1") == {pair: 5, "address:10.0.0.1": 20}
    assert pair == throttle.account_address_key(" A@Example.org ", "10.0.0.1")
    assert pair != throttle.account_address_key("a@example.org", "10.0.0.2")
    assert "example" not in pair and "10.0.0.1" not in pair
    assert throttle.keys(limits, "a@example.org", None) == {throttle.account_address_key("a@example.org", None): 5}
    assert throttle.account_key("a@example.org") not in throttle.keys(limits, "a@example.org", "10.0.0.1")


def test_the_account_alone_only_delays_a_few_seconds_after_its_latest_failure():
    limits = Limits(account=5, window=900, max_delay=5)
    assert limits.account_delay([100.0, 200.0, 300.0, 400.0], 401.0) == 0  # under the limit: no delay
    five = [100.0, 200.0, 300.0, 400.0, 500.0]
    assert limits.account_delay(five, 500.0) == 1  # the 5th failure: 1 s after it
    assert limits.account_delay(five, 500.5) == 1
    assert limits.account_delay(five, 501.0) == 0
    assert limits.account_delay(five + [501.0], 501.0) == 2  # 6 failures: 2 s
    assert limits.account_delay(five + [501.0, 502.0], 502.0) == 4
    many = [900.0 + i for i in range(40)]
    assert limits.account_delay(many, 939.0) == 5  # never more than max_delay
    assert limits.account_delay(many, 944.0) == 0
    assert limits.account_delay(five, 1400.0) == 0  # the window slid past them


def test_check_waits_for_the_account_delay_when_no_key_is_over_its_limit():
    with pytest.raises(TooManyRequests) as caught:
        throttle.check({}, {"address:1.2.3.4": 20}, WINDOW, 1000.0, delay=3)
    assert caught.value.details == {"retry_after": 3}
    throttle.check({}, {"address:1.2.3.4": 20}, WINDOW, 1000.0, delay=0)


def test_registrations_are_keyed_per_address_only():
    limits = Limits(registrations=3)
    assert throttle.registration_keys(limits, "203.0.113.9") == {"register:203.0.113.9": 3}
    assert throttle.registration_keys(limits, None) == {}


def test_limits_from_config_and_defaults():
    assert Limits.from_config({}) == Limits(account=5, address=20, window=900)
    assert Limits.from_config(
        {"SIGN_IN_ACCOUNT_LIMIT": "3", "SIGN_IN_ADDRESS_LIMIT": 7, "SIGN_IN_WINDOW_SECONDS": "60"}
    ) == Limits(account=3, address=7, window=60)
    with pytest.raises(ValueError):
        Limits.from_config({"SIGN_IN_ACCOUNT_LIMIT": 0})

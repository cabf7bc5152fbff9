"""The timed RPC proxy (services/common/rpc.py, used by the gateway, identity and notifications): its
failure mapping and deadlines, with nameko's MethodProxy replaced by a fake (no broker).

The real broker paths (timeout, unknown service) are covered in tests/integration/test_gateway.py;
a broker connection error cannot be provoked there without stopping RabbitMQ, hence these.
"""

import time

import eventlet
import pytest
from nameko.exceptions import UnknownService

from contracts.errors import Forbidden, ServiceUnavailable
from services.common.library_internals import nameko_rpc as timed_rpc


class FakeListener:
    routing_key = "reply-key"

    def __init__(self):
        self._reply_events = {}

    def get_reply_event(self, correlation_id):
        event = eventlet.event.Event()
        self._reply_events[correlation_id] = event
        return event


def fake_method_proxy(behaviour):
    class FakeMethodProxy:
        def __init__(self, worker_ctx, service_name, method_name, reply_listener, **options):
            self.reply_listener = reply_listener
            self.options = options

        def __call__(self, *args, **kwargs):
            self.reply_listener.get_reply_event("corr-1")
            return behaviour(*args, **kwargs)

    return FakeMethodProxy


@pytest.fixture
def proxy(monkeypatch):
    listener = FakeListener()

    def make(behaviour, timeout=0.2):
        monkeypatch.setattr(timed_rpc, "DeadlineMethodProxy", fake_method_proxy(behaviour))
        return timed_rpc.TimedServiceProxy(None, "cases", listener, timeout, {}), listener

    return make


def test_result_is_returned(proxy):
    service, listener = proxy(lambda *args, **kwargs: {"args": args, "kwargs": kwargs})
    assert service.get_case({"user_id": "u"}, "c-1", flag=True) == {
        "args": ({"user_id": "u"}, "c-1"),
        "kwargs": {"flag": True},
    }


def test_errors_the_service_raised_pass_through(proxy):
    def refuse(*args):
        raise Forbidden("Not yours.", details={"case_id": "c-1"})

    service, _ = proxy(refuse)
    with pytest.raises(Forbidden) as caught:
        service.get_case("c-1")
    assert caught.value.details == {"case_id": "c-1"}


@pytest.mark.parametrize(
    "failure,words,outcome",
    [
        (UnknownService("cases"), "not running", "not_done"),  # nothing consumes its queue
        (ConnectionRefusedError(111, "Connection refused"), "broker", "not_done"),  # never reached the broker
        (OSError("socket closed"), "broker", "unknown"),  # perhaps after the broker had it
    ],
)
def test_broker_failures_become_service_unavailable(proxy, failure, words, outcome):
    def fail(*args):
        raise failure

    service, _ = proxy(fail)
    with pytest.raises(ServiceUnavailable) as caught:
        service.list_cases({"user_id": "u"})
    assert "cases" in caught.value.message and words in caught.value.message
    assert caught.value.status == 503 and caught.value.details == {"service": "cases", "outcome": outcome}


def test_a_call_past_its_timeout_is_abandoned_and_forgotten(proxy):
    service, listener = proxy(lambda *args: eventlet.sleep(5), timeout=0.1)
    with pytest.raises(ServiceUnavailable) as caught:
        service.get_case("c-1")
    assert "did not answer within 0.1 s" in caught.value.message
    assert caught.value.details == {"service": "cases", "outcome": "unknown"}  # sent: it may have been done
    assert listener._reply_events == {}  # no reply event left behind


def test_with_timeout_shortens_one_call(proxy):
    service, _ = proxy(lambda *args: eventlet.sleep(5), timeout=30)
    started = eventlet.hubs.get_hub().clock()
    with pytest.raises(ServiceUnavailable):
        service.health.with_timeout(0.05)()
    assert eventlet.hubs.get_hub().clock() - started < 1


def test_an_outer_timeout_is_not_mistaken_for_the_call_timeout(proxy):
    service, _ = proxy(lambda *args: eventlet.sleep(5), timeout=30)
    with pytest.raises(eventlet.Timeout):
        with eventlet.Timeout(0.05):
            service.get_case("c-1")


def test_private_names_are_not_rpc_methods(proxy):
    service, _ = proxy(lambda *args: None)
    with pytest.raises(AttributeError):
        _ = service._secret


# ---- deadlines (services/common/rpc.py) ---------------------------------------------------


class FakeWorkerContext:
    def __init__(self, data):
        self.data = data


def test_a_call_made_while_handling_a_call_keeps_the_earlier_deadline():
    now = time.time()
    assert timed_rpc.deadline_for(None, 5) == pytest.approx(now + 5, abs=1)
    inherited = FakeWorkerContext({timed_rpc.DEADLINE_KEY: now + 1})
    assert timed_rpc.deadline_for(inherited, 5) == now + 1  # the gateway gives up sooner than our own timer
    generous = FakeWorkerContext({timed_rpc.DEADLINE_KEY: now + 60})
    assert timed_rpc.deadline_for(generous, 5) == pytest.approx(now + 5, abs=1)


def test_only_a_real_deadline_in_the_past_has_passed():
    assert timed_rpc.deadline_passed(100.0, now=100.0) and timed_rpc.deadline_passed(99, now=100.0)
    assert not timed_rpc.deadline_passed(100.5, now=100.0)
    for no_deadline in (None, "99", True, object()):  # absent or unreadable: the caller set none
        assert not timed_rpc.deadline_passed(no_deadline, now=100.0)


def test_a_call_whose_inherited_deadline_is_over_is_not_sent(monkeypatch):
    sent = []

    class Publisher:
        expiration = None

    class Never(timed_rpc.DeadlineMethodProxy):
        def __init__(self, worker_ctx, service_name, method_name, reply_listener, deadline=None, **options):
            self.deadline, self.publisher = deadline, Publisher()

        def __call__(self, *args, **kwargs):
            self.get_message_headers(None)
            sent.append(args)

    monkeypatch.setattr(timed_rpc, "DeadlineMethodProxy", Never)
    over = FakeWorkerContext({timed_rpc.DEADLINE_KEY: time.time() - 1})
    service = timed_rpc.TimedServiceProxy(over, "cases", FakeListener(), 5, {})
    with pytest.raises(ServiceUnavailable) as caught:
        service.create_case("form")
    assert sent == [] and caught.value.details == {"service": "cases", "outcome": "not_done"}


def test_a_worker_that_starts_after_its_deadline_does_not_run_the_method():
    ran = []

    class Service:
        name = "cases"

        @timed_rpc.rpc
        def create_case(self, form):
            ran.append(form)
            return "created"

    late, timely, unbounded = Service(), Service(), Service()
    late.rpc_deadline, timely.rpc_deadline, unbounded.rpc_deadline = time.time() - 0.01, time.time() + 30, None
    with pytest.raises(ServiceUnavailable) as caught:
        late.create_case("a form")
    assert ran == [] and caught.value.details == {"service": "cases", "outcome": "not_done"}
    assert timely.create_case("a form") == unbounded.create_case("a form") == "created" and len(ran) == 2

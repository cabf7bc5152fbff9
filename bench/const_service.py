"""The baseline of bench_gateway.py: a bare nameko HTTP entrypoint that answers a constant.

Run by the bench as its own process, the way the services run:
``nameko run --config <config> const_service`` (cwd bench/). POST /const takes the same JSON
body as a case creation and ignores it; GET /const is its readiness probe.
"""

from nameko.web.handlers import http

CONSTANT = '{"status": "ok"}'


class ConstantService:
    name = "bench_constant"

    @http("GET,POST", "/const")
    def constant(self, request):
        request.get_data()  # read the body, as the gateway does
        return 201 if request.method == "POST" else 200, {"Content-Type": "application/json"}, CONSTANT

"""The baseline: a hello-world function under the same functions-framework server as ours."""

from werkzeug import Request, Response


def handle(request: Request) -> Response:
    return Response('{"hello":"world"}', content_type="application/json; charset=utf-8")

"""The Werkzeug back-end of e2e/backends.

A WSGI application served by werkzeug.serving.run_simple (the server of
`flask run` and of MLflow's development server), answering every request with
200 and a JSON report of what Werkzeug resolved: PATH_INFO (the percent-decoded
path Werkzeug routes on), the raw request URI, every CGI variable HTTP_* whose
name is x-user once lower-cased with '_' read as '-' (CGI turns both X-User and
X_User into HTTP_X_USER, and joins repeats with a comma), request.args.getlist
("access_token") and request.cookies.getlist("session"). The report is also
sent base64url-encoded in the X-Resolved response header, so that HEAD
requests carry it too.

Usage: python backend.py PORT   (binds 127.0.0.1)
"""

import base64
import json
import sys

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response


def report(environ):
    """report is what Werkzeug made of the request in environ."""
    request = Request(environ)
    x_user = [
        {"name": key, "value": value}
        for key, value in sorted(environ.items())
        if key.startswith("HTTP_") and key[len("HTTP_"):].lower().replace("_", "-") == "x-user"
    ]
    return {
        "backend": "werkzeug",
        "method": environ.get("REQUEST_METHOD", ""),
        "path": environ.get("PATH_INFO", ""),
        "uri": environ.get("REQUEST_URI", environ.get("RAW_URI", "")),
        "x_user": x_user,
        "access_token": request.args.getlist("access_token"),
        "session": request.cookies.getlist("session"),
    }


def app(environ, start_response):
    body = json.dumps(report(environ)).encode()
    response = Response(body, status=200, content_type="application/json")
    response.headers["X-Resolved"] = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    return response(environ, start_response)


if __name__ == "__main__":
    run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
